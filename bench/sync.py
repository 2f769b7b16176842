"""The grade sync rows: scores per second sent by the sync worker to the demo LMS.

The worker is the one that ``lti-ilp sync --once --workers N`` runs, in this process, and
the demo LMS (bench/grades_lms.py) is served by gunicorn. Every timed round queues one new
score for each student of the LMS course and drains the outbox. A first, untimed round
obtains the access token and creates the line item, which later rounds reuse.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from sqlalchemy import insert, select

from lti_ilp.checkpoints.models import Checkpoint, CheckpointPlacement
from lti_ilp.extensions import db, utcnow
from lti_ilp.grades.models import OutboxScore
from lti_ilp.grades.worker import run_sync
from lti_ilp.lti import ags
from lti_ilp.people.models import Course, Person
from lti_ilp.platforms.models import Deployment

from .config import RunConfig
from .grades_lms import LMS_PLATFORM, SYNC_COURSE, sync_student

WARMUP_SCORES = 5


@dataclass(frozen=True)
class SyncResult:
    workers: int
    queued: int
    sent: int
    not_sent: int
    seconds: float

    @property
    def scores_per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class SyncTarget:
    placement_id: int
    person_ids: list[int]


def prepare_target(app: Flask, config: RunConfig) -> SyncTarget:
    """Store the LMS course, its students and one graded checkpoint placement."""
    lms = config.platforms[LMS_PLATFORM]
    with app.app_context():
        deployment_id = db.session.scalar(
            select(Deployment.id).where(Deployment.deployment_id == lms.deployment_id)
        )
        course = Course(deployment_id=deployment_id, context_id=SYNC_COURSE, title="Sync")
        checkpoint = Checkpoint(
            public_id="bench-sync-checkpoint",
            deployment_id=deployment_id,
            kind="goal_progress",
            title="Goal check",
            points=10.0,
        )
        db.session.add_all([course, checkpoint])
        db.session.flush()
        placement = CheckpointPlacement(
            checkpoint_id=checkpoint.id,
            deployment_id=deployment_id,
            resource_link_id="bench-sync-link",
            course_id=course.id,
            lineitems_url=f"{lms.issuer}/ags/courses/{SYNC_COURSE}/lineitems",
            scopes=[ags.SCOPE_LINEITEM, ags.SCOPE_SCORE],
        )
        db.session.add(placement)
        subs = [sync_student(index) for index in range(config.sync_students)]
        db.session.execute(
            insert(Person),
            [{"deployment_id": deployment_id, "sub": sub, "created_at": utcnow()} for sub in subs],
        )
        person_ids = list(
            db.session.scalars(
                select(Person.id).where(
                    Person.deployment_id == deployment_id, Person.sub.in_(subs)
                )
            )
        )
        db.session.commit()
        return SyncTarget(placement.id, person_ids)


def queue_scores(app: Flask, target: SyncTarget, person_ids: list[int], round_index: int) -> int:
    now = utcnow()
    with app.app_context():
        db.session.execute(
            insert(OutboxScore),
            [
                {
                    "placement_id": target.placement_id,
                    "person_id": person_id,
                    "score_given": float((person_id + round_index) % 11),
                    "score_maximum": 10.0,
                    "activity_progress": "Completed",
                    "grading_progress": "FullyGraded",
                    # Strictly increasing per student, as platforms require.
                    "scored_at": now + timedelta(milliseconds=round_index),
                    "status": "pending",
                    "next_attempt_at": now,
                }
                for person_id in person_ids
            ],
        )
        db.session.commit()
    return len(person_ids)


def drain_round(
    app: Flask, target: SyncTarget, person_ids: list[int], workers: int, round_index: int
) -> SyncResult:
    queued = queue_scores(app, target, person_ids, round_index)
    started = time.perf_counter()
    report = run_sync(app, once=True, workers=workers)
    seconds = time.perf_counter() - started
    return SyncResult(workers, queued, report.sent, queued - report.sent, seconds)


def measure_sync(app: Flask, config: RunConfig, worker_counts: list[int]) -> list[SyncResult]:
    target = prepare_target(app, config)
    drain_round(app, target, target.person_ids[:WARMUP_SCORES], 1, round_index=1)
    return [
        drain_round(app, target, target.person_ids, workers, round_index=index + 2)
        for index, workers in enumerate(worker_counts)
    ]
