"""Dashboard filters, search, CSV export, bulk actions and who may open it."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from urllib.parse import urljoin

import pytest
from sqlalchemy import select

from lti_ilp.dashboard.models import ScheduledCheckIn
from lti_ilp.demo.seed import TEACHER
from lti_ilp.extensions import db
from lti_ilp.nudges.models import Nudge
from lti_ilp.people.models import Person
from lti_ilp.plan_templates.models import AUDIENCE_STAFF, PlanTemplate
from lti_ilp.plan_templates.service import current_cycle
from lti_ilp.plans.models import Plan

from ..harness import find_form, page_text
from .helpers import DemoBrowser, dashboard_rows, grow_course, sync_rosters

LAUNCHED = ["student-ana", "student-ben", "student-chloe"]


@pytest.fixture
def browser(demo):
    return DemoBrowser(demo)


@pytest.fixture
def teacher_page(app, demo, browser, demo_settings):
    grow_course(demo, 4)
    for user_id in LAUNCHED:
        browser.open_as(user_id)
    page = browser.open_as(TEACHER)
    sync_rosters(app)
    return browser.get(page, "/dashboard")


def _post_bulk(browser, page, action: str, person_ids: list[int], **extra):
    form = find_form(page.text, r"/dashboard/actions$")
    target = urljoin(page.url, form["action"])
    data = list(form["hidden"].items()) + [("action", action)]
    data += [("person_id", str(person_id)) for person_id in person_ids]
    data += list(extra.items())
    return browser.http.post(target, data=data, allow_redirects=True)


def test_not_started_filter(browser, teacher_page):
    rows = dashboard_rows(browser.get(teacher_page, "/dashboard?filter=not_started").text)
    assert len(rows) == 6
    assert all(row["not_started"] for row in rows)


def test_search_by_name(browser, teacher_page):
    page = browser.get(teacher_page, "/dashboard?q=okafor")
    rows = dashboard_rows(page.text)
    assert len(rows) == 1
    assert "Ben Okafor" in page_text(rows[0]["html"])


def test_csv_export_lists_everyone(browser, teacher_page):
    response = browser.get(teacher_page, "/dashboard/export.csv?sort=name")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0][0] == "Name"
    assert len(table) == 10
    statuses = [row[2] for row in table[1:]]
    assert statuses.count("not started") == 6


def test_bulk_nudge_once_per_day(app, browser, teacher_page):
    rows = dashboard_rows(teacher_page.text)
    chosen = [row["person_id"] for row in rows[:3]]
    page = _post_bulk(browser, teacher_page, "nudge", chosen)
    assert "Nudges sent: 3" in page_text(page.text)
    again = _post_bulk(browser, teacher_page, "nudge", chosen)
    assert "Nudges sent: 0" in page_text(again.text)
    with app.app_context():
        nudges = db.session.scalars(select(Nudge)).all()
        assert sorted(nudge.subject_id for nudge in nudges) == sorted(chosen)
        assert {nudge.level for nudge in nudges} == {"manual"}


def test_bulk_schedule_checkins(app, browser, teacher_page):
    rows = dashboard_rows(teacher_page.text)
    chosen = [row["person_id"] for row in rows]
    due_on = (date.today() + timedelta(days=20)).isoformat()
    page = _post_bulk(browser, teacher_page, "schedule_checkin", chosen, due_on=due_on)
    # Only the three students who launched have a plan to schedule a check-in for.
    assert "Check-ins scheduled: 3" in page_text(page.text)
    with app.app_context():
        assert len(db.session.scalars(select(ScheduledCheckIn)).all()) == 3


def test_bulk_rejects_past_date(browser, teacher_page):
    rows = dashboard_rows(teacher_page.text)
    response = _post_bulk(
        browser, teacher_page, "schedule_checkin", [rows[0]["person_id"]], due_on="2001-01-01"
    )
    assert response.status_code == 400
    assert "today or later" in page_text(response.text)


def test_bulk_rejects_person_outside_course(app, browser, teacher_page):
    response = _post_bulk(browser, teacher_page, "nudge", [999999])
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalars(select(Nudge)).all() == []


def test_bulk_without_selection(browser, teacher_page):
    response = _post_bulk(browser, teacher_page, "nudge", [])
    assert response.status_code == 400
    assert "Select at least one person" in page_text(response.text)


def test_bulk_without_csrf_token(browser, teacher_page):
    target = re.sub(r"/dashboard.*$", "/dashboard/actions", teacher_page.url)
    response = browser.http.post(target, data={"action": "nudge", "person_id": "1"})
    assert response.status_code == 400


def test_student_cannot_open_dashboard(browser, demo):
    page = browser.open_as("student-ana")
    response = browser.get(page, "/dashboard")
    assert response.status_code == 403
    assert "for teachers, mentors and coordinators" in page_text(response.text)


def test_unknown_scope_forbidden(browser, teacher_page):
    response = browser.get(teacher_page, "/dashboard?scope=staff")
    assert response.status_code == 403


def _row_names(page_html: str) -> set[str]:
    return {
        match.strip()
        for match in re.findall(r'<th scope="row">\s*(?:<a [^>]*>)?([^<]+)', page_html)
    }


def test_mentor_sees_caseload(browser, demo):
    for user_id in LAUNCHED:
        browser.open_as(user_id)
    mentor = browser.open_as("mentor-kim")
    page = browser.get(mentor, "/dashboard")
    assert page.status_code == 200
    # The demo mentor's mentees are Ana, Chloe and Diego; Diego has never launched.
    assert _row_names(page.text) == {"Ana Lopez", "Chloe Nguyen"}


def test_coordinator_sees_staff_plans(app, browser, demo):
    browser.open_as(TEACHER)
    coordinator = browser.open_as("coordinator-morgan")
    with app.app_context():
        teacher = db.session.scalars(select(Person).where(Person.sub == TEACHER)).one()
        cycle = current_cycle(teacher.deployment_id)
        template = PlanTemplate(
            deployment_id=teacher.deployment_id,
            key="staff-growth",
            name="Staff growth",
            audience=AUDIENCE_STAFF,
        )
        db.session.add(template)
        db.session.flush()
        db.session.add(
            Plan(
                person_id=teacher.id,
                cycle_id=cycle.id,
                template_id=template.id,
                status="active",
                profile={},
            )
        )
        db.session.commit()
    page = browser.get(coordinator, "/dashboard?scope=staff")
    assert page.status_code == 200
    assert _row_names(page.text) == {"Dana Rivera"}
