"""Retention: closed plans older than the retention period are purged, nothing else."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from lti_ilp import cli
from lti_ilp.extensions import db, utcnow
from lti_ilp.people.models import Person
from lti_ilp.plan_templates.models import Cycle
from lti_ilp.plans.models import ActionStep, Evidence, Goal, Plan, PlanStatus
from lti_ilp.privacy.erase import PrivacyError, purge_closed_plans, retention_cutoff
from lti_ilp.privacy.models import PrivacyLogEntry

from .helpers import fill_plan, foreign_key_violations, person_id, plan_id_of, student


def _close(app, plan_id: int, closed_at: datetime) -> None:
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        plan.status = PlanStatus.CLOSED.value
        plan.closed_at = closed_at
        db.session.commit()


def _start_new_cycle_with_carried_goal(app, owner_id: int, old_plan_id: int) -> int:
    """Give the owner a plan in a new current cycle whose goal continues the old one."""
    with app.app_context():
        owner = db.session.get(Person, owner_id)
        old_plan = db.session.get(Plan, old_plan_id)
        old_plan.cycle.is_current = False
        cycle = Cycle(
            deployment_id=owner.deployment_id,
            name="Next year",
            starts_on=date.today(),
            ends_on=date.today() + timedelta(days=300),
            is_current=True,
        )
        db.session.add(cycle)
        db.session.flush()
        plan = Plan(
            person_id=owner.id,
            cycle_id=cycle.id,
            template_id=old_plan.template_id,
            status=PlanStatus.ACTIVE.value,
            profile={},
        )
        db.session.add(plan)
        db.session.flush()
        db.session.add(
            Goal(
                plan_id=plan.id,
                statement="Keep the B in algebra",
                carried_from_id=old_plan.goals[0].id,
            )
        )
        db.session.commit()
        return plan.id


@pytest.fixture
def run_cli(app, monkeypatch):
    monkeypatch.setattr(cli, "_app", lambda: app)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli.main, list(args), catch_exceptions=False)

    return run


def test_purge_removes_only_old_closed_plans(app, platform, browser, run_cli):
    old_plan = plan_id_of(fill_plan(browser, platform))
    zoe_id = person_id(app, "student-zoe")
    ben_page = browser.launch(platform, student(user="student-ben"))
    ben_page = browser.submit(ben_page, r"/plan/goals$", {"statement": "Read two novels"})
    ben_plan = plan_id_of(ben_page)
    _close(app, old_plan, utcnow() - timedelta(days=3 * 366))
    _close(app, ben_plan, utcnow() - timedelta(days=200))
    new_plan = _start_new_cycle_with_carried_goal(app, zoe_id, old_plan)

    result = run_cli("privacy", "purge-closed", "--older-than-years", "2")
    assert result.exit_code == 0, result.output
    assert "purged 1 plans" in result.output

    with app.app_context():
        assert db.session.get(Plan, old_plan) is None
        assert db.session.get(Plan, ben_plan) is not None
        assert db.session.get(Plan, new_plan) is not None
        assert db.session.get(Person, zoe_id) is not None
        carried = db.session.scalars(select(Goal).where(Goal.plan_id == new_plan)).one()
        assert carried.statement == "Keep the B in algebra"
        assert carried.carried_from_id is None
        assert db.session.scalar(select(func.count(Evidence.id))) == 0
        assert db.session.scalar(select(func.count(ActionStep.id))) == 0
        entry = db.session.scalars(select(PrivacyLogEntry)).one()
        assert entry.action == "purge_plan"
        assert entry.plan_id == old_plan
        assert entry.subject_person_id == zoe_id
        assert entry.channel == "retention"
    assert foreign_key_violations(app) == []


def test_purge_keeps_open_plans_of_any_age(app, platform, browser):
    plan_id = plan_id_of(fill_plan(browser, platform))
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        plan.created_at = utcnow() - timedelta(days=10 * 366)
        plan.closed_at = utcnow() - timedelta(days=10 * 366)
        db.session.commit()
        assert purge_closed_plans(1) == []
        assert db.session.get(Plan, plan_id) is not None


def test_purge_without_period_is_rejected(app, run_cli):
    result = run_cli("privacy", "purge-closed")
    assert result.exit_code != 0
    assert "ILP_RETENTION_YEARS" in result.output
    with app.app_context():
        with pytest.raises(PrivacyError):
            purge_closed_plans(0)


def test_purge_uses_retention_setting(app, platform, browser, run_cli):
    plan_id = plan_id_of(fill_plan(browser, platform))
    _close(app, plan_id, utcnow() - timedelta(days=4 * 366))
    settings = app.config["ILP_SETTINGS"]
    original = settings.retention_years
    settings.retention_years = 5
    try:
        kept = run_cli("privacy", "purge-closed")
        assert "purged 0 plans" in kept.output
        settings.retention_years = 3
        dry = run_cli("privacy", "purge-closed", "--dry-run")
        assert f"plan {plan_id} of person" in dry.output
        with app.app_context():
            assert db.session.get(Plan, plan_id) is not None
        purged = run_cli("privacy", "purge-closed")
        assert "purged 1 plans" in purged.output
    finally:
        settings.retention_years = original
    with app.app_context():
        assert db.session.get(Plan, plan_id) is None


def test_retention_cutoff_on_leap_day():
    now = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert retention_cutoff(1, now) == datetime(2027, 2, 28, 12, 0, tzinfo=UTC)
    assert retention_cutoff(4, now) == datetime(2024, 2, 29, 12, 0, tzinfo=UTC)


def test_purge_deletes_long_expired_sessions(app, platform, browser, run_cli):
    from lti_ilp.web.session import LaunchSession

    old = browser.launch(platform, student(user="student-ben"))
    current = browser.launch(platform, student(user="student-zoe"))
    ben_id = person_id(app, "student-ben")
    with app.app_context():
        session = db.session.scalars(
            select(LaunchSession).where(LaunchSession.person_id == ben_id)
        ).one()
        session.expires_at = utcnow() - timedelta(days=2)
        db.session.commit()

    result = run_cli("privacy", "purge-closed", "--older-than-years", "1")
    assert result.exit_code == 0, result.output
    assert "deleted 1 launch sessions" in result.output
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(LaunchSession.id)).where(LaunchSession.person_id == ben_id)
            )
            == 0
        )
    assert browser.http.get(current.url).status_code == 200
    assert browser.http.get(old.url).status_code == 401
