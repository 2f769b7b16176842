"""Meaningful activity, staleness and pace.

Receivers record an activity row for each plan change announced on ``lti_ilp.events``.
The computations below are plain functions that take "now" as an argument, so the demo
clock and tests can move time. Pace is linear: a goal is expected to reach 100% progress
on its target date, starting from 0% on its pace start.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from blinker import Namespace
from sqlalchemy import Select, func, select

from ..events import goal_progress_changed, plan_activity
from ..extensions import db
from ..nudges import clock
from .models import PaceReset, PlanActivity

log = logging.getLogger(__name__)

# Event kinds that only record a look at the plan; they never count as activity.
VIEW_KINDS = frozenset({"view", "viewed", "opened", "printed", "exported"})

_signals = Namespace()
# Sent after an activity row is added, inside the same transaction;
# kwargs: plan_id, actor_id, at.
activity_recorded = _signals.signal("activity-recorded")


def record_activity(
    plan, actor_id: int | None, kind: str, goal_id: int | None = None
) -> PlanActivity | None:
    """Add an activity row for ``plan``, unless ``kind`` only records a view."""
    if kind in VIEW_KINDS:
        return None
    row = PlanActivity(
        plan_id=plan.id,
        goal_id=goal_id,
        actor_id=actor_id,
        by_owner=actor_id is not None and actor_id == plan.person_id,
        kind=kind[:32],
        created_at=clock.now(),
    )
    db.session.add(row)
    activity_recorded.send(row, plan_id=plan.id, actor_id=actor_id, at=row.created_at)
    return row


def _on_plan_activity(sender, plan=None, actor_id=None, kind="change", **extra) -> None:
    if plan is None:
        return
    goal = extra.get("goal")
    record_activity(plan, actor_id, kind, goal_id=getattr(goal, "id", None))


def _on_goal_progress(sender, goal=None, actor_id=None, **extra) -> None:
    if goal is None:
        return
    record_activity(goal.plan, actor_id, "progress", goal_id=goal.id)


plan_activity.connect(_on_plan_activity)
goal_progress_changed.connect(_on_goal_progress)


def reset_pace(
    plan_id: int, starts_at: datetime, reason: str, set_by_id: int | None = None
) -> PaceReset:
    """Start every goal's pace line in the plan at ``starts_at`` (never moved earlier)."""
    row = db.session.get(PaceReset, plan_id)
    if row is None:
        row = PaceReset(plan_id=plan_id, starts_at=starts_at, reason=reason, set_by_id=set_by_id)
        db.session.add(row)
    elif starts_at > row.starts_at:
        row.starts_at = starts_at
        row.reason = reason
        row.set_by_id = set_by_id
    return row


# Plain computations: every one takes "now" or "today" as an argument.


def days_since(moment: datetime | None, now: datetime) -> int | None:
    """Return the whole days from ``moment`` to ``now``; None when ``moment`` is unknown."""
    if moment is None:
        return None
    return max(0, (now - moment).days)


def pace_start(goal_created_at: datetime, reset_at: datetime | None) -> date:
    """Return the day a goal's pace line starts: its creation, or a later pace reset."""
    start = goal_created_at
    if reset_at is not None and reset_at > start:
        start = reset_at
    return start.date()


def expected_progress(start: date, target: date | None, today: date) -> float | None:
    """Return the percent a goal should have reached by ``today``; None without a target."""
    if target is None:
        return None
    if target <= start:
        return 100.0 if today >= target else 0.0
    elapsed = (today - start).days
    span = (target - start).days
    return max(0.0, min(100.0, 100.0 * elapsed / span))


@dataclass(frozen=True)
class GoalPace:
    goal_id: int
    progress: int
    # None when the goal has no target date.
    expected: float | None
    # Percentage points behind the pace line; negative when ahead, None without a target.
    behind: float | None
    last_activity_at: datetime
    stale_days: int


def goal_pace(
    goal_id: int,
    progress: int,
    created_at: datetime,
    target: date | None,
    last_activity_at: datetime | None,
    reset_at: datetime | None,
    now: datetime,
) -> GoalPace:
    """Compute one goal's position against its pace line and how long it has been quiet."""
    expected = expected_progress(pace_start(created_at, reset_at), target, now.date())
    behind = None if expected is None else round(expected - progress, 1)
    last = max(created_at, last_activity_at) if last_activity_at else created_at
    return GoalPace(goal_id, progress, expected, behind, last, days_since(last, now) or 0)


def worst_behind(paces: Iterable[GoalPace]) -> float | None:
    """Return the largest shortfall among goals with a target date, or None."""
    values = [pace.behind for pace in paces if pace.behind is not None]
    return max(values) if values else None


def plan_last_activity(
    created_at: datetime, last_touched_at: datetime | None, last_activity_at: datetime | None
) -> datetime:
    """Return the latest meaningful moment of a plan; a new plan counts from its creation."""
    moments = [moment for moment in (created_at, last_touched_at, last_activity_at) if moment]
    return max(moments)


# Set-based queries, so callers stay at a fixed number of statements.


def last_activity_per_plan() -> Select:
    """Return a SELECT of (plan_id, last_activity_at) over all plans with activity."""
    return select(
        PlanActivity.plan_id.label("plan_id"),
        func.max(PlanActivity.created_at).label("last_activity_at"),
    ).group_by(PlanActivity.plan_id)


def last_activity_per_goal() -> Select:
    return (
        select(
            PlanActivity.goal_id.label("goal_id"),
            func.max(PlanActivity.created_at).label("last_activity_at"),
        )
        .where(PlanActivity.goal_id.is_not(None))
        .group_by(PlanActivity.goal_id)
    )
