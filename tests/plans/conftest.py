from __future__ import annotations

import pytest

from lti_ilp.events import goal_progress_changed, plan_activity


@pytest.fixture
def plan_events():
    """Record every plan_activity and goal_progress_changed signal during a test."""
    received = {"activity": [], "progress": []}

    def on_activity(sender, plan, actor_id, kind, **extra):
        received["activity"].append((plan.id, actor_id, kind))

    def on_progress(sender, goal, actor_id, **extra):
        received["progress"].append((goal.id, goal.progress, actor_id))

    plan_activity.connect(on_activity)
    goal_progress_changed.connect(on_progress)
    yield received
    plan_activity.disconnect(on_activity)
    goal_progress_changed.disconnect(on_progress)
