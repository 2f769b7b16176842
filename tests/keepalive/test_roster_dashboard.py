"""Roster sync from the demo LMS and the teacher's triage dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lti_ilp.demo.lms_roster import roster_state
from lti_ilp.demo.seed import ALGEBRA, TEACHER
from lti_ilp.extensions import db
from lti_ilp.people.models import Person
from lti_ilp.rosters.models import RosterChange, RosterMember, RosterSource

from ..harness import page_text
from .helpers import DemoBrowser, advance_clock, dashboard_rows, grow_course, sync_rosters

SEEDED_ALGEBRA_STUDENTS = [
    "student-ana",
    "student-ben",
    "student-chloe",
    "student-emma",
    "student-farah",
]


@pytest.fixture
def browser(demo):
    return DemoBrowser(demo)


@pytest.fixture
def thirty_students(demo):
    """The Algebra course with 30 students: the 5 seeded ones and 25 added."""
    return SEEDED_ALGEBRA_STUDENTS + grow_course(demo, 25)


def test_dashboard_lists_never_launched_students(app, demo, browser, thirty_students):
    for user_id in thirty_students[:20]:
        assert browser.open_as(user_id).status_code == 200

    before = browser.open_as(TEACHER)
    assert before.status_code == 200
    assert len(dashboard_rows(before.text)) == 20
    assert "not been synced yet" in page_text(before.text)

    outcomes = sync_rosters(app)
    assert len(outcomes) == 1
    assert outcomes[0][1].startswith("ok: 33 members")

    page = browser.get(before, "/dashboard")
    rows = dashboard_rows(page.text)
    assert len(rows) == 30
    assert sum(row["not_started"] for row in rows) == 10
    assert "30 people, 10 not started" in page_text(page.text)
    assert "Roster last synced" in page_text(page.text)
    with app.app_context():
        never_launched = set(
            db.session.scalars(select(Person.sub).where(Person.last_launch_at.is_(None)))
        )
        # The course's mentor and coordinator are on the roster too and never launched.
        assert never_launched == set(thirty_students[20:]) | {"mentor-kim", "coordinator-morgan"}


def test_staleness_sort_puts_quiet_plans_first(app, demo, browser, demo_settings, thirty_students):
    quiet, active = thirty_students[:3], thirty_students[3]
    for user_id in quiet:
        browser.open_as(user_id)
    advance_clock(app, 10)
    page = browser.open_as(active)
    browser.submit(page, r"/plan/goals$", {"statement": "Finish unit 4", "progress": "20"})

    teacher = browser.open_as(TEACHER)
    rows = [row for row in dashboard_rows(teacher.text) if row["stale_days"] is not None]
    assert [row["stale_days"] for row in rows] == [10, 10, 10, 0]
    assert "quiet" in rows[0]["classes"]

    by_name = browser.get(teacher, "/dashboard?sort=name")
    names = [page_text(row["html"]) for row in dashboard_rows(by_name.text)]
    assert names == sorted(names, key=str.casefold)


def test_roster_changes_recorded(app, demo, browser, thirty_students):
    browser.open_as(TEACHER)
    sync_rosters(app)
    demo.lms.store.unenrol(ALGEBRA, thirty_students[0])
    added = grow_course(demo, 1)

    outcomes = sync_rosters(app, interval=timedelta(0))
    assert outcomes[0][1].startswith("ok: 33 members, 1 added, 1 dropped")
    with app.app_context():
        changes = db.session.execute(
            select(RosterChange.change, Person.sub)
            .join(Person, Person.id == RosterChange.person_id)
            .where(RosterChange.change != "added")
            .order_by(RosterChange.id)
        ).all()
        assert [tuple(change) for change in changes] == [("dropped", thirty_students[0])]
        newest = db.session.execute(
            select(RosterMember).join(Person).where(Person.sub == added[0])
        ).scalar_one()
        assert newest.created_from_roster

    page = browser.open_as(TEACHER)
    text = page_text(page.text)
    assert len(dashboard_rows(page.text)) == 30
    assert "Ana Lopez" not in text


@pytest.mark.parametrize("page_size", [10, 50, 100])
def test_roster_sync_pages(app, demo, browser, thirty_students, page_size):
    roster_state(demo.lms).page_size = page_size
    browser.open_as(TEACHER)
    outcomes = sync_rosters(app)
    assert outcomes[0][1].startswith("ok: 33 members")
    requests_made = roster_state(demo.lms).requests
    assert len(requests_made) == -(-33 // page_size)


def test_roster_sync_without_rlid(app, demo, browser, thirty_students):
    state = roster_state(demo.lms)
    state.reject_rlid = True
    state.lower_case_link_header = True
    browser.open_as(TEACHER)
    outcomes = sync_rosters(app)
    assert outcomes[0][1].startswith("ok: 33 members")
    assert "rlid=" in state.requests[0]
    assert all("rlid=" not in url for url in state.requests[1:])
    with app.app_context():
        source = db.session.scalars(select(RosterSource)).one()
        assert source.rlid_rejected

    state.requests.clear()
    sync_rosters(app, interval=timedelta(0))
    assert all("rlid=" not in url for url in state.requests)


def test_roster_not_granted_shows_note(app, demo, browser):
    roster_state(demo.lms).grant_nrps = False
    browser.open_as("student-ana")
    page = browser.open_as(TEACHER)
    text = page_text(page.text)
    assert "did not grant the tool access to the course roster" in text
    assert len(dashboard_rows(page.text)) == 1
    assert sync_rosters(app) == []


def test_teacher_launch_does_not_call_platform(app, demo, browser):
    browser.open_as(TEACHER)
    assert roster_state(demo.lms).requests == []
    with app.app_context():
        source = db.session.scalars(select(RosterSource)).one()
        assert source.nrps_granted
        assert source.sync_requested_at is not None
        assert source.last_synced_at is None
