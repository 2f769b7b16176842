"""Check-ins: the generated agenda, notes, participants and next steps."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from ..extensions import db
from ..people.models import Person
from ..plans import audit
from ..plans import service as plan_service
from ..plans.forms import MAX_LONG_TEXT, PlanFormError, choice, iso_date, text
from ..plans.models import AuditEntry, Goal, Plan, ProgressEntry, Visibility
from .models import MODE_ONLINE, MODES, CheckIn, CheckInParticipant

DEFAULT_CADENCE_DAYS = 30


def checkins_of(plan: Plan) -> list[CheckIn]:
    return list(
        db.session.scalars(
            select(CheckIn)
            .where(CheckIn.plan_id == plan.id)
            .order_by(CheckIn.held_on.desc(), CheckIn.id.desc())
        )
    )


def find_checkin(plan: Plan, checkin_id: int) -> CheckIn | None:
    return db.session.execute(
        select(CheckIn).where(CheckIn.id == checkin_id, CheckIn.plan_id == plan.id)
    ).scalar_one_or_none()


def _since(plan: Plan, today: date) -> datetime:
    """Return when the previous check-in was created, or the start of the cadence window."""
    previous = db.session.scalar(
        select(CheckIn.created_at)
        .where(CheckIn.plan_id == plan.id)
        .order_by(CheckIn.created_at.desc())
        .limit(1)
    )
    if previous is not None:
        return previous
    cadence = plan.template.checkin_cadence_days if plan.template else DEFAULT_CADENCE_DAYS
    return datetime.combine(today - timedelta(days=cadence), time.min, tzinfo=UTC)


def build_agenda(plan: Plan, today: date | None = None) -> dict:
    """Generate the agenda: changes since the last check-in, goals with no progress in
    that time, and overdue action steps. Staff-only items are left out, because the
    agenda is shared with the plan owner."""
    today = today or date.today()
    since = _since(plan, today)
    changes = list(
        db.session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.plan_id == plan.id,
                AuditEntry.created_at > since,
                AuditEntry.visibility == Visibility.OWNER_AND_STAFF.value,
            )
            .order_by(AuditEntry.id)
        )
    )
    goals = [
        goal
        for goal in plan.goals
        if goal.is_open and goal.visibility == Visibility.OWNER_AND_STAFF.value
    ]
    recent = set(
        db.session.scalars(
            select(ProgressEntry.goal_id)
            .join(Goal)
            .where(Goal.plan_id == plan.id, ProgressEntry.created_at > since)
        )
    )
    overdue = [
        {
            "goal": goal.statement,
            "step": step.description,
            "due": step.due_date.isoformat(),
            "step_id": step.id,
        }
        for goal in goals
        for step in goal.steps
        if not step.done
        and step.due_date
        and step.due_date < today
        and step.visibility == Visibility.OWNER_AND_STAFF.value
    ]
    return {
        "since": since.isoformat(),
        "changes": [
            {
                "item": entry.item_type,
                "field": entry.field,
                "old": entry.old_value,
                "new": entry.new_value,
                "at": entry.created_at.isoformat(),
            }
            for entry in changes
        ],
        "stale_goals": [
            {"goal_id": goal.id, "statement": goal.statement, "progress": goal.progress}
            for goal in goals
            if goal.id not in recent
        ],
        "overdue_steps": overdue,
    }


def _meeting_link(form: Mapping[str, str], mode: str, errors: dict) -> str | None:
    link = text(form, "meeting_link", errors)
    if mode != MODE_ONLINE:
        return None
    parts = urlsplit(link)
    if parts.scheme != "https" or not parts.netloc:
        errors["meeting_link"] = (
            "An online check-in needs a meeting link that starts with https://."
        )
    return link


def create_checkin(
    plan: Plan, actor: Person, form: Mapping[str, str], participant_ids: list[str]
) -> CheckIn:
    errors: dict[str, str] = {}
    held_on = iso_date(form, "held_on", errors) or date.today()
    mode = choice(form, "mode", MODES, errors, "in_person")
    link = _meeting_link(form, mode, errors)
    allowed = {plan.person_id: plan.person, actor.id: actor}
    people = []
    for raw in participant_ids:
        if not raw.isdigit() or int(raw) not in allowed:
            errors["participants"] = "Choose participants from the list."
            continue
        people.append(allowed[int(raw)])
    if errors:
        raise PlanFormError(errors)
    checkin = CheckIn(
        plan_id=plan.id,
        held_on=held_on,
        mode=mode,
        meeting_link=link,
        agenda=build_agenda(plan),
        created_by_id=actor.id,
    )
    for person in {person.id: person for person in people + [actor]}.values():
        checkin.participants.append(CheckInParticipant(person_id=person.id))
    db.session.add(checkin)
    db.session.flush()
    audit.record(plan, actor.id, "checkin", checkin.id, "created", None, held_on)
    audit.activity(plan, actor.id, "checkin")
    return checkin


def update_notes(plan: Plan, actor: Person, checkin: CheckIn, form: Mapping[str, str]) -> None:
    errors: dict[str, str] = {}
    shared = text(form, "shared_notes", errors, limit=MAX_LONG_TEXT)
    private = text(form, "staff_notes", errors, limit=MAX_LONG_TEXT)
    if errors:
        raise PlanFormError(errors)
    changed = audit.apply_changes(plan, actor.id, checkin, "checkin", {"shared_notes": shared})
    if private != checkin.staff_notes:
        audit.record(
            plan,
            actor.id,
            "checkin",
            checkin.id,
            "staff_notes",
            checkin.staff_notes,
            private,
            Visibility.STAFF_ONLY.value,
        )
        checkin.staff_notes = private
        changed.append("staff_notes")
    if changed:
        audit.activity(plan, actor.id, "checkin")


def add_next_step(plan: Plan, actor: Person, checkin: CheckIn, form: Mapping[str, str]):
    """Turn a next step agreed at the check-in into an action step of one of the goals."""
    goal_id = form.get("goal_id", "")
    goal = plan_service.find_goal(plan, int(goal_id)) if goal_id.isdigit() else None
    errors: dict[str, str] = {}
    visibility = choice(
        form,
        "visibility",
        [value.value for value in Visibility],
        errors,
        Visibility.OWNER_AND_STAFF.value,
    )
    if goal is None:
        errors["goal_id"] = "Choose a goal of this plan for the next step."
    if errors:
        raise PlanFormError(errors)
    return plan_service.add_step(
        plan, actor, goal, form, visibility=visibility, checkin_id=checkin.id
    )


def steps_from(checkin: CheckIn) -> list:
    from ..plans.models import ActionStep

    return list(
        db.session.scalars(
            select(ActionStep).where(ActionStep.checkin_id == checkin.id).order_by(ActionStep.id)
        )
    )
