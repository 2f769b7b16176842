"""Activity rows come from plan events; views never count."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from lti_ilp.activity.models import PlanActivity
from lti_ilp.activity.service import record_activity
from lti_ilp.events import plan_activity
from lti_ilp.extensions import db
from lti_ilp.people.models import Person
from lti_ilp.plan_templates.models import Cycle
from lti_ilp.plans.models import Plan
from lti_ilp.platforms.models import Deployment, Registration


def _plan() -> Plan:
    registration = Registration(
        issuer="https://lms.example",
        client_id="c",
        auth_login_url="https://lms.example/a",
        auth_token_url="https://lms.example/t",
        key_set_url="https://lms.example/k",
    )
    db.session.add(registration)
    db.session.flush()
    deployment = Deployment(registration_id=registration.id, deployment_id="d")
    db.session.add(deployment)
    db.session.flush()
    owner = Person(deployment_id=deployment.id, sub="owner")
    staff = Person(deployment_id=deployment.id, sub="staff")
    cycle = Cycle(
        deployment_id=deployment.id,
        name="2026",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
    )
    db.session.add_all([owner, staff, cycle])
    db.session.flush()
    plan = Plan(person_id=owner.id, cycle_id=cycle.id, profile={})
    db.session.add(plan)
    db.session.flush()
    return plan


def test_plan_event_records_activity(app_context):
    plan = _plan()
    staff_id = plan.person_id + 1
    plan_activity.send(plan, plan=plan, actor_id=plan.person_id, kind="evidence")
    plan_activity.send(plan, plan=plan, actor_id=staff_id, kind="checkin")
    db.session.flush()
    rows = db.session.scalars(select(PlanActivity).order_by(PlanActivity.id)).all()
    assert [(row.kind, row.by_owner) for row in rows] == [("evidence", True), ("checkin", False)]


def test_view_events_are_ignored(app_context):
    plan = _plan()
    plan_activity.send(plan, plan=plan, actor_id=plan.person_id, kind="view")
    assert record_activity(plan, plan.person_id, "viewed") is None
    db.session.flush()
    assert db.session.scalars(select(PlanActivity)).all() == []
