"""Concurrent first launches of the same people and course, over real HTTP.

Each browser finishes its login first, then every launch POST is sent at the same moment,
so the requests race on the person, course, enrolment, cycle, template and plan inserts.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import event, func, select

from lti_ilp.extensions import db
from lti_ilp.people.models import Course, Enrolment, Person
from lti_ilp.plan_templates.models import Cycle, PlanTemplate
from lti_ilp.plans.models import Plan, StatusChange

from .harness import Browser, page_text
from .security.launches import session_token, student, teacher

RACERS = 6


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def prepared_launches(platform, launches) -> list[tuple[Browser, dict[str, str]]]:
    """Log each launch in with its own browser and return the form it would post."""
    prepared = []
    for launch in launches:
        browser = Browser()
        pending = browser.start_login(platform, launch)
        prepared.append((browser, browser.authorize(platform, pending)))
    return prepared


def post_together(platform, prepared) -> list[requests.Response]:
    """Post every prepared launch at once and follow each to its landing page."""
    barrier = threading.Barrier(len(prepared))

    def run(item):
        browser, fields = item
        barrier.wait(timeout=30)
        response = browser.post_launch(platform, fields)
        if response.status_code != 303:
            return response
        target = requests.compat.urljoin(platform.tool.launch_url, response.headers["Location"])
        return browser.http.get(target, allow_redirects=False, timeout=30)

    with ThreadPoolExecutor(max_workers=len(prepared)) as pool:
        return list(pool.map(run, prepared))


def assert_all_pages_shown(responses) -> None:
    for response in responses:
        assert response.status_code == 200, (response.status_code, page_text(response.text))


def test_same_student_first_launches_race(app, platform):
    responses = post_together(platform, prepared_launches(platform, [student()] * RACERS))

    assert_all_pages_shown(responses)
    assert count(app, Person) == 1
    assert count(app, Course) == 1
    assert count(app, Enrolment) == 1
    assert count(app, Plan) == 1
    assert count(app, Cycle) == 1
    assert count(app, StatusChange, StatusChange.reason == "Plan created") == 1
    with app.app_context():
        keys = db.session.scalars(select(PlanTemplate.key)).all()
    assert len(keys) == len(set(keys))


def test_new_course_launches_race(app, platform):
    launches = [
        student("student-ana"),
        student("student-ben"),
        teacher(),
        student("student-ana"),
        student("student-ben"),
        teacher(),
    ]
    responses = post_together(platform, prepared_launches(platform, launches))

    assert_all_pages_shown(responses)
    assert count(app, Person) == 3
    assert count(app, Course) == 1
    assert count(app, Enrolment) == 3
    assert count(app, Plan) == 2
    assert count(app, Cycle) == 1
    assert count(app, StatusChange, StatusChange.reason == "Plan created") == 2


@pytest.mark.parametrize("courses", [("course-a", "course-b", "course-c")])
def test_same_student_in_new_courses_race(app, platform, courses):
    launches = [student(course=course) for course in courses for _ in range(2)]
    responses = post_together(platform, prepared_launches(platform, launches))

    assert_all_pages_shown(responses)
    assert count(app, Person) == 1
    assert count(app, Course) == len(courses)
    assert count(app, Enrolment) == len(courses)
    assert count(app, Plan) == 1
    assert count(app, StatusChange, StatusChange.reason == "Plan created") == 1


def test_teacher_opens_first_plan_twice_at_once(app, platform):
    """A teacher's launch creates no plan, so the plan page's first requests race on the
    plan insert itself, with no person upsert to put them in line."""
    browser = Browser()
    landing = browser.launch(platform, teacher())
    assert landing.status_code == 200, page_text(landing.text)
    plan_url = f"{platform.tool.launch_url.rsplit('/lti/', 1)[0]}/s/{session_token(landing)}/plan"
    barrier = threading.Barrier(RACERS)

    def open_plan(_):
        barrier.wait(timeout=30)
        return browser.http.get(plan_url, allow_redirects=False, timeout=30)

    with app.app_context():
        engine = db.engine
    plan_inserts = []

    def note_insert(conn, cursor, statement, parameters, context, executemany):
        if re.match(r"INSERT INTO \"?plan\"? ", statement):
            plan_inserts.append(statement)

    event.listen(engine, "before_cursor_execute", note_insert)
    try:
        with ThreadPoolExecutor(max_workers=RACERS) as pool:
            responses = list(pool.map(open_plan, range(RACERS)))
    finally:
        event.remove(engine, "before_cursor_execute", note_insert)

    assert_all_pages_shown(responses)
    assert count(app, Plan) == 1
    assert count(app, StatusChange, StatusChange.reason == "Plan created") == 1
    if len(plan_inserts) < 2:
        pytest.skip("the requests did not overlap, so the plan insert did not race")
