"""Turning checkpoint work into scores, and putting scores in the outbox.

How a checkpoint maps to points:

- Goal progress check: a goal at p% progress scores p/100 of the checkpoint's points,
  rounded to two decimals, so 60% of a 10-point checkpoint is 6. The activity progress is
  ``Completed`` at 100% and ``InProgress`` below. A score of 0 is a real score and is sent.
- Reflection, evidence and check-in preparation: handing the work in earns the full points
  (completion credit) with activity progress ``Submitted``. Teachers who grade the quality
  of the work change the grade in the LMS gradebook.

Every score has grading progress ``FullyGraded``, because the tool computes it and no
teacher needs to review it before it counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, aliased

from ..checkpoints.models import Checkpoint, CheckpointKind, CheckpointPlacement, CheckpointWork
from ..extensions import db, utcnow
from ..lti.roles import CourseRole
from ..people.models import Enrolment, Person
from .models import OutboxScore, ScoreStatus

log = logging.getLogger(__name__)

ACTIVITY_IN_PROGRESS = "InProgress"
ACTIVITY_SUBMITTED = "Submitted"
ACTIVITY_COMPLETED = "Completed"
GRADING_FULLY_GRADED = "FullyGraded"

# Platforms ignore or reject (HTTP 409) a score whose timestamp is not later than the last
# one for the same user and line item, so timestamps step forward by at least this much.
TIMESTAMP_STEP = timedelta(milliseconds=1)


@dataclass(frozen=True)
class ScoreValues:
    score_given: float
    score_maximum: float
    activity_progress: str
    grading_progress: str = GRADING_FULLY_GRADED
    comment: str | None = None


def goal_progress_score(progress: int, points: float) -> ScoreValues:
    """Score a goal progress check: ``progress`` percent of ``points``."""
    if not 0 <= progress <= 100:
        raise ValueError(f"goal progress must be between 0 and 100, got {progress}")
    activity = ACTIVITY_COMPLETED if progress >= 100 else ACTIVITY_IN_PROGRESS
    return ScoreValues(
        score_given=round(points * progress / 100, 2),
        score_maximum=points,
        activity_progress=activity,
    )


def completion_score(points: float) -> ScoreValues:
    """Score handed-in work (reflection, evidence, check-in preparation): full points."""
    return ScoreValues(
        score_given=points, score_maximum=points, activity_progress=ACTIVITY_SUBMITTED
    )


def score_for_work(work: CheckpointWork, goal_progress: int | None) -> ScoreValues | None:
    """Return the score that ``work`` earns now, or None when there is nothing to score."""
    checkpoint = work.checkpoint
    if checkpoint.kind == CheckpointKind.GOAL_PROGRESS:
        if goal_progress is None:
            return None
        return goal_progress_score(goal_progress, checkpoint.points)
    if work.submitted_at is None:
        return None
    return completion_score(checkpoint.points)


def scored_placements(checkpoint: Checkpoint, person_id: int) -> list[CheckpointPlacement]:
    """Return the placements whose course has this person as a learner.

    A placement launched without a course context counts only for people who launched it,
    which the tool cannot tell apart, so it gets no scores.
    """
    return list(
        db.session.execute(
            select(CheckpointPlacement)
            .join(Enrolment, Enrolment.course_id == CheckpointPlacement.course_id)
            .where(
                CheckpointPlacement.checkpoint_id == checkpoint.id,
                Enrolment.person_id == person_id,
                Enrolment.course_role == CourseRole.LEARNER.value,
            )
            .order_by(CheckpointPlacement.id)
        ).scalars()
    )


def enqueue_score(
    placement: CheckpointPlacement,
    person_id: int,
    values: ScoreValues,
    now: datetime | None = None,
) -> OutboxScore:
    """Add a score to the outbox in the caller's transaction; the caller commits."""
    now = now or utcnow()
    last = db.session.execute(
        select(func.max(OutboxScore.scored_at)).where(
            OutboxScore.placement_id == placement.id, OutboxScore.person_id == person_id
        )
    ).scalar_one_or_none()
    # Scores are sent with millisecond timestamps, so the stored value is cut to whole
    # milliseconds too, and two scores can never share a sent timestamp.
    now_ms = now.replace(microsecond=now.microsecond // 1000 * 1000)
    scored_at = now_ms if last is None else max(now_ms, last + TIMESTAMP_STEP)
    row = OutboxScore(
        placement_id=placement.id,
        person_id=person_id,
        score_given=values.score_given,
        score_maximum=values.score_maximum,
        activity_progress=values.activity_progress,
        grading_progress=values.grading_progress,
        comment=values.comment,
        scored_at=scored_at,
        status=ScoreStatus.PENDING.value,
        next_attempt_at=now,
    )
    db.session.add(row)
    db.session.flush()
    db.session.info[SCORES_QUEUED] = True
    log.info("score queued outbox=%s placement=%s person=%s", row.id, placement.id, person_id)
    return row


def enqueue_work_scores(work: CheckpointWork, goal_progress: int | None) -> list[OutboxScore]:
    """Queue the score of ``work`` for every placement its student is scored in."""
    values = score_for_work(work, goal_progress)
    if values is None:
        return []
    return [
        enqueue_score(placement, work.person_id, values)
        for placement in scored_placements(work.checkpoint, work.person_id)
    ]


def enqueue_goal_progress(goal_id: int, progress: int, person_id: int) -> list[OutboxScore]:
    """Queue scores for every goal progress check that tracks this goal."""
    works = db.session.execute(
        select(CheckpointWork)
        .join(Checkpoint, Checkpoint.id == CheckpointWork.checkpoint_id)
        .where(
            CheckpointWork.goal_id == goal_id,
            CheckpointWork.person_id == person_id,
            Checkpoint.kind == CheckpointKind.GOAL_PROGRESS.value,
        )
        .order_by(CheckpointWork.id)
    ).scalars()
    rows: list[OutboxScore] = []
    for work in works:
        work.last_progress = progress
        work.updated_at = utcnow()
        rows.extend(enqueue_work_scores(work, progress))
    return rows


def on_goal_progress_changed(sender, **kwargs) -> None:
    """Receive ``goal_progress_changed`` inside the plan change's transaction."""
    goal = kwargs.get("goal")
    goal_id = getattr(goal, "id", None)
    progress = getattr(goal, "progress", None)
    plan = getattr(goal, "plan", None)
    person_id = getattr(plan, "person_id", None)
    if goal_id is None or person_id is None or not isinstance(progress, int):
        log.warning("goal progress event without goal id, progress or owner; no score queued")
        return
    enqueue_goal_progress(goal_id, progress, person_id)


SCORES_QUEUED = "ilp_scores_queued"


def _wake_sync_workers(session: Session) -> None:
    """Wake this process's in-app sync thread after a commit that queued scores."""
    if not session.info.pop(SCORES_QUEUED, False):
        return
    try:
        loop = current_app.extensions.get("ilp_grade_sync")
    except RuntimeError:
        return
    if loop is not None:
        loop.wake_event.set()


def _forget_queued_flag(session: Session) -> None:
    session.info.pop(SCORES_QUEUED, None)


def connect_receivers() -> None:
    from ..events import goal_progress_changed

    # weak=False: the receiver is a module function and lives as long as the process.
    goal_progress_changed.connect(on_goal_progress_changed, weak=False)
    if not event.contains(Session, "after_commit", _wake_sync_workers):
        event.listen(Session, "after_commit", _wake_sync_workers)
        event.listen(Session, "after_rollback", _forget_queued_flag)


@dataclass(frozen=True)
class StatusCounts:
    pending: int
    sent: int
    failed: int


def status_counts(placement_filter) -> StatusCounts:
    rows = db.session.execute(
        select(OutboxScore.status, func.count(OutboxScore.id))
        .join(CheckpointPlacement, CheckpointPlacement.id == OutboxScore.placement_id)
        .where(placement_filter)
        .group_by(OutboxScore.status)
    ).all()
    counts = dict(rows)
    return StatusCounts(
        pending=counts.get(ScoreStatus.PENDING.value, 0),
        sent=counts.get(ScoreStatus.SENT.value, 0),
        failed=counts.get(ScoreStatus.FAILED.value, 0),
    )


def outbox_rows(
    placement_filter, status: str | None = None, limit: int = 200
) -> list[OutboxScore]:
    query = (
        select(OutboxScore)
        .join(CheckpointPlacement, CheckpointPlacement.id == OutboxScore.placement_id)
        .join(Person, Person.id == OutboxScore.person_id)
        .where(placement_filter)
        .order_by(OutboxScore.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(OutboxScore.status == status)
    return list(db.session.execute(query).scalars())


def retry_failed(placement_filter, score_id: int | None = None) -> int:
    """Put failed scores back in the queue; return how many. The caller commits.

    A failed score with a newer score after it for the same student and line item stays
    failed, because sending it would replace the newer grade with an older one.
    """
    newer = aliased(OutboxScore)
    has_newer = (
        select(newer.id)
        .where(
            newer.placement_id == OutboxScore.placement_id,
            newer.person_id == OutboxScore.person_id,
            newer.id > OutboxScore.id,
        )
        .exists()
    )
    query = (
        select(OutboxScore)
        .join(CheckpointPlacement, CheckpointPlacement.id == OutboxScore.placement_id)
        .where(placement_filter, OutboxScore.status == ScoreStatus.FAILED.value, ~has_newer)
    )
    if score_id is not None:
        query = query.where(OutboxScore.id == score_id)
    rows = list(db.session.execute(query).scalars())
    now = utcnow()
    for row in rows:
        row.status = ScoreStatus.PENDING.value
        row.attempts = 0
        row.next_attempt_at = now
        row.lease_owner = None
        row.lease_expires_at = None
        row.updated_at = now
    return len(rows)
