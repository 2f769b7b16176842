"""The audit trail of plan items and the domain events that follow each change."""

from __future__ import annotations

from datetime import date, datetime

from ..events import goal_progress_changed, plan_activity
from ..extensions import db, utcnow
from .models import AuditEntry, Goal, Plan, Visibility

MAX_AUDIT_VALUE = 4000


def as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)[:MAX_AUDIT_VALUE]


def record(
    plan: Plan,
    actor_id: int | None,
    item_type: str,
    item_id: int | None,
    field: str,
    old: object,
    new: object,
    visibility: str = Visibility.OWNER_AND_STAFF.value,
) -> None:
    db.session.add(
        AuditEntry(
            plan_id=plan.id,
            item_type=item_type,
            item_id=item_id,
            field=field,
            old_value=as_text(old),
            new_value=as_text(new),
            visibility=visibility,
            actor_id=actor_id,
        )
    )


def apply_changes(
    plan: Plan, actor_id: int | None, item, item_type: str, values: dict[str, object]
) -> list[str]:
    """Set ``values`` on ``item`` and record one audit entry per field that changed."""
    changed = []
    visibility = getattr(item, "visibility", Visibility.OWNER_AND_STAFF.value)
    for field, new in values.items():
        old = getattr(item, field)
        if as_text(old) == as_text(new):
            continue
        record(plan, actor_id, item_type, item.id, field, old, new, visibility)
        setattr(item, field, new)
        changed.append(field)
    return changed


def touch(plan: Plan, actor_id: int | None) -> None:
    """Mark the plan as changed by its owner; staff changes do not count."""
    if actor_id == plan.person_id:
        plan.last_touched_at = utcnow()


def activity(plan: Plan, actor_id: int | None, kind: str) -> None:
    touch(plan, actor_id)
    db.session.flush()
    plan_activity.send(plan, plan=plan, actor_id=actor_id, kind=kind)


def progress_changed(goal: Goal, actor_id: int | None) -> None:
    db.session.flush()
    goal_progress_changed.send(goal, goal=goal, actor_id=actor_id)
