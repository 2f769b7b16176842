"""Nudges: the student first, then the teacher, then the coordinator, each once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from lti_ilp.demo.seed import COORDINATOR, TEACHER
from lti_ilp.extensions import db
from lti_ilp.nudges import clock
from lti_ilp.nudges.models import Nudge, NudgeRule, OutboxEmail
from lti_ilp.people.models import Person
from lti_ilp.platforms.models import Deployment

from ..harness import page_text
from .helpers import DemoBrowser, advance_clock, run_nudge_job

STUDENT = "student-ben"


@pytest.fixture
def browser(demo):
    return DemoBrowser(demo)


def _set_rule(app, **values) -> None:
    with app.app_context():
        deployment_id = db.session.scalars(select(Deployment.id)).one()
        db.session.add(NudgeRule(deployment_id=deployment_id, **values))
        db.session.commit()


@pytest.fixture
def quiet_plan(app, demo, browser, demo_settings):
    """Ben has a plan; his teacher and the coordinator have launched; no quiet hours."""
    browser.open_as(STUDENT)
    browser.open_as(TEACHER)
    browser.open_as(COORDINATOR)
    _set_rule(
        app,
        student_after_days=7,
        staff_after_days=14,
        coordinator_after_days=21,
        quiet_start_hour=0,
        quiet_end_hour=0,
    )


def _log(app, subject_sub: str) -> list[tuple[str, str]]:
    """Return the nudge log about one person's plan as (level, recipient sub)."""
    subject = db.aliased(Person)
    with app.app_context():
        rows = db.session.execute(
            select(Nudge.level, Person.sub)
            .join(Person, Person.id == Nudge.recipient_id)
            .join(subject, subject.id == Nudge.subject_id)
            .where(subject.sub == subject_sub)
            .order_by(Nudge.id)
        ).all()
        return [tuple(row) for row in rows]


def test_nudges_escalate_once_each(app, browser, quiet_plan):
    assert run_nudge_job(app, STUDENT) == []

    advance_clock(app, 8)
    assert run_nudge_job(app, STUDENT) == [("student", STUDENT)]
    assert run_nudge_job(app, STUDENT) == []

    page = browser.open_as(STUDENT)
    assert "Time to update your learning plan" in page_text(page.text)
    assert "no updates for 8 days" in page_text(page.text)

    advance_clock(app, 7)
    assert run_nudge_job(app, STUDENT) == [("staff", TEACHER)]
    assert run_nudge_job(app, STUDENT) == []
    teacher_page = browser.open_as(TEACHER)
    assert "A learning plan has gone quiet" in page_text(teacher_page.text)

    advance_clock(app, 7)
    assert run_nudge_job(app, STUDENT) == [("coordinator", COORDINATOR)]
    assert run_nudge_job(app, STUDENT) == []

    advance_clock(app, 30)
    assert run_nudge_job(app, STUDENT) == []
    assert _log(app, STUDENT) == [
        ("student", STUDENT),
        ("staff", TEACHER),
        ("coordinator", COORDINATOR),
    ]


def test_escalation_waits_after_long_silence(app, quiet_plan):
    advance_clock(app, 30)
    assert run_nudge_job(app, STUDENT) == [("student", STUDENT)]
    assert run_nudge_job(app, STUDENT) == []
    advance_clock(app, 7)
    assert run_nudge_job(app, STUDENT) == [("staff", TEACHER)]


def test_activity_ends_window_and_marks_acted(app, browser, quiet_plan):
    advance_clock(app, 8)
    run_nudge_job(app, STUDENT)
    page = browser.open_as(STUDENT)
    browser.submit(page, r"/plan/goals$", {"statement": "Finish chapter 5"})

    with app.app_context():
        nudge = db.session.scalars(
            select(Nudge)
            .join(Person, Person.id == Nudge.recipient_id)
            .where(Person.sub == STUDENT)
        ).one()
        assert nudge.acted_at is not None
    assert "Time to update" not in page_text(browser.open_as(STUDENT).text)

    advance_clock(app, 6)
    assert run_nudge_job(app, STUDENT) == []
    advance_clock(app, 1)
    assert run_nudge_job(app, STUDENT) == [("student", STUDENT)]


