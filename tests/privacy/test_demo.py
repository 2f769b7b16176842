"""Export and deletion of a student in the demo LMS, launched the way a browser does."""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_ilp.demo.seed import ALGEBRA
from lti_ilp.extensions import db
from lti_ilp.people.models import Person
from lti_ilp.plans.models import Plan

from ..demo.conftest import LmsBrowser, demo, lms_browser  # noqa: F401  (fixtures)
from ..harness import page_text
from .helpers import export_json, foreign_key_violations, get, person_id, post

ANA = "Open the ILP as Ana Lopez (Student)"
COORDINATOR = "Open the ILP as Pat Morgan (Administrator)"
GOAL = {"statement": "Pass Algebra I with a B", "step_1": "Finish the unit 3 practice set"}


def _link(page, pattern: str) -> str:
    match = re.search(rf'href="([^"]*{pattern})"', page.text)
    assert match, f"no link matching {pattern}"
    return match.group(1)


def test_demo_student_export_and_delete(app, demo, lms_browser):  # noqa: F811
    page = lms_browser.open_ilp(ALGEBRA, ANA)
    page = lms_browser.submit(page, r"/plan/goals$", GOAL)
    assert page.status_code == 200, page_text(page.text)
    base = page.url.split("/s/")[0]

    own = export_json(lms_browser.http.get(base + _link(page, r"/privacy/my-data\.json")))
    assert own["records"]["person"][0]["name"] == "Ana Lopez"
    assert [goal["statement"] for goal in own["records"]["goal"]] == [GOAL["statement"]]
    pdf = lms_browser.http.get(base + _link(page, r"/privacy/my-data\.pdf"))
    assert pdf.content.startswith(b"%PDF-")

    ana_id = person_id(app, "student-ana")
    console = LmsBrowser(demo).open_ilp(ALGEBRA, COORDINATOR)
    assert console.status_code == 200, page_text(console.text)
    people = get(lms_browser, console, "/privacy/people?q=Lopez")
    assert "Ana Lopez" in page_text(people.text)
    full = export_json(get(lms_browser, console, f"/privacy/people/{ana_id}/export.json"))
    assert full["scope"] == "full"
    confirm = get(lms_browser, console, f"/privacy/people/{ana_id}/delete")
    response = post(
        lms_browser,
        confirm,
        f"/privacy/people/{ana_id}/delete",
        {"requested_by": "Demo ticket 1", "confirm": str(ana_id)},
    )
    assert response.status_code == 200, page_text(response.text)

    with app.app_context():
        assert db.session.get(Person, ana_id) is None
        assert db.session.scalars(select(Plan).where(Plan.person_id == ana_id)).all() == []
    assert foreign_key_violations(app) == []

    again = lms_browser.open_ilp(ALGEBRA, ANA)
    assert again.status_code == 200
    assert GOAL["statement"] not in page_text(again.text)
