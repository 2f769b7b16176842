"""The demo LMS pages a person clicks through: add a checkpoint, launch it, see the grade."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

from lti_ilp.grades.worker import SyncOptions, drain

from ..harness import Browser, page_text, parse_form
from .conftest import ALGEBRA, add_student_goal


def _follow_lms_launch(browser: Browser, url: str) -> requests.Response:
    """Follow a demo LMS launch link through the tool's login, as a browser without
    LTI client-side storage would, and return the tool's first page."""
    response = browser.http.get(url, allow_redirects=False)
    assert response.status_code == 302, response.text
    login = urlsplit(response.headers["Location"])
    query = [(k, v) for k, v in parse_qsl(login.query) if k != "lti_storage_target"]
    response = browser.http.get(
        login._replace(query=urlencode(query)).geturl(), allow_redirects=False
    )
    assert response.status_code == 302, response.text
    auth_page = browser.http.get(response.headers["Location"])
    action, fields = parse_form(auth_page.text)
    launched = browser.http.post(action, data=fields, allow_redirects=False)
    assert launched.status_code == 303, page_text(launched.text)
    return browser.http.get(requests.compat.urljoin(action, launched.headers["Location"]))


def test_gradebook_shows_six_then_eight(app, demo_lms):
    teacher = Browser()
    course_page = teacher.http.get(f"{demo_lms.url}/courses/{ALGEBRA}")
    assert "Add a plan checkpoint" in course_page.text
    add_page = teacher.http.get(f"{demo_lms.url}/courses/{ALGEBRA}/checkpoints/new")
    assert add_page.status_code == 200

    picker = _follow_lms_launch(
        teacher,
        f"{demo_lms.url}/courses/{ALGEBRA}/checkpoints/launch"
        "?user=teacher-rivera&placement=assignment_selection",
    )
    answer = teacher.submit(
        picker,
        r"/checkpoints/deep-link$",
        {"kind": "goal_progress", "title": "Goal check", "points": "10"},
    )
    action, fields = parse_form(answer.text)
    added = teacher.http.post(action, data=fields)
    assert "Goal check (graded)" in page_text(added.text)

    gradebook = teacher.http.get(f"{demo_lms.url}/courses/{ALGEBRA}/gradebook")
    launch_path = re.search(r'action="([^"]*/assignments/[^"]+/launch)"', gradebook.text)[1]
    student = Browser()
    launch_url = f"{demo_lms.url}{launch_path}?user=student-ana"
    _follow_lms_launch(student, launch_url)
    add_student_goal(app, "student-ana")

    for progress, expected in ((60, "6/10"), (80, "8/10")):
        page = _follow_lms_launch(student, launch_url)
        student.submit(page, r"/checkpoints/[^/]+/progress$", {"progress": str(progress)})
        with app.app_context():
            drain(options=SyncOptions(retry_base_seconds=0))
        gradebook = teacher.http.get(f"{demo_lms.url}/courses/{ALGEBRA}/gradebook")
        cell = re.search(r'data-user="student-ana"[^>]*>([^<]*)<', gradebook.text)[1]
        assert cell == expected


def test_switches_page_plans_failures(demo_lms):
    browser = Browser()
    response = browser.http.post(
        f"{demo_lms.url}/grade-service", data={"server_error": "3", "rate_limit": "1"}
    )
    assert response.status_code == 200
    assert demo_lms.state.planned_failures == ["server_error"] * 3 + ["rate_limit"]
    bad = browser.http.post(f"{demo_lms.url}/grade-service", data={"server_error": "-1"})
    assert bad.status_code == 400
