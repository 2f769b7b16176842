"""Checkpoint launches: placements come only from the checkpoint's own link."""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_ilp.checkpoints.models import CheckpointPlacement
from lti_ilp.demo.platform import ROLE_LEARNER, LaunchRequest
from lti_ilp.extensions import db

from ..grades.conftest import ALGEBRA, launch_assignment, place_checkpoint
from ..harness import Browser, page_text


def _placements(app) -> list[tuple[str, int]]:
    with app.app_context():
        rows = db.session.execute(select(CheckpointPlacement)).scalars()
        return [(row.resource_link_id, row.checkpoint_id) for row in rows]


def test_checkpoint_launch_records_placement(app, demo_lms):
    [assignment] = place_checkpoint(demo_lms)
    launch_assignment(demo_lms, assignment.link_id, "student-ana")
    [(link_id, _)] = _placements(app)
    assert link_id == assignment.link_id


def test_other_link_cannot_claim_checkpoint(app, demo_lms):
    [assignment] = place_checkpoint(demo_lms)
    browser = Browser()
    plan_launch = LaunchRequest(
        user_id="student-ana",
        context_id=ALGEBRA,
        resource_link_id="plan-link",
        roles=(ROLE_LEARNER,),
    )
    page = browser.launch(demo_lms.platform, plan_launch)
    assert "/checkpoints/" not in page.url
    session_root = page.url.split("/s/")[0] + "/s/" + page.url.split("/s/")[1].split("/")[0]
    public_id = assignment.custom["ilp_checkpoint"]

    opened = browser.http.get(f"{session_root}/checkpoints/{public_id}?link=forged")

    assert opened.status_code == 200
    assert "Goal check" in page_text(opened.text)
    assert _placements(app) == []


def test_unknown_checkpoint_not_found(demo_lms):
    [assignment] = place_checkpoint(demo_lms)
    browser, page = launch_assignment(demo_lms, assignment.link_id, "student-ana")
    missing = browser.http.get(page.url.split("/checkpoints/")[0] + "/checkpoints/nope")
    assert missing.status_code == 404
    assert "does not exist" in page_text(missing.text)


def test_checkpoint_closed_before_opening(app, demo_lms):
    [assignment] = place_checkpoint(demo_lms, form={"opens_on": "2099-01-01"})
    browser, page = launch_assignment(demo_lms, assignment.link_id, "student-ana")
    assert "opens on 2099-01-01" in page_text(page.text)
    assert "/progress" not in page.text

    # The plan page of the same session carries the session's form token.
    plan_page = browser.http.get(page.url.split("/checkpoints/")[0] + "/plan")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', plan_page.text)[1]
    posted = browser.http.post(
        page.url.split("?")[0] + "/progress",
        data={"csrf_token": csrf, "goal_id": "1", "progress": "50"},
    )
    assert posted.status_code == 409
    assert "opens on 2099-01-01" in page_text(posted.text)
