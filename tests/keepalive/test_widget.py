"""The homepage widget: placed in the course, launched as a student, updating the plan."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lti_ilp.activity.models import PlanActivity
from lti_ilp.demo.lms_roster import place_widget_link
from lti_ilp.demo.seed import ALGEBRA, TEACHER
from lti_ilp.extensions import db

from ..harness import page_text
from .helpers import DemoBrowser

STUDENT = "student-chloe"


@pytest.fixture
def browser(demo):
    return DemoBrowser(demo)


@pytest.fixture
def widget_link(demo) -> str:
    return place_widget_link(demo.lms, ALGEBRA).link_id


def _add_goal(browser: DemoBrowser) -> None:
    page = browser.open_as(STUDENT)
    page = browser.submit(
        page,
        r"/plan/goals$",
        {
            "statement": "Pass the unit 5 test",
            "target_date": "2027-05-30",
            "step_1": "Redo the practice set",
            "step_1_due": "2027-01-10",
            "step_2": "Ask for tutoring",
        },
    )
    assert page.status_code == 200


def test_widget_shows_next_action_step(app, browser, widget_link):
    _add_goal(browser)
    widget = browser.open_as(STUDENT, link_id=widget_link)
    text = page_text(widget.text)
    assert widget.status_code == 200
    assert "/widget" in widget.url
    assert "Next action step Redo the practice set" in text
    assert "Pass the unit 5 test" in text


def test_widget_progress_appears_in_full_plan(app, browser, widget_link):
    _add_goal(browser)
    widget = browser.open_as(STUDENT, link_id=widget_link)
    updated = browser.submit(widget, r"/widget/goals/\d+/progress$", {})
    assert updated.status_code == 200
    assert "10%" in page_text(updated.text)
    assert "Update progress to 20%" in updated.text

    plan = browser.open_as(STUDENT)
    assert re.search(r"10\s*%", page_text(plan.text))
    with app.app_context():
        kinds = db.session.scalars(select(PlanActivity.kind)).all()
        assert "progress" in kinds


def test_widget_marks_step_done(app, browser, widget_link):
    _add_goal(browser)
    widget = browser.open_as(STUDENT, link_id=widget_link)
    done = browser.submit(widget, r"/widget/steps/\d+/done$", {})
    assert "Next action step Ask for tutoring" in page_text(done.text)


def test_widget_without_goals(app, browser, widget_link):
    widget = browser.open_as(STUDENT, link_id=widget_link)
    assert "Your plan has no open goals yet." in page_text(widget.text)


def test_widget_for_teacher_links_dashboard(app, browser, widget_link):
    widget = browser.open_as(TEACHER, link_id=widget_link)
    assert "Open the triage dashboard" in page_text(widget.text)


def test_widget_rejects_goal_of_other_plan(app, browser, widget_link):
    _add_goal(browser)
    widget = browser.open_as(STUDENT, link_id=widget_link)
    goal_id = int(re.search(r"/widget/goals/(\d+)/progress", widget.text).group(1))
    other = browser.open_as("student-ben", link_id=widget_link)
    # Ben's widget has no form yet, so take the session's form token from his plan page.
    form_token = re.search(
        r'name="csrf_token" value="([^"]+)"', browser.get(other, "/plan").text
    ).group(1)
    base = other.url.rsplit("/widget", 1)[0]
    response = browser.http.post(
        f"{base}/widget/goals/{goal_id}/progress",
        data={"csrf_token": form_token, "progress": "90"},
        allow_redirects=False,
    )
    assert response.status_code == 404
