"""Reading and changing a plan. Every lookup is scoped to one plan, so an id taken from
another person's plan is never found."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db, utcnow
from ..people.models import Person
from .models import ActionStep, Goal, Plan

MAX_TEXT = 2000
MAX_STEPS_PER_FORM = 10


class PlanFormError(ValueError):
    """Form input that cannot be saved; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def ensure_plan(person: Person) -> Plan:
    plan = db.session.execute(select(Plan).where(Plan.person_id == person.id)).scalar_one_or_none()
    if plan is None:
        plan = Plan(person_id=person.id)
        db.session.add(plan)
        db.session.flush()
    return plan


def load_plan(person_id: int) -> Plan | None:
    return db.session.execute(
        select(Plan)
        .where(Plan.person_id == person_id)
        .options(selectinload(Plan.goals).selectinload(Goal.steps))
    ).scalar_one_or_none()


def _text(form: Mapping[str, str], name: str, errors: dict, *, required: bool = False) -> str:
    value = (form.get(name) or "").strip()
    if required and not value:
        errors[name] = "This field is required."
    elif len(value) > MAX_TEXT:
        errors[name] = f"Keep this under {MAX_TEXT} characters."
    return value


def _date(form: Mapping[str, str], name: str, errors: dict) -> date | None:
    value = (form.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = "Enter a date as YYYY-MM-DD."
        return None


def _progress(form: Mapping[str, str], name: str, errors: dict) -> int | None:
    value = (form.get(name) or "").strip().rstrip("%")
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        errors[name] = "Enter progress as a whole number from 0 to 100."
        return None
    if not 0 <= number <= 100:
        errors[name] = "Enter progress as a whole number from 0 to 100."
        return None
    return number


def touch(plan: Plan) -> None:
    plan.last_touched_at = utcnow()


def update_profile(plan: Plan, form: Mapping[str, str]) -> None:
    errors: dict[str, str] = {}
    values = {
        name: _text(form, name, errors)
        for name in ("strengths", "interests", "after_school_goals")
    }
    if errors:
        raise PlanFormError(errors)
    for name, value in values.items():
        setattr(plan, name, value)
    touch(plan)


def add_goal(plan: Plan, form: Mapping[str, str]) -> Goal:
    """Add a goal with the action steps given as ``step_1`` … ``step_10``."""
    errors: dict[str, str] = {}
    goal = Goal(
        statement=_text(form, "statement", errors, required=True),
        measure=_text(form, "measure", errors),
        target_date=_date(form, "target_date", errors),
        progress=_progress(form, "progress", errors) or 0,
    )
    steps = []
    for index in range(1, MAX_STEPS_PER_FORM + 1):
        description = _text(form, f"step_{index}", errors)
        due_date = _date(form, f"step_{index}_due", errors)
        if description:
            steps.append(ActionStep(description=description, due_date=due_date))
    if errors:
        raise PlanFormError(errors)
    goal.steps = steps
    plan.goals.append(goal)
    touch(plan)
    db.session.flush()
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


def update_goal(plan: Plan, goal: Goal, form: Mapping[str, str]) -> None:
    errors: dict[str, str] = {}
    statement = _text(form, "statement", errors, required=True)
    measure = _text(form, "measure", errors)
    target_date = _date(form, "target_date", errors)
    progress = _progress(form, "progress", errors)
    if errors:
        raise PlanFormError(errors)
    goal.statement = statement
    goal.measure = measure
    goal.target_date = target_date
    if progress is not None:
        goal.progress = progress
    goal.updated_at = utcnow()
    touch(plan)


def set_progress(plan: Plan, goal: Goal, form: Mapping[str, str]) -> None:
    errors: dict[str, str] = {}
    progress = _progress(form, "progress", errors)
    if progress is None and not errors:
        errors["progress"] = "Enter progress as a whole number from 0 to 100."
    if errors:
        raise PlanFormError(errors)
    goal.progress = progress
    goal.updated_at = utcnow()
    touch(plan)


def delete_goal(plan: Plan, goal: Goal) -> None:
    plan.goals.remove(goal)
    touch(plan)


def add_step(plan: Plan, goal: Goal, form: Mapping[str, str]) -> ActionStep:
    errors: dict[str, str] = {}
    step = ActionStep(
        description=_text(form, "description", errors, required=True),
        due_date=_date(form, "due_date", errors),
    )
    if errors:
        raise PlanFormError(errors)
    goal.steps.append(step)
    goal.updated_at = utcnow()
    touch(plan)
    db.session.flush()
    return step


def set_step_done(plan: Plan, step: ActionStep, done: bool) -> None:
    step.done = done
    step.goal.updated_at = utcnow()
    touch(plan)


def delete_step(plan: Plan, step: ActionStep) -> None:
    step.goal.steps.remove(step)
    touch(plan)
