"""Reading and changing a plan: profile, goals, progress, action steps and status.

Lookups of items are always scoped to one plan, so an id taken from another plan is never
found. Every change is written to the audit trail and announced with ``plan_activity``.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from ..extensions import db, upsert_insert, utcnow
from ..people.models import Person
from ..plan_templates.models import Cycle
from ..plan_templates.service import current_cycle, template_for
from . import audit
from .access import Relation
from .forms import MAX_LONG_TEXT, PlanFormError, choice, iso_date, number, percent, text
from .models import (
    ActionStep,
    Goal,
    GoalStatus,
    Plan,
    PlanStatus,
    ProgressEntry,
    StatusChange,
    Visibility,
)

__all__ = ["PlanFormError"]

MAX_STEPS_PER_FORM = 10


def ensure_plan(person: Person) -> Plan:
    """Return the person's plan for the current cycle, creating it on first use."""
    # Every student launch comes here, so a plan that exists is found with one statement.
    plan = db.session.execute(
        select(Plan)
        .join(Plan.cycle)
        .where(
            Plan.person_id == person.id,
            Cycle.deployment_id == person.deployment_id,
            Cycle.is_current,
        )
        .options(contains_eager(Plan.cycle))
    ).scalar_one_or_none()
    if plan is not None:
        return plan

    cycle = current_cycle(person.deployment_id)
    template = template_for(person)
    # Two launches of the same person can arrive together; the unique constraint on
    # (person, cycle) decides, and the loser reads the winner's plan.
    plan = db.session.scalars(
        upsert_insert(Plan)
        .values(
            person_id=person.id,
            cycle_id=cycle.id,
            template_id=template.id,
            status=PlanStatus.DRAFT.value,
            profile={},
        )
        .on_conflict_do_nothing(index_elements=["person_id", "cycle_id"])
        .returning(Plan)
    ).one_or_none()
    if plan is None:
        return db.session.execute(
            select(Plan).where(Plan.person_id == person.id, Plan.cycle_id == cycle.id)
        ).scalar_one()
    db.session.add(
        StatusChange(
            plan_id=plan.id,
            from_status=None,
            to_status=PlanStatus.DRAFT.value,
            actor_id=person.id,
            reason="Plan created",
        )
    )
    return plan


def load_plan(person_id: int) -> Plan | None:
    """Return the person's plan for the current cycle with goals and steps loaded."""
    person = db.session.get(Person, person_id)
    if person is None:
        return None
    cycle = current_cycle(person.deployment_id)
    return db.session.execute(
        select(Plan)
        .where(Plan.person_id == person_id, Plan.cycle_id == cycle.id)
        .options(selectinload(Plan.goals).selectinload(Goal.steps))
    ).scalar_one_or_none()


def update_profile(plan: Plan, actor: Person, form: Mapping[str, str]) -> None:
    errors: dict[str, str] = {}
    prompts = plan.template.profile_prompts if plan.template else []
    values = {prompt["key"]: text(form, prompt["key"], errors) for prompt in prompts}
    if errors:
        raise PlanFormError(errors)
    profile = dict(plan.profile or {})
    for key, value in values.items():
        if (profile.get(key) or "") != value:
            audit.record(plan, actor.id, "profile", None, key, profile.get(key), value)
            profile[key] = value
    plan.profile = profile
    audit.activity(plan, actor.id, "edit")


def _domain_keys(plan: Plan) -> list[str]:
    if plan.template and plan.template.goal_domains:
        return [domain["key"] for domain in plan.template.goal_domains]
    return ["academic", "career", "personal"]


def _goal_values(plan: Plan, form: Mapping[str, str], errors: dict) -> dict:
    return {
        "domain": choice(form, "domain", _domain_keys(plan), errors, _domain_keys(plan)[0]),
        "statement": text(form, "statement", errors, required=True),
        "why_it_matters": text(form, "why_it_matters", errors),
        "measure": text(form, "measure", errors),
        "baseline": number(form, "baseline", errors),
        "target": number(form, "target", errors),
        "unit": text(form, "unit", errors, limit=64),
        "target_date": iso_date(form, "target_date", errors),
    }


