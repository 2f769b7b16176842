"""Rolling a deployment over to the next school year.

Every plan of the old cycle is signed (when it is not signed yet, the coordinator who rolls
over signs it), then closed, so it stays as a read-only record. Goals that are still
active or revised carry into a new plan for the next cycle, with their open steps.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import select

from ..extensions import db, utcnow
from ..people.models import Person
from ..plans import service as plan_service
from ..plans.models import ActionStep, Goal, Plan, PlanStatus, StatusChange
from .models import Cycle
from .service import current_cycle, latest_template

log = logging.getLogger(__name__)


class RolloverError(ValueError):
    pass


def _next_dates(old: Cycle) -> tuple[date, date]:
    starts_on = old.ends_on + timedelta(days=1)
    return starts_on, starts_on.replace(year=starts_on.year + 1) - timedelta(days=1)


def rollover(deployment_id: int, actor: Person, name: str) -> Cycle:
    name = (name or "").strip()[:64]
    if not name:
        raise RolloverError("Give the new school year a name, such as 2027–28.")
    exists = db.session.scalar(
        select(Cycle.id).where(Cycle.deployment_id == deployment_id, Cycle.name == name)
    )
    if exists is not None:
        raise RolloverError(f"A school year named {name!r} already exists. Choose another name.")
    old = current_cycle(deployment_id)
    starts_on, ends_on = _next_dates(old)
    old.is_current = False
    old.closed_at = utcnow()
    db.session.flush()
    new = Cycle(
        deployment_id=deployment_id,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        is_current=True,
    )
    db.session.add(new)
    db.session.flush()
    plans = list(db.session.scalars(select(Plan).where(Plan.cycle_id == old.id).order_by(Plan.id)))
    carried = 0
    for plan in plans:
        carried += _close_and_carry(plan, new, actor)
    log.info(
        "rollover deployment=%s old_cycle=%s new_cycle=%s plans=%s goals_carried=%s",
        deployment_id,
        old.id,
        new.id,
        len(plans),
        carried,
    )
    return new


def _close_and_carry(plan: Plan, new_cycle: Cycle, actor: Person) -> int:
    if plan.status not in (PlanStatus.SIGNED.value, PlanStatus.CLOSED.value):
        plan_service.set_status(
            plan,
            actor,
            PlanStatus.SIGNED.value,
            "Signed by the coordinator at the end of the school year",
        )
    if plan.status != PlanStatus.CLOSED.value:
        plan_service.set_status(
            plan, actor, PlanStatus.CLOSED.value, f"Closed at rollover to {new_cycle.name}"
        )

    template = plan.template
    if template is not None:
        template = latest_template(template.deployment_id, template.key) or template
    successor = Plan(
        person_id=plan.person_id,
        cycle_id=new_cycle.id,
        template_id=template.id if template else None,
        status=PlanStatus.DRAFT.value,
        profile=dict(plan.profile or {}),
    )
    db.session.add(successor)
    db.session.flush()
    db.session.add(
        StatusChange(
            plan_id=successor.id,
            from_status=None,
            to_status=PlanStatus.DRAFT.value,
            actor_id=actor.id,
            reason=f"Started at rollover from {plan.cycle.name}",
        )
    )

    carried = 0
    for goal in plan.goals:
        if not goal.is_open:
            continue
        copy = Goal(
            domain=goal.domain,
            statement=goal.statement,
            why_it_matters=goal.why_it_matters,
            measure=goal.measure,
            baseline=goal.baseline,
            target=goal.target,
            unit=goal.unit,
            target_date=None,
            status=goal.status,
            progress=goal.progress,
            visibility=goal.visibility,
            created_by_id=goal.created_by_id,
            carried_from_id=goal.id,
        )
        copy.steps = [
            ActionStep(
                description=step.description,
                due_date=None,
                visibility=step.visibility,
                created_by_id=step.created_by_id,
            )
            for step in goal.steps
            if not step.done
        ]
        successor.goals.append(copy)
        carried += 1
    db.session.flush()
    return carried
