"""Creating checkpoints, recording their placements and the students' work on them."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from ..extensions import db, upsert_insert, utcnow
from ..grades.service import enqueue_work_scores
from ..lti.roles import CourseRole
from ..people.models import Enrolment, Person
from ..plans.models import Goal, Plan
from .models import Checkpoint, CheckpointKind, CheckpointPlacement, CheckpointWork

MAX_TITLE = 200
MAX_TEXT = 5000
MAX_POINTS = 1000
DEFAULT_DOMAINS = (("academic", "Academic"), ("career", "Career"), ("personal", "Personal"))


class CheckpointFormError(ValueError):
    """Form input that cannot be saved; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


def goal_domains(deployment_id: int) -> list[tuple[str, str]]:
    """Return (key, label) of every goal domain in the deployment's plan templates."""
    from ..plan_templates.models import AUDIENCE_LEARNER, PlanTemplate

    templates = db.session.execute(
        select(PlanTemplate).where(
            PlanTemplate.deployment_id == deployment_id, PlanTemplate.audience == AUDIENCE_LEARNER
        )
    ).scalars()
    domains: dict[str, str] = {}
    for template in templates:
        for domain in template.goal_domains or []:
            if isinstance(domain, dict) and domain.get("key"):
                domains.setdefault(str(domain["key"]), str(domain.get("label") or domain["key"]))
    return list(domains.items()) or list(DEFAULT_DOMAINS)


def _parse_day(value: str, name: str, errors: dict, end_of_day: bool) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        errors[name] = "Enter a date as YYYY-MM-DD."
        return None
    # NOTE: dates are taken as UTC days; the tool has no per-school time zone setting yet.
    clock = time(23, 59, 59) if end_of_day else time(0, 0)
    return datetime.combine(day, clock, tzinfo=UTC)


@dataclass(frozen=True)
class CheckpointValues:
    kind: CheckpointKind
    title: str
    instructions: str
    goal_domain: str
    points: float
    opens_at: datetime | None
    due_at: datetime | None


def checkpoint_values(form: Mapping[str, str], domains: list[tuple[str, str]]) -> CheckpointValues:
    """Check the deep-linking form; raise ``CheckpointFormError`` with every problem."""
    errors: dict[str, str] = {}
    try:
        kind = CheckpointKind(form.get("kind", ""))
    except ValueError:
        errors["kind"] = "Choose what kind of checkpoint this is."
        kind = CheckpointKind.GOAL_PROGRESS
    title = (form.get("title") or "").strip()
    if not title:
        title = kind.label
    if len(title) > MAX_TITLE:
        errors["title"] = f"Keep the title under {MAX_TITLE} characters."
    instructions = (form.get("instructions") or "").strip()
    if len(instructions) > MAX_TEXT:
        errors["instructions"] = f"Keep the instructions under {MAX_TEXT} characters."
    domain = (form.get("goal_domain") or "").strip()
    if domain and domain not in {key for key, _ in domains}:
        errors["goal_domain"] = "Choose one of the listed goal domains, or any goal."
    points = _points(form.get("points", ""), errors)
    opens_at = _parse_day(form.get("opens_on", ""), "opens_on", errors, end_of_day=False)
    due_at = _parse_day(form.get("due_on", ""), "due_on", errors, end_of_day=True)
    if opens_at and due_at and due_at < opens_at:
        errors["due_on"] = "The due date must not be before the date the checkpoint opens."
    if errors:
        raise CheckpointFormError(errors)
    return CheckpointValues(kind, title, instructions, domain, points, opens_at, due_at)


def _points(raw: str, errors: dict) -> float:
    raw = (raw or "").strip()
    try:
        points = float(raw)
    except ValueError:
        errors["points"] = "Enter the points as a number, for example 10."
        return 0.0
    if not 0 < points <= MAX_POINTS:
        errors["points"] = f"Enter points greater than 0 and at most {MAX_POINTS}."
    return points


def create_checkpoint(deployment_id: int, author: Person, values: CheckpointValues) -> Checkpoint:
    checkpoint = Checkpoint(
        public_id=secrets.token_hex(12),
        deployment_id=deployment_id,
        created_by_id=author.id,
        kind=values.kind.value,
        title=values.title,
        instructions=values.instructions,
        goal_domain=values.goal_domain,
        points=values.points,
        opens_at=values.opens_at,
        due_at=values.due_at,
    )
    db.session.add(checkpoint)
    db.session.flush()
    return checkpoint


