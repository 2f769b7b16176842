"""Launches of a student whose plan is signed or closed, or whose school year rolled over."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select

from lti_ilp.extensions import db
from lti_ilp.people.models import Person
from lti_ilp.plan_templates.rollover import rollover
from lti_ilp.plans.models import Plan, PlanStatus, StatusChange

from ..harness import Browser, find_form, page_text
from ..security.launches import student


def launch_page(platform):
    browser = Browser()
    page = browser.launch(platform, student())
    assert page.status_code == 200, page_text(page.text)
    return browser, page


def set_plan_status(app, status: str) -> None:
    with app.app_context():
        plan = db.session.scalars(select(Plan)).one()
        plan.status = status
        db.session.commit()


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.parametrize("status", [PlanStatus.SIGNED.value, PlanStatus.CLOSED.value])
def test_launch_shows_finished_plan_read_only(app, platform, status):
    browser, first = launch_page(platform)
    goal_form = find_form(first.text, r"/plan/goals$")
    set_plan_status(app, status)

    _, page = launch_page(platform)
    post = browser.http.post(
        requests.compat.urljoin(first.url, goal_form["action"]),
        data={**goal_form["hidden"], "statement": "Read more", "measure": "Books"},
        allow_redirects=False,
    )

    assert "My learning plan" in page_text(page.text)
    assert count(app, Plan) == 1
    assert count(app, StatusChange, StatusChange.reason == "Plan created") == 1
    assert post.status_code == 409, page_text(post.text)


def test_launch_after_rollover_opens_new_cycle_plan(app, platform):
    launch_page(platform)
    with app.app_context():
        actor = db.session.scalars(select(Person)).one()
        rollover(actor.deployment_id, actor, "Next year")
        db.session.commit()

    _, page = launch_page(platform)

    assert count(app, Plan) == 2
    assert count(app, Plan, Plan.status == PlanStatus.DRAFT.value) == 1
    assert count(app, StatusChange, StatusChange.reason == "Plan created") == 1
    # The closed plan of the old year is listed as another plan.
    assert "(Closed)" in page_text(page.text)


def test_rollover_then_first_launch_creates_plan(app, platform):
    launch_page(platform)
    with app.app_context():
        actor = db.session.scalars(select(Person)).one()
        rollover(actor.deployment_id, actor, "Next year")
        db.session.commit()

    ben = Browser().launch(platform, student("student-ben"))

    assert ben.status_code == 200, page_text(ben.text)
    assert count(app, Plan) == 3
    assert count(app, StatusChange, StatusChange.reason == "Plan created") == 2
