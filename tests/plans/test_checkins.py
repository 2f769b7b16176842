"""Check-ins: generated agenda, next steps and the conference packet."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from lti_ilp.checkins.models import CheckIn
from lti_ilp.extensions import db
from lti_ilp.plans.models import ActionStep

from ..harness import page_text
from .helpers import follow, get, goal_ids_of, launch_mentor, plan_id_of, post, student


def _ana_with_two_goals(browser, platform):
    page = browser.launch(platform, student())
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    page = browser.submit(
        page,
        r"/plan/goals$",
        {
            "statement": "Finish English 11 by March",
            "step_1": "Submit essay 2",
            "step_1_due": yesterday,
        },
    )
    page = browser.submit(page, r"/plan/goals$", {"statement": "Apply to the CNA program"})
    return page


def test_mentor_checkin_flow(app, platform, browser, plan_events):
    ana = _ana_with_two_goals(browser, platform)
    plan_id = plan_id_of(ana)
    english, cna = goal_ids_of(ana)
    assert post(browser, ana, f"/plan/goals/{cna}/progress", {"progress": "20"}).status_code == 303

    mentor = launch_mentor(browser, platform)
    plan_page = get(browser, mentor, f"/plans/{plan_id}")
    response = post(
        browser,
        plan_page,
        f"/plans/{plan_id}/checkins",
        {
            "mode": "online",
            "meeting_link": "https://meet.example.org/abc",
            "participants": str(plan_page and 0),
        },
    )
    assert response.status_code == 400
    response = post(
        browser,
        plan_page,
        f"/plans/{plan_id}/checkins",
        {"mode": "online", "meeting_link": "https://meet.example.org/abc"},
    )
    checkin = follow(browser, response)
    text = page_text(checkin.text)
    stale = checkin.text.split('id="stale-goals"', 1)[1].split("</ul>", 1)[0]
    assert "Finish English 11 by March" in stale
    assert "Apply to the CNA program" not in stale
    assert "Submit essay 2" in text

    checkin_id = int(checkin.url.rsplit("/", 1)[1])
    response = post(
        browser,
        checkin,
        f"/plans/{plan_id}/checkins/{checkin_id}/notes",
        {"shared_notes": "Ana will email her teacher", "staff_notes": "Ask about night shifts"},
    )
    assert response.status_code == 303
    response = post(
        browser,
        checkin,
        f"/plans/{plan_id}/checkins/{checkin_id}/steps",
        {
            "goal_id": str(english),
            "description": "Book a tutoring slot",
            "due_date": date.today().isoformat(),
        },
    )
    assert response.status_code == 303
    assert "checkin" in {kind for _, _, kind in plan_events["activity"]}

    pdf = get(browser, checkin, f"/plans/{plan_id}/checkins/{checkin_id}/packet.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    packet = get(browser, checkin, f"/plans/{plan_id}/checkins/{checkin_id}/packet")
    assert "Book a tutoring slot" in page_text(packet.text)
    assert "Ask about night shifts" not in packet.text

    ana = browser.launch(platform, student())
    assert "Book a tutoring slot" in page_text(ana.text)
    assert "From a check-in" in ana.text
    own_checkin = get(browser, ana, f"/plans/{plan_id}/checkins/{checkin_id}")
    assert "Ana will email her teacher" in own_checkin.text
    assert "Ask about night shifts" not in own_checkin.text
    with app.app_context():
        step = db.session.execute(
            select(ActionStep).where(ActionStep.description == "Book a tutoring slot")
        ).scalar_one()
        assert step.checkin_id == checkin_id
        assert step.goal_id == english


def test_learner_cannot_hold_checkin(app, platform, browser):
    ana = _ana_with_two_goals(browser, platform)
    plan_id = plan_id_of(ana)
    response = post(browser, ana, f"/plans/{plan_id}/checkins", {"mode": "in_person"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalars(select(CheckIn)).all() == []


def test_next_step_goal_from_other_plan_rejected(app, platform, browser):
    ana = _ana_with_two_goals(browser, platform)
    plan_id = plan_id_of(ana)
    ben = browser.launch(platform, student(user="student-ben"))
    ben = browser.submit(ben, r"/plan/goals$", {"statement": "Ben goal"})
    ben_goal = goal_ids_of(ben)[0]
    mentor = launch_mentor(browser, platform)
    checkin = follow(
        browser, post(browser, mentor, f"/plans/{plan_id}/checkins", {"mode": "in_person"})
    )
    checkin_id = int(checkin.url.rsplit("/", 1)[1])
    response = post(
        browser,
        checkin,
        f"/plans/{plan_id}/checkins/{checkin_id}/steps",
        {"goal_id": str(ben_goal), "description": "Injected"},
    )
    assert response.status_code == 400
    with app.app_context():
        assert (
            db.session.execute(
                select(ActionStep).where(ActionStep.description == "Injected")
            ).first()
            is None
        )
