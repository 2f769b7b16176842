"""Staleness, pace and quiet-hour rules as plain functions of "now"."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from lti_ilp.activity.service import (
    days_since,
    expected_progress,
    goal_pace,
    pace_start,
    plan_last_activity,
    worst_behind,
)
from lti_ilp.nudges.models import NudgeRule
from lti_ilp.nudges.service import in_quiet_hours, rule_for

NOW = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)


def test_days_since_counts_whole_days():
    assert days_since(NOW - timedelta(days=3, hours=5), NOW) == 3
    assert days_since(NOW - timedelta(hours=23), NOW) == 0
    assert days_since(None, NOW) is None


def test_expected_progress_is_linear():
    start = date(2026, 1, 1)
    target = date(2026, 1, 11)
    assert expected_progress(start, target, date(2026, 1, 1)) == 0.0
    assert expected_progress(start, target, date(2026, 1, 6)) == 50.0
    assert expected_progress(start, target, date(2026, 2, 1)) == 100.0
    assert expected_progress(start, None, date(2026, 1, 6)) is None


def test_expected_progress_clamps_before_start():
    assert expected_progress(date(2026, 2, 1), date(2026, 3, 1), date(2026, 1, 1)) == 0.0


def test_pace_start_uses_later_reset():
    created = datetime(2026, 1, 1, tzinfo=UTC)
    assert pace_start(created, None) == date(2026, 1, 1)
    assert pace_start(created, datetime(2026, 2, 1, tzinfo=UTC)) == date(2026, 2, 1)
    assert pace_start(created, datetime(2025, 12, 1, tzinfo=UTC)) == date(2026, 1, 1)


def test_late_enrolment_reset_removes_shortfall():
    created = datetime(2026, 1, 1, tzinfo=UTC)
    target = date(2026, 5, 1)
    without_reset = goal_pace(1, 10, created, target, None, None, NOW)
    with_reset = goal_pace(1, 10, created, target, None, NOW - timedelta(days=1), NOW)
    assert without_reset.behind > 30
    assert with_reset.behind < 5


def test_goal_pace_staleness_from_latest_activity():
    created = datetime(2026, 1, 1, tzinfo=UTC)
    pace = goal_pace(7, 40, created, None, NOW - timedelta(days=9), None, NOW)
    assert pace.stale_days == 9
    assert pace.behind is None
    quiet_since_creation = goal_pace(7, 40, created, None, None, None, NOW)
    assert quiet_since_creation.stale_days == (NOW - created).days


def test_worst_behind_ignores_goals_without_target():
    created = datetime(2026, 1, 1, tzinfo=UTC)
    paces = [
        goal_pace(1, 90, created, date(2026, 4, 1), None, None, NOW),
        goal_pace(2, 0, created, date(2026, 4, 1), None, None, NOW),
        goal_pace(3, 0, created, None, None, None, NOW),
    ]
    assert worst_behind(paces) == paces[1].behind
    assert worst_behind([paces[2]]) is None


def test_plan_last_activity_takes_latest():
    created = datetime(2026, 1, 1, tzinfo=UTC)
    later = datetime(2026, 2, 1, tzinfo=UTC)
    assert plan_last_activity(created, None, None) == created
    assert plan_last_activity(created, later, None) == later
    assert plan_last_activity(created, None, later) == later


def _rule(**values) -> NudgeRule:
    defaults = {
        "id": 1,
        "deployment_id": 1,
        "template_key": None,
        "cohort_id": None,
        "student_after_days": 7,
        "staff_after_days": 14,
        "coordinator_after_days": 21,
        "quiet_start_hour": 20,
        "quiet_end_hour": 7,
        "timezone": "UTC",
        "active": True,
    }
    return NudgeRule(**{**defaults, **values})


def test_quiet_hours_wrap_midnight():
    rule = _rule()
    assert in_quiet_hours(rule, datetime(2026, 3, 1, 22, 0, tzinfo=UTC))
    assert in_quiet_hours(rule, datetime(2026, 3, 1, 6, 59, tzinfo=UTC))
    assert not in_quiet_hours(rule, datetime(2026, 3, 1, 7, 0, tzinfo=UTC))
    assert not in_quiet_hours(rule, datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


def test_quiet_hours_use_rule_time_zone():
    rule = _rule(timezone="America/Chicago")
    # 15:00 UTC is 09:00 in Chicago in March before DST, so not quiet; 03:00 UTC is 21:00.
    assert not in_quiet_hours(rule, datetime(2026, 3, 1, 15, 0, tzinfo=UTC))
    assert in_quiet_hours(rule, datetime(2026, 3, 2, 3, 0, tzinfo=UTC))


def test_equal_quiet_hours_mean_none():
    rule = _rule(quiet_start_hour=0, quiet_end_hour=0)
    assert not in_quiet_hours(rule, datetime(2026, 3, 1, 0, 30, tzinfo=UTC))


def test_rule_for_prefers_cohort_then_template():
    deployment_rule = _rule(id=1)
    template_rule = _rule(id=2, template_key="evening")
    cohort_rule = _rule(id=3, cohort_id=9)
    other_deployment = _rule(id=4, deployment_id=2)
    rules = [deployment_rule, template_rule, cohort_rule, other_deployment]
    assert rule_for(rules, 1, "evening", {9}) is cohort_rule
    assert rule_for(rules, 1, "evening", set()) is template_rule
    assert rule_for(rules, 1, "daytime", set()) is deployment_rule
    assert rule_for(rules, 3, None, set()).student_after_days == 7
    assert rule_for([_rule(active=False)], 1, None, set()) is not deployment_rule