def is_open(checkpoint: Checkpoint) -> bool:
    """Return False before the checkpoint's window opens. Work after the due date counts,
    and the page marks it late."""
    return checkpoint.opens_at is None or utcnow() >= checkpoint.opens_at


def find_checkpoint(deployment_id: int, public_id: str) -> Checkpoint | None:
    return db.session.execute(
        select(Checkpoint).where(
            Checkpoint.deployment_id == deployment_id, Checkpoint.public_id == public_id
        )
    ).scalar_one_or_none()


def authored_checkpoints(deployment_id: int, author_id: int) -> list[Checkpoint]:
    """Return the checkpoints this teacher made before, newest first, to place again."""
    return list(
        db.session.execute(
            select(Checkpoint)
            .where(
                Checkpoint.deployment_id == deployment_id, Checkpoint.created_by_id == author_id
            )
            .order_by(Checkpoint.id.desc())
            .limit(50)
        ).scalars()
    )


class PlacementConflict(ValueError):
    """The resource link already belongs to another checkpoint."""


def record_placement(
    checkpoint: Checkpoint,
    resource_link_id: str,
    course_id: int | None,
    ags_claim: Mapping[str, Any] | None,
) -> CheckpointPlacement:
    """Create or update the placement for this resource link from the launch's AGS claim."""
    now = utcnow()
    db.session.execute(
        upsert_insert(CheckpointPlacement)
        .values(
            checkpoint_id=checkpoint.id,
            deployment_id=checkpoint.deployment_id,
            resource_link_id=resource_link_id,
            course_id=course_id,
            scopes=[],
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["deployment_id", "resource_link_id"])
    )
    placement = db.session.execute(
        select(CheckpointPlacement).where(
            CheckpointPlacement.deployment_id == checkpoint.deployment_id,
            CheckpointPlacement.resource_link_id == resource_link_id,
        )
    ).scalar_one()
    if placement.checkpoint_id != checkpoint.id:
        raise PlacementConflict(resource_link_id)
    if course_id is not None:
        placement.course_id = course_id
    _apply_ags_claim(placement, ags_claim or {})
    return placement


def find_placement(checkpoint: Checkpoint, resource_link_id: str) -> CheckpointPlacement | None:
    return db.session.execute(
        select(CheckpointPlacement).where(
            CheckpointPlacement.checkpoint_id == checkpoint.id,
            CheckpointPlacement.deployment_id == checkpoint.deployment_id,
            CheckpointPlacement.resource_link_id == resource_link_id,
        )
    ).scalar_one_or_none()


def _http_url(value: Any) -> str | None:
    if isinstance(value, str) and urlsplit(value).scheme in {"http", "https"}:
        return value
    return None


def _apply_ags_claim(placement: CheckpointPlacement, claim: Mapping[str, Any]) -> None:
    lineitem = _http_url(claim.get("lineitem"))
    lineitems = _http_url(claim.get("lineitems"))
    scopes = claim.get("scope")
    if lineitem and lineitem != placement.lineitem_url:
        placement.lineitem_url = lineitem
    if lineitems and lineitems != placement.lineitems_url:
        placement.lineitems_url = lineitems
    if isinstance(scopes, list):
        clean = sorted({scope for scope in scopes if isinstance(scope, str)})
        if clean != sorted(placement.scopes or []):
            placement.scopes = clean
    placement.updated_at = utcnow()


def work_for(checkpoint: Checkpoint, person_id: int) -> CheckpointWork | None:
    return db.session.execute(
        select(CheckpointWork).where(
            CheckpointWork.checkpoint_id == checkpoint.id, CheckpointWork.person_id == person_id
        )
    ).scalar_one_or_none()


def ensure_work(checkpoint: Checkpoint, person_id: int) -> CheckpointWork:
    work = work_for(checkpoint, person_id)
    if work is None:
        work = CheckpointWork(checkpoint_id=checkpoint.id, person_id=person_id)
        db.session.add(work)
        db.session.flush()
    return work