def add_goal(plan: Plan, actor: Person, form: Mapping[str, str]) -> Goal:
    """Add a goal with the action steps given as ``step_1`` … ``step_10``."""
    errors: dict[str, str] = {}
    values = _goal_values(plan, form, errors)
    progress = percent(form, "progress", errors)
    steps = []
    for index in range(1, MAX_STEPS_PER_FORM + 1):
        description = text(form, f"step_{index}", errors)
        due_date = iso_date(form, f"step_{index}_due", errors)
        if description:
            steps.append(
                ActionStep(description=description, due_date=due_date, created_by_id=actor.id)
            )
    if errors:
        raise PlanFormError(errors)
    goal = Goal(created_by_id=actor.id, status=GoalStatus.ACTIVE.value, progress=0, **values)
    goal.steps = steps
    plan.goals.append(goal)
    db.session.flush()
    audit.record(plan, actor.id, "goal", goal.id, "created", None, goal.statement)
    for step in steps:
        audit.record(plan, actor.id, "step", step.id, "created", None, step.description)
    audit.activity(plan, actor.id, "edit")
    if progress:
        _add_progress_entry(plan, actor, goal, progress, None, "")
    return goal


def find_goal(plan: Plan, goal_id: int) -> Goal | None:
    return db.session.execute(
        select(Goal).where(Goal.id == goal_id, Goal.plan_id == plan.id)
    ).scalar_one_or_none()


def find_step(plan: Plan, step_id: int) -> ActionStep | None:
    return db.session.execute(
        select(ActionStep)
        .join(Goal, ActionStep.goal_id == Goal.id)
        .where(ActionStep.id == step_id, Goal.plan_id == plan.id)
    ).scalar_one_or_none()


def update_goal(plan: Plan, actor: Person, goal: Goal, form: Mapping[str, str]) -> None:
    errors: dict[str, str] = {}
    values = _goal_values(plan, form, errors)
    values["status"] = choice(
        form, "status", [status.value for status in GoalStatus], errors, goal.status
    )
    if errors:
        raise PlanFormError(errors)
    if audit.apply_changes(plan, actor.id, goal, "goal", values):
        goal.updated_at = utcnow()
        audit.activity(plan, actor.id, "edit")


def _measured_percent(goal: Goal, value: float) -> int | None:
    """Turn a measured value into percent of the way from baseline to target."""
    if goal.baseline is None or goal.target is None or goal.target == goal.baseline:
        return None
    share = (value - goal.baseline) / (goal.target - goal.baseline)
    return max(0, min(100, round(share * 100)))


def add_progress(plan: Plan, actor: Person, goal: Goal, form: Mapping[str, str]) -> None:
    """Record a progress entry from a percent, or from a value measured in the goal's unit."""
    errors: dict[str, str] = {}
    progress = percent(form, "progress", errors)
    value = number(form, "value", errors)
    note = text(form, "note", errors)
    if progress is None and value is not None and not errors:
        progress = _measured_percent(goal, value)
        if progress is None:
            errors["progress"] = (
                "This goal has no numeric baseline and target, so enter progress as a percent."
            )
    if progress is None and not errors:
        errors["progress"] = "Enter progress as a whole number from 0 to 100."
    if errors:
        raise PlanFormError(errors)
    _add_progress_entry(plan, actor, goal, progress, value, note)


def _add_progress_entry(
    plan: Plan, actor: Person, goal: Goal, progress: int, value: float | None, note: str
) -> None:
    goal.progress_entries.append(
        ProgressEntry(progress=progress, value=value, note=note, author_id=actor.id)
    )
    audit.apply_changes(plan, actor.id, goal, "goal", {"progress": progress})
    if progress == 100 and goal.status == GoalStatus.ACTIVE.value:
        audit.apply_changes(plan, actor.id, goal, "goal", {"status": GoalStatus.MET.value})
    goal.updated_at = utcnow()
    audit.activity(plan, actor.id, "progress")
    audit.progress_changed(goal, actor.id)


def delete_goal(plan: Plan, actor: Person, goal: Goal) -> None:
    audit.record(plan, actor.id, "goal", goal.id, "deleted", goal.statement, None, goal.visibility)
    plan.goals.remove(goal)
    audit.activity(plan, actor.id, "edit")


def add_step(
    plan: Plan,
    actor: Person,
    goal: Goal,
    form: Mapping[str, str],
    *,
    visibility: str = Visibility.OWNER_AND_STAFF.value,
    checkin_id: int | None = None,
) -> ActionStep:
    errors: dict[str, str] = {}
    step = ActionStep(
        description=text(form, "description", errors, required=True),
        due_date=iso_date(form, "due_date", errors),
        created_by_id=actor.id,
        visibility=visibility,
        checkin_id=checkin_id,
    )
    if errors:
        raise PlanFormError(errors)
    goal.steps.append(step)
    goal.updated_at = utcnow()
    db.session.flush()
    audit.record(plan, actor.id, "step", step.id, "created", None, step.description, visibility)
    audit.activity(plan, actor.id, "checkin" if checkin_id else "edit")
    return step


