"""The homepage widget's content: open goals and the one next action step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..plans.models import ActionStep, Goal, Plan

MAX_GOALS = 3
PROGRESS_STEP = 10


@dataclass(frozen=True)
class WidgetGoal:
    goal: Goal
    # The progress that the one-click button records.
    next_progress: int


@dataclass(frozen=True)
class WidgetView:
    goals: list[WidgetGoal]
    next_step: ActionStep | None
    open_goal_count: int


def next_step(goals: list[Goal]) -> ActionStep | None:
    """Return the open step to do next: the earliest due date, then the oldest undated."""
    steps = [step for goal in goals for step in goal.steps if not step.done]
    if not steps:
        return None
    return min(steps, key=lambda step: (step.due_date or date.max, step.id))


def widget_view(plan: Plan) -> WidgetView:
    goals = [goal for goal in plan.goals if goal.is_open]
    return WidgetView(
        goals=[
            WidgetGoal(goal, min(100, goal.progress + PROGRESS_STEP)) for goal in goals[:MAX_GOALS]
        ],
        next_step=next_step(goals),
        open_goal_count=len(goals),
    )
