"""The dashboard is drawn with the same number of SQL statements for 10 or 2,000 plans."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event, insert, select

from lti_ilp.activity.models import PlanActivity
from lti_ilp.checkins.models import CheckIn
from lti_ilp.extensions import db, utcnow
from lti_ilp.nudges.models import Nudge
from lti_ilp.people.models import Course, Enrolment, Person
from lti_ilp.plan_templates.models import Cycle, PlanTemplate
from lti_ilp.plans.models import ActionStep, Goal, Plan
from lti_ilp.platforms.models import Deployment, Registration
from lti_ilp.rosters.models import RosterMember
from lti_ilp.web.session import open_session


@contextmanager
def count_statements():
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _tenant() -> tuple[int, int, int]:
    registration = Registration(
        issuer="https://lms.example",
        client_id="client-1",
        auth_login_url="https://lms.example/auth",
        auth_token_url="https://lms.example/token",
        key_set_url="https://lms.example/jwks",
    )
    db.session.add(registration)
    db.session.flush()
    deployment = Deployment(registration_id=registration.id, deployment_id="dep-1")
    db.session.add(deployment)
    db.session.flush()
    cycle = Cycle(
        deployment_id=deployment.id,
        name="2026",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
        is_current=True,
    )
    template = PlanTemplate(deployment_id=deployment.id, key="learner", name="Learner plan")
    db.session.add_all([cycle, template])
    db.session.flush()
    return deployment.id, cycle.id, template.id


def build_course(
    deployment_id: int, cycle_id: int, template_id: int, label: str, plan_count: int
) -> tuple[Person, Course]:
    """Bulk-insert a course with ``plan_count`` learners, each with a busy plan."""
    now = utcnow()
    course = Course(deployment_id=deployment_id, context_id=f"course-{label}", title=label)
    teacher = Person(
        deployment_id=deployment_id, sub=f"teacher-{label}", name="Teacher", last_launch_at=now
    )
    db.session.add_all([course, teacher])
    db.session.flush()
    db.session.add(
        Enrolment(course_id=course.id, person_id=teacher.id, course_role="instructor", roles=[])
    )

    subs = [f"{label}-learner-{index}" for index in range(plan_count)]
    db.session.execute(
        insert(Person),
        [
            {
                "deployment_id": deployment_id,
                "sub": sub,
                "name": f"Learner {sub}",
                "last_launch_at": now if index % 3 else None,
            }
            for index, sub in enumerate(subs)
        ],
    )
    people = dict(
        db.session.execute(select(Person.sub, Person.id).where(Person.sub.in_(subs))).all()
    )
    person_ids = [people[sub] for sub in subs]
    db.session.execute(
        insert(Enrolment),
        [
            {"course_id": course.id, "person_id": person_id, "course_role": "learner", "roles": []}
            for person_id in person_ids
        ],
    )
    db.session.execute(
        insert(RosterMember),
        [
            {
                "course_id": course.id,
                "person_id": person_id,
                "course_role": "learner",
                "roles": [],
                "created_from_roster": True,
            }
            for person_id in person_ids[::3]
        ],
    )
    launched = [person_id for index, person_id in enumerate(person_ids) if index % 3]
    db.session.execute(
        insert(Plan),
        [
            {
                "person_id": person_id,
                "cycle_id": cycle_id,
                "template_id": template_id,
                "status": "active",
                "profile": {},
                "created_at": now - timedelta(days=40),
            }
            for person_id in launched
        ],
    )
    plans = list(db.session.execute(select(Plan.id).where(Plan.person_id.in_(launched))).scalars())
    db.session.execute(
        insert(Goal),
        [
            {
                "plan_id": plan_id,
                "statement": f"Goal {number}",
                "progress": 10 * number,
                "target_date": date.today() + timedelta(days=30 * number),
                "created_at": now - timedelta(days=30),
            }
            for plan_id in plans
            for number in (1, 2)
        ],
    )
    goals = list(db.session.execute(select(Goal.id).where(Goal.plan_id.in_(plans))).scalars())
    db.session.execute(
        insert(ActionStep),
        [
            {
                "goal_id": goal_id,
                "description": "Step",
                "done": False,
                "due_date": date.today() - timedelta(days=goal_id % 5),
            }
            for goal_id in goals
        ],
    )
    db.session.execute(
        insert(PlanActivity),
        [
            {
                "plan_id": plan_id,
                "kind": "progress",
                "by_owner": True,
                "created_at": now - timedelta(days=plan_id % 20),
            }
            for plan_id in plans
        ],
    )
    db.session.execute(
        insert(CheckIn),
        [
            {
                "plan_id": plan_id,
                "held_on": date.today() - timedelta(days=plan_id % 45),
                "created_by_id": teacher.id,
                "agenda": {},
            }
            for plan_id in plans[::2]
        ],
    )
    db.session.execute(
        insert(Nudge),
        [
            {
                "deployment_id": deployment_id,
                "plan_id": plan_id,
                "subject_id": person_id,
                "recipient_id": person_id,
                "level": "student",
                "window_key": "quiet:x",
                "sent_at": now,
            }
            for plan_id, person_id in db.session.execute(
                select(Plan.id, Plan.person_id).where(Plan.id.in_(plans[::4]))
            ).all()
        ],
    )
    return teacher, course


def _open_dashboard_session(teacher: Person, course: Course) -> str:
    session = open_session(
        person=teacher,
        deployment=teacher.deployment,
        course=course,
        course_role="instructor",
        is_platform_administrator=False,
        message_type="LtiResourceLinkRequest",
        resource_link_id="link-1",
        target_link_uri="https://tool.example/lti/launch",
        services={},
    )
    return session.token


@pytest.fixture
def courses(app, monkeypatch):
    # The security headers cache the LMS origins for 30 seconds. Building 2,000 plans can
    # take longer than that, and a refill inside one measured request adds a statement.
    monkeypatch.setattr("lti_ilp.web.headers.FRAME_ANCESTORS_TTL_SECONDS", 3600.0)
    with app.app_context():
        deployment_id, cycle_id, template_id = _tenant()
        small = build_course(deployment_id, cycle_id, template_id, "small", 10)
        large = build_course(deployment_id, cycle_id, template_id, "large", 2000)
        tokens = {
            "small": _open_dashboard_session(*small),
            "large": _open_dashboard_session(*large),
        }
        db.session.commit()
    # The first request fills that cache, so the measured requests come after it.
    app.test_client().get(f"/s/{tokens['small']}/dashboard")
    return tokens


def _summary(statements: list[str]) -> str:
    return "\n".join(" ".join(statement.split())[:90] for statement in statements)


def _draw(app, token: str, path: str = "") -> tuple[int, list[str], str]:
    client = app.test_client()
    with app.app_context(), count_statements() as statements:
        response = client.get(f"/s/{token}/dashboard{path}")
    return response.status_code, statements, response.get_data(as_text=True)


def test_dashboard_statements_equal_10_and_2000(app, courses):
    status_small, small, page_small = _draw(app, courses["small"])
    status_large, large, page_large = _draw(app, courses["large"])
    assert status_small == 200
    assert status_large == 200
    assert "10 people" in page_small
    assert "2000 people" in page_large
    assert len(small) == len(large), _summary(small) + "\n--- 2,000 plans:\n" + _summary(large)


def test_dashboard_filters_same_statements(app, courses):
    query = "?sort=behind&filter=overdue&q=learner"
    _, small, _ = _draw(app, courses["small"], query)
    _, large, _ = _draw(app, courses["large"], query)
    assert len(small) == len(large), _summary(small) + "\n--- 2,000 plans:\n" + _summary(large)


def test_csv_export_statements_equal(app, courses):
    status_small, small, csv_small = _draw(app, courses["small"], "/export.csv")
    status_large, large, csv_large = _draw(app, courses["large"], "/export.csv")
    assert status_small == 200
    assert status_large == 200
    assert len(csv_small.strip().splitlines()) == 11
    assert len(csv_large.strip().splitlines()) == 2001
    assert len(small) == len(large), _summary(small) + "\n--- 2,000 plans:\n" + _summary(large)