def candidate_goals(checkpoint: Checkpoint, person_id: int) -> list[Goal]:
    """Return the student's goals that this checkpoint can track, in its domain if it has one.

    Goals that were dropped or replaced are left out.
    """
    from ..plans.service import load_plan

    plan = load_plan(person_id)
    goals = list(plan.goals) if plan is not None else []
    result = []
    for goal in goals:
        if getattr(goal, "status", "active") in {"dropped", "revised"}:
            continue
        if checkpoint.goal_domain and getattr(goal, "domain", None) not in (
            None,
            checkpoint.goal_domain,
        ):
            continue
        result.append(goal)
    return result


def find_own_goal(person_id: int, goal_id: int) -> Goal | None:
    return db.session.execute(
        select(Goal)
        .join(Plan, Plan.id == Goal.plan_id)
        .where(Goal.id == goal_id, Plan.person_id == person_id)
    ).scalar_one_or_none()


def link_goal(work: CheckpointWork, goal: Goal, *, queue_score: bool = True) -> None:
    """Tie the work to a goal. A goal progress check then scores the goal's progress."""
    if work.goal_id == goal.id:
        return
    work.goal_id = goal.id
    work.updated_at = utcnow()
    db.session.flush()
    if work.checkpoint.kind == CheckpointKind.GOAL_PROGRESS and queue_score:
        work.last_progress = goal.progress
        enqueue_work_scores(work, goal.progress)


def submit_work(work: CheckpointWork, form: Mapping[str, str]) -> None:
    """Save a reflection, check-in preparation or evidence and queue its completion score."""
    errors: dict[str, str] = {}
    kind = CheckpointKind(work.checkpoint.kind)
    text = (form.get("text") or "").strip()
    if len(text) > MAX_TEXT:
        errors["text"] = f"Keep this under {MAX_TEXT} characters."
    evidence_url = (form.get("evidence_url") or "").strip() or None
    if kind == CheckpointKind.EVIDENCE:
        if evidence_url is None:
            errors["evidence_url"] = "Add the link to your evidence (https://...)."
        elif (
            urlsplit(evidence_url).scheme not in {"http", "https"}
            or not urlsplit(evidence_url).netloc
        ):
            errors["evidence_url"] = "Enter a full web address that starts with https://."
        elif len(evidence_url) > 2000:
            errors["evidence_url"] = "Keep the link under 2000 characters."
    elif not text:
        errors["text"] = "Write your answer before you hand it in."
    if errors:
        raise CheckpointFormError(errors)
    now = utcnow()
    work.text = text
    work.evidence_url = evidence_url if kind == CheckpointKind.EVIDENCE else None
    work.submitted_at = now
    work.updated_at = now
    enqueue_work_scores(work, None)


@dataclass(frozen=True)
class CompletionRow:
    person: Person
    work: CheckpointWork | None
    goal_progress: int | None

    @property
    def state(self) -> str:
        if self.work is None:
            return "Not started"
        if self.work.checkpoint.kind == CheckpointKind.GOAL_PROGRESS:
            if self.work.goal_id is None:
                return "Opened, no goal chosen"
            if self.goal_progress is not None and self.goal_progress >= 100:
                return "Completed"
            return "In progress"
        return "Handed in" if self.work.submitted_at else "Opened, not handed in"


def completion_rows(checkpoint: Checkpoint, course_id: int) -> list[CompletionRow]:
    """Return every learner of the course with their work on this checkpoint."""
    learners = db.session.execute(
        select(Person)
        .join(Enrolment, Enrolment.person_id == Person.id)
        .where(Enrolment.course_id == course_id, Enrolment.course_role == CourseRole.LEARNER.value)
    ).scalars()
    works = {
        work.person_id: work
        for work in db.session.execute(
            select(CheckpointWork).where(CheckpointWork.checkpoint_id == checkpoint.id)
        ).scalars()
    }
    goal_ids = [work.goal_id for work in works.values() if work.goal_id]
    progress = (
        dict(db.session.execute(select(Goal.id, Goal.progress).where(Goal.id.in_(goal_ids))).all())
        if goal_ids
        else {}
    )
    rows = [
        CompletionRow(
            person,
            works.get(person.id),
            progress.get(works[person.id].goal_id) if person.id in works else None,
        )
        for person in learners
    ]
    return sorted(rows, key=lambda row: row.person.display_name.casefold())
