"""Launches and page walks shared by the privacy tests."""

from __future__ import annotations

import json
import re

import requests
from sqlalchemy import select, text

from lti_ilp.demo.platform import ROLE_ADMINISTRATOR, LaunchRequest
from lti_ilp.extensions import db
from lti_ilp.people.models import Person

from ..plans.helpers import get, plan_id_of, post, student, teacher

__all__ = ["admin", "get", "plan_id_of", "post", "student", "teacher"]

# A small valid PNG: signature, IHDR, IDAT and IEND chunks of a 1x1 image.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4"
    "890000000d4944415478da63f8cfc0f01f0005000201a5e2e8b90000000049454e44ae426082"
)


def admin(user="admin-ortiz", course="course-algebra"):
    return LaunchRequest(
        user_id=user, context_id=course, resource_link_id="link-1", roles=(ROLE_ADMINISTRATOR,)
    )


def person_id(app, sub: str) -> int | None:
    with app.app_context():
        return db.session.scalar(select(Person.id).where(Person.sub == sub))


def fill_plan(browser, platform, user="student-zoe") -> requests.Response:
    """Fill a plan through the plan pages: profile, a goal with steps, progress, a link,
    a file and a reflection. Return the plan page."""
    page = browser.launch(platform, student(user=user))
    assert page.status_code == 200, page.text[:500]
    page = browser.submit(
        page,
        r"/plan/profile$",
        {
            "strengths": "Drawing and patient explaining",
            "interests": "Graphic novels",
        },
    )
    assert page.status_code == 200, page.text[:500]
    page = browser.submit(
        page,
        r"/plan/goals$",
        {
            "domain": "academic",
            "statement": "Raise my algebra grade to a B",
            "why_it_matters": "I want to take physics next year",
            "measure": "Unit test average",
            "baseline": "62",
            "target": "80",
            "unit": "%",
            "target_date": "2027-05-30",
            "step_1": "Finish unit 3 practice",
            "step_1_due": "2027-01-15",
            "step_2": "Go to Tuesday tutoring",
        },
    )
    assert page.status_code == 200, page.text[:500]

    goal_id = int(re.search(r'<article id="goal-(\d+)"', page.text).group(1))
    page = browser.submit(
        page,
        rf"/plan/goals/{goal_id}/progress$",
        {
            "progress": "40",
            "value": "70",
            "note": "Quiz went well",
        },
    )
    assert page.status_code == 200, page.text[:500]

    page = browser.submit(
        page,
        r"/plan/evidence$",
        {
            "kind": "link",
            "url": "https://example.org/my-poster",
            "caption": "My poster",
            "goal_ids": str(goal_id),
        },
    )
    assert page.status_code == 200, page.text[:500]
    response = post(
        browser,
        page,
        "/plan/evidence",
        {
            "kind": "file",
            "caption": "Graph of my scores",
            "goal_ids": str(goal_id),
        },
        files={"file": ("scores.png", PNG_BYTES, "image/png")},
    )
    assert response.status_code == 303, response.text[:500]

    page = browser.submit(
        page,
        r"/plan/reflections/mid_year$",
        {
            "answer": "Tutoring helps most",
            "action": "save",
        },
    )
    assert page.status_code == 200, page.text[:500]
    return page


def download(browser, page: requests.Response, path: str) -> requests.Response:
    return get(browser, page, path)


def export_json(response: requests.Response) -> dict:
    assert response.status_code == 200, response.text[:500]
    # Downloads of types outside the tool's allow-list are served as octet-stream.
    assert response.headers["Content-Type"].split(";")[0] in (
        "application/json",
        "application/octet-stream",
    )
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Content-Disposition"].endswith('-export.json"')
    return json.loads(response.content)


def foreign_key_violations(app) -> list:
    """Return SQLite's foreign key check rows; PostgreSQL enforces keys itself."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return []
        return list(db.session.execute(text("PRAGMA foreign_key_check")))


def own_export_link(page: requests.Response, output_format: str) -> str:
    match = re.search(rf'href="(/s/[^"]+/privacy/my-data\.{output_format})"', page.text)
    assert match, f"plan page has no link to the {output_format} export"
    return match.group(1)
