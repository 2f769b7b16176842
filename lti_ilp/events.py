"""Domain events, so one package can react to another's changes without importing it.

Receivers run synchronously inside the sender's database transaction. That is what makes
the grade outbox durable: a score row is added in the same commit as the plan change.
"""

from blinker import Namespace

_signals = Namespace()

# Sent after a goal's progress changes and before the commit; kwargs: goal, actor_id.
goal_progress_changed = _signals.signal("goal-progress-changed")
# Sent after any meaningful change to a plan (not a view); kwargs: plan, actor_id, kind.
plan_activity = _signals.signal("plan-activity")
