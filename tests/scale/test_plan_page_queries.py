"""Drawing a plan takes the same number of SQL statements for one goal or for many."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select

from lti_ilp.demo.platform import ROLE_INSTITUTION_STUDENT, ROLE_LEARNER, LaunchRequest
from lti_ilp.extensions import db
from lti_ilp.people.models import Person
from lti_ilp.plans.service import add_goal, ensure_plan

GOAL_FORM = {
    "statement": "Read twenty minutes every school day",
    "domain": "academic",
    "measure": "Reading log entries",
    "step_1": "Pick a book",
    "step_2": "Log each session",
    "step_3": "Tell my mentor on Fridays",
}


def student_launch(user: str) -> LaunchRequest:
    return LaunchRequest(
        user_id=user,
        context_id="course-reading",
        resource_link_id="link-1",
        roles=(ROLE_LEARNER, ROLE_INSTITUTION_STUDENT),
    )


@contextmanager
def counted_statements(app):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split())[:100])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def add_goals(app, sub: str, count: int) -> None:
    with app.app_context():
        person = db.session.execute(select(Person).where(Person.sub == sub)).scalar_one()
        plan = ensure_plan(person)
        for _ in range(count):
            add_goal(plan, person, GOAL_FORM)
        db.session.commit()


def draw_plan(app, browser, page) -> tuple[int, list[str], str]:
    with counted_statements(app) as statements:
        response = browser.http.get(page.url, allow_redirects=False)
    return response.status_code, statements, response.text


def test_plan_statements_equal_1_and_12_goals(app, platform, browser):
    small_page = browser.launch(platform, student_launch("student-ana"))
    large_page = browser.launch(platform, student_launch("student-ben"))
    add_goals(app, "student-ana", 1)
    add_goals(app, "student-ben", 12)

    small_status, small, small_text = draw_plan(app, browser, small_page)
    large_status, large, large_text = draw_plan(app, browser, large_page)

    assert small_status == 200
    assert large_status == 200
    # The page shows each step in several places (the list, its edit form, the history).
    shown_once = small_text.count("Tell my mentor on Fridays")
    assert shown_once >= 1
    assert large_text.count("Tell my mentor on Fridays") == 12 * shown_once
    assert len(small) == len(large), "\n".join(small) + "\n--- 12 goals:\n" + "\n".join(large)