def set_step_done(plan: Plan, actor: Person, step: ActionStep, done: bool) -> None:
    if audit.apply_changes(plan, actor.id, step, "step", {"done": done}):
        step.done_at = utcnow() if done else None
        step.goal.updated_at = utcnow()
        audit.activity(plan, actor.id, "edit")


def delete_step(plan: Plan, actor: Person, step: ActionStep) -> None:
    audit.record(
        plan, actor.id, "step", step.id, "deleted", step.description, None, step.visibility
    )
    step.goal.steps.remove(step)
    audit.activity(plan, actor.id, "edit")


# Status changes each relation may make: (from, to) pairs.
OWNER_TRANSITIONS = {
    (PlanStatus.DRAFT, PlanStatus.ACTIVE),
    (PlanStatus.ACTIVE, PlanStatus.IN_REVIEW),
    (PlanStatus.IN_REVIEW, PlanStatus.ACTIVE),
}
REVIEWER_TRANSITIONS = OWNER_TRANSITIONS | {
    (PlanStatus.IN_REVIEW, PlanStatus.SIGNED),
}
COORDINATOR_TRANSITIONS = REVIEWER_TRANSITIONS | {
    (PlanStatus.SIGNED, PlanStatus.ACTIVE),
    (PlanStatus.SIGNED, PlanStatus.CLOSED),
    (PlanStatus.ACTIVE, PlanStatus.CLOSED),
}
TRANSITIONS = {
    Relation.OWNER: OWNER_TRANSITIONS,
    Relation.INSTRUCTOR: set(),
    Relation.MENTOR: REVIEWER_TRANSITIONS,
    Relation.COORDINATOR: COORDINATOR_TRANSITIONS,
}
STATUS_LABELS = {
    PlanStatus.DRAFT.value: "Draft",
    PlanStatus.ACTIVE.value: "Active",
    PlanStatus.IN_REVIEW.value: "In review",
    PlanStatus.SIGNED.value: "Signed",
    PlanStatus.CLOSED.value: "Closed",
}


def allowed_statuses(plan: Plan, relation: Relation) -> list[str]:
    if not plan.cycle.is_current:
        return []
    current = PlanStatus(plan.status)
    return [new.value for old, new in sorted(TRANSITIONS[relation]) if old is current]


def open_goal_count(plan: Plan) -> int:
    return sum(1 for goal in plan.goals if goal.is_open or goal.status == GoalStatus.MET.value)


def change_status(plan: Plan, actor: Person, relation: Relation, form: Mapping[str, str]) -> None:
    errors: dict[str, str] = {}
    reason = text(form, "reason", errors, limit=MAX_LONG_TEXT)
    target = form.get("status", "")
    if target not in allowed_statuses(plan, relation):
        errors["status"] = (
            f"A plan that is {STATUS_LABELS.get(plan.status, plan.status)} "
            "cannot be moved to that status by you."
        )
    elif target == PlanStatus.IN_REVIEW.value:
        required = plan.template.goals_required if plan.template else 0
        if open_goal_count(plan) < required:
            errors["status"] = (
                f"This plan needs at least {required} goals before it can be "
                "reviewed. Add goals first."
            )
    elif relation is not Relation.OWNER and target == PlanStatus.ACTIVE.value and not reason:
        errors["reason"] = "Say why the plan goes back to the learner."
    if errors:
        raise PlanFormError(errors)
    set_status(plan, actor, target, reason)


def set_status(plan: Plan, actor: Person | None, target: str, reason: str) -> None:
    actor_id = actor.id if actor else None
    db.session.add(
        StatusChange(
            plan_id=plan.id,
            from_status=plan.status,
            to_status=target,
            actor_id=actor_id,
            reason=reason,
        )
    )
    audit.record(plan, actor_id, "plan", plan.id, "status", plan.status, target)
    plan.status = target
    if target == PlanStatus.SIGNED.value:
        plan.signed_at = utcnow()
        plan.signed_by_id = actor_id
    if target == PlanStatus.CLOSED.value:
        plan.closed_at = utcnow()
    audit.activity(plan, actor_id, "edit")