def test_viewing_plan_is_not_activity(app, browser, quiet_plan):
    advance_clock(app, 8)
    for _ in range(3):
        browser.open_as(STUDENT)
    assert run_nudge_job(app, STUDENT) == [("student", STUDENT)]


def test_nudge_email_in_outbox_without_session_link(app, demo, quiet_plan):
    advance_clock(app, 8)
    run_nudge_job(app, STUDENT)
    with app.app_context():
        email = db.session.scalars(
            select(OutboxEmail)
            .join(Person, Person.id == OutboxEmail.recipient_id)
            .where(Person.sub == STUDENT)
        ).one()
        assert email.to_address == "ben.okafor@example.edu"
        assert "/s/" not in email.body
        assert "Algebra I (evening)" in email.body
        assert email.status == "kept_in_outbox"

    outbox = requests.get(f"{demo.tool_url}/demo/outbox", timeout=10)
    assert outbox.status_code == 200
    assert "Time to update your learning plan" in outbox.text


def test_outbox_page_hidden_without_demo_mode(app, demo):
    assert requests.get(f"{demo.tool_url}/demo/outbox", timeout=10).status_code == 404


def test_quiet_hours_defer_nudges(app, demo, browser, demo_settings):
    browser.open_as(STUDENT)
    with app.app_context():
        hour = (clock.now() + timedelta(days=8)).hour
    _set_rule(app, student_after_days=7, quiet_start_hour=hour, quiet_end_hour=(hour + 1) % 24)
    advance_clock(app, 8)
    assert run_nudge_job(app, STUDENT) == []
    with app.app_context():
        clock.advance(timedelta(hours=1))
        db.session.commit()
    assert run_nudge_job(app, STUDENT) == [("student", STUDENT)]


def test_banner_dismissed_stays_hidden(app, browser, quiet_plan):
    advance_clock(app, 8)
    run_nudge_job(app, STUDENT)
    page = browser.open_as(STUDENT)
    dismissed = browser.submit(page, r"/nudges/\d+/dismiss$", {})
    assert dismissed.status_code == 200
    assert "Time to update" not in page_text(dismissed.text)
    assert "Time to update" not in page_text(browser.open_as(STUDENT).text)


def test_demo_clock_ignored_when_off(app, demo):
    with app.app_context():
        before = clock.now()
        with pytest.raises(clock.DemoClockDisabled):
            clock.advance(timedelta(days=3))
        assert clock.now() - before < timedelta(minutes=1)


def test_demo_controls_move_clock_and_nudge(app, demo, quiet_plan):
    outbox = requests.get(f"{demo.tool_url}/demo/outbox", timeout=10)
    form_token = re.search(r'name="form_token" value="([^"]+)"', outbox.text).group(1)
    moved = requests.post(
        f"{demo.tool_url}/demo/clock", data={"form_token": form_token, "days": "8"}, timeout=30
    )
    assert moved.status_code == 200
    assert "nudges sent" in page_text(moved.text)
    assert _log(app, STUDENT) == [("student", STUDENT)]


def test_demo_controls_reject_missing_token(app, demo, demo_settings):
    response = requests.post(f"{demo.tool_url}/demo/clock", data={"days": "8"}, timeout=10)
    assert response.status_code == 400
    with app.app_context():
        assert clock.clock_offset() == timedelta(0)


def test_quiet_goal_in_active_plan(app, browser, quiet_plan):
    page = browser.open_as(STUDENT)
    page = browser.submit(page, r"/plan/goals$", {"statement": "Read a novel"})
    page = browser.submit(page, r"/plan/goals$", {"statement": "Write an essay"})
    advance_clock(app, 8)
    page = browser.open_as(STUDENT)
    # Progress on the first goal keeps the plan active; the second goal stays quiet.
    browser.submit(page, r"/plan/goals/\d+/progress$", {"progress": "30"})

    assert run_nudge_job(app, STUDENT) == [("student", STUDENT)]
    assert run_nudge_job(app, STUDENT) == []
    with app.app_context():
        nudge = db.session.scalars(
            select(Nudge)
            .join(Person, Person.id == Nudge.recipient_id)
            .where(Person.sub == STUDENT)
        ).one()
        assert nudge.window_key.startswith("goal:")
        assert nudge.stale_days == 8
    banner = page_text(browser.open_as(STUDENT).text)
    assert "One of your goals needs a progress update" in banner
