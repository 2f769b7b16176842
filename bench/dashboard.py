"""The dashboard rows: the triage dashboard of one course at several sizes.

Each size is its own course in the run's deployment, filled with bulk inserts: every
learner has a plan with two goals, an action step per goal and one activity entry. The
page is drawn in-process with Flask's test client, so the time is the server's time to
build and render it, without HTTP. SQL statements are counted with SQLAlchemy's
``before_cursor_execute`` event. The run updates the planner statistics after filling each
course, as autovacuum would.
"""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import event, insert, select, text

from lti_ilp.activity.models import PlanActivity
from lti_ilp.extensions import db, utcnow
from lti_ilp.people.models import Course, Enrolment, Person
from lti_ilp.plan_templates.models import PlanTemplate
from lti_ilp.plan_templates.service import current_cycle, ensure_default_templates
from lti_ilp.plans.models import ActionStep, Goal, Plan
from lti_ilp.platforms.models import Deployment
from lti_ilp.web.session import open_session

TIMED_DRAWS = 5


@dataclass(frozen=True)
class DashboardResult:
    plans: int
    median_seconds: float
    statements: list[int]


@contextmanager
def counted_statements():
    counts = [0]

    def record(*args) -> None:
        counts[0] += 1

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield counts
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _bulk_rows(table, rows: list[dict]) -> None:
    if rows:
        db.session.execute(insert(table), rows)


def build_course(deployment: Deployment, size: int) -> str:
    """Create a course with ``size`` learners and their plans; return a teacher's session
    token for its dashboard."""
    now = utcnow()
    cycle = current_cycle(deployment.id)
    ensure_default_templates(deployment.id)
    template_id = db.session.scalar(
        select(PlanTemplate.id).where(PlanTemplate.deployment_id == deployment.id).limit(1)
    )
    course = Course(
        deployment_id=deployment.id, context_id=f"dashboard-{size}", title=f"Dashboard {size}"
    )
    teacher = Person(
        deployment_id=deployment.id,
        sub=f"dashboard-teacher-{size}",
        name="Teacher",
        last_launch_at=now,
    )
    db.session.add_all([course, teacher])
    db.session.flush()
    db.session.add(
        Enrolment(course_id=course.id, person_id=teacher.id, course_role="instructor", roles=[])
    )

    subs = [f"dashboard-{size}-learner-{index}" for index in range(size)]
    _bulk_rows(
        Person,
        [
            {"deployment_id": deployment.id, "sub": sub, "name": sub, "last_launch_at": now}
            for sub in subs
        ],
    )
    person_ids = list(db.session.scalars(select(Person.id).where(Person.sub.in_(subs))))
    _bulk_rows(
        Enrolment,
        [
            {"course_id": course.id, "person_id": person_id, "course_role": "learner", "roles": []}
            for person_id in person_ids
        ],
    )
    _bulk_rows(
        Plan,
        [
            {
                "person_id": person_id,
                "cycle_id": cycle.id,
                "template_id": template_id,
                "status": "active",
                "profile": {},
                "created_at": now - timedelta(days=40),
            }
            for person_id in person_ids
        ],
    )
    plan_ids = list(db.session.scalars(select(Plan.id).where(Plan.person_id.in_(person_ids))))
    _bulk_rows(
        Goal,
        [
            {
                "plan_id": plan_id,
                "statement": f"Goal {number}",
                "progress": 20 * number,
                "created_at": now - timedelta(days=30),
                "target_date": date.today() + timedelta(days=30 * number),
            }
            for plan_id in plan_ids
            for number in (1, 2)
        ],
    )
    goal_ids = list(db.session.scalars(select(Goal.id).where(Goal.plan_id.in_(plan_ids))))
    _bulk_rows(
        ActionStep,
        [
            {
                "goal_id": goal_id,
                "description": "Step",
                "done": False,
                "due_date": date.today() - timedelta(days=goal_id % 5),
            }
            for goal_id in goal_ids
        ],
    )
    _bulk_rows(
        PlanActivity,
        [
            {
                "plan_id": plan_id,
                "kind": "progress",
                "by_owner": True,
                "created_at": now - timedelta(days=plan_id % 20),
            }
            for plan_id in plan_ids
        ],
    )
    session = open_session(
        person=teacher,
        deployment=deployment,
        course=course,
        course_role="instructor",
        is_platform_administrator=False,
        message_type="LtiResourceLinkRequest",
        resource_link_id=f"dashboard-link-{size}",
        target_link_uri="http://127.0.0.1/lti/launch",
        services={},
    )
    db.session.commit()
    return session.token


def draw(app: Flask, token: str, size: int) -> tuple[float, int]:
    """Request the dashboard once; return the time in seconds and the statement count."""
    client = app.test_client()
    with app.app_context(), counted_statements() as counts:
        started = time.perf_counter()
        response = client.get(f"/s/{token}/dashboard")
        elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"the dashboard of {size} plans returned HTTP {response.status_code}")
    if f"{size} people" not in response.get_data(as_text=True):
        raise RuntimeError(f"the dashboard of {size} plans does not list {size} people")
    return elapsed, counts[0]


def refresh_statistics() -> None:
    """Update the planner statistics after the bulk inserts.

    Without this, PostgreSQL plans the dashboard's statement for empty tables, picks nested
    loops, and the time grows with the square of the plans. Autovacuum runs ANALYZE after
    such inserts by itself, usually within a minute, so a live database is measured with
    fresh statistics too.
    """
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def measure_dashboard(app: Flask, deployment_id: int, sizes: list[int]) -> list[DashboardResult]:
    results = []
    for size in sizes:
        with app.app_context():
            token = build_course(db.session.get(Deployment, deployment_id), size)
            refresh_statistics()
        draw(app, token, size)  # The first draw fills per-process caches.
        draws = [draw(app, token, size) for _ in range(TIMED_DRAWS)]
        results.append(
            DashboardResult(
                plans=size,
                median_seconds=statistics.median(seconds for seconds, _ in draws),
                statements=sorted({count for _, count in draws}),
            )
        )
    return results
