"""Sessions are bound to one launch: one student's session never reaches another's plan."""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_ilp.extensions import db
from lti_ilp.people.models import Person
from lti_ilp.plans.models import Goal, Plan

from ..harness import page_text
from .launches import session_token, student


def add_goal(browser, page, statement: str):
    response = browser.submit(page, r"/plan/goals$", {"statement": statement})
    assert response.status_code == 200, page_text(response.text)
    return response


def plan_and_goal_ids(app, sub: str) -> tuple[int, int]:
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.sub == sub))
        plan = db.session.scalar(select(Plan).where(Plan.person_id == person.id))
        goal = db.session.scalar(select(Goal).where(Goal.plan_id == plan.id))
        return plan.id, goal.id


def test_new_launch_of_other_user_replaces_session(platform, browser):
    ana = browser.launch(platform, student("student-ana"))
    add_goal(browser, ana, "Ana's private goal")

    ben = browser.launch(platform, student("student-ben"))

    assert session_token(ben) != session_token(ana)
    text = page_text(ben.text)
    assert "Ana's private goal" not in text
    assert "Ana Lopez" not in text
    assert "Ben Okafor" in text or "My learning plan" in text


def test_student_session_cannot_reach_other_plan(app, platform, browser):
    ana = browser.launch(platform, student("student-ana"))
    add_goal(browser, ana, "Ana's private goal")
    ana_plan, ana_goal = plan_and_goal_ids(app, "student-ana")
    ben = browser.launch(platform, student("student-ben"))
    base = ben.url.split("/plan")[0]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', ben.text).group(1)

    view = browser.http.get(f"{base}/plans/{ana_plan}", allow_redirects=False)
    assert view.status_code in {403, 404}
    assert "Ana's private goal" not in view.text

    attempts = {
        f"{base}/plan/goals/{ana_goal}": {"statement": "Changed by Ben"},
        f"{base}/plan/goals/{ana_goal}/progress": {"progress": "99"},
        f"{base}/plan/goals/{ana_goal}/delete": {},
        f"{base}/plans/{ana_plan}/comments": {"body": "Comment by Ben"},
    }
    for url, data in attempts.items():
        response = browser.http.post(url, data={"csrf_token": csrf, **data}, allow_redirects=False)
        assert response.status_code in {403, 404}, (url, response.status_code)

    with app.app_context():
        goal = db.session.get(Goal, ana_goal)
        assert goal is not None
        assert goal.statement == "Ana's private goal"
        assert goal.progress != 99


def test_forged_session_token_is_rejected(platform, browser):
    ana = browser.launch(platform, student("student-ana"))
    base = ana.url.split("/s/")[0]
    forged = session_token(ana)[:-2] + "xx"

    response = browser.http.get(f"{base}/s/{forged}/plan", allow_redirects=False)

    assert response.status_code == 401
    assert "My learning plan" not in response.text
