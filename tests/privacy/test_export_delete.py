"""Export and deletion over real signed launches: a learner's own export, and export and
deletion by an LMS administrator."""

from __future__ import annotations

import base64
import io
import json

import pypdf
import requests
from sqlalchemy import func, select

from lti_ilp.extensions import db
from lti_ilp.people.models import Person
from lti_ilp.plans.models import Comment, Evidence, Goal, Plan
from lti_ilp.privacy.erase import DELETED_USER_NAME, DELETED_USER_SUB
from lti_ilp.privacy.models import PrivacyLogEntry
from lti_ilp.web.session import LaunchSession

from ..harness import page_text
from .helpers import (
    PNG_BYTES,
    admin,
    export_json,
    fill_plan,
    foreign_key_violations,
    get,
    own_export_link,
    person_id,
    plan_id_of,
    post,
    student,
    teacher,
)


def _base(page: requests.Response) -> str:
    return page.url.split("/s/")[0]


def _pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def _comment(browser, page, plan_id, body, visibility="owner_and_staff"):
    response = post(
        browser,
        page,
        f"/plans/{plan_id}/comments",
        {
            "item_type": "plan",
            "item_id": "",
            "body": body,
            "visibility": visibility,
        },
    )
    assert response.status_code == 303, page_text(response.text)[:300]


def test_own_export_contains_filled_plan(app, platform, browser):
    page = fill_plan(browser, platform)
    plan_id = plan_id_of(page)
    staff = browser.launch(platform, teacher())
    _comment(browser, staff, plan_id, "Nice progress on unit 3")
    _comment(browser, staff, plan_id, "Watch attendance", visibility="staff_only")

    page = browser.launch(platform, student(user="student-zoe"))
    response = browser.http.get(_base(page) + own_export_link(page, "json"))
    document = export_json(response)

    records = document["records"]
    assert document["scope"] == "owner"
    assert records["person"][0]["name"] == "Zoë Nguyễn"
    assert records["person"][0]["email"] == "zoe@example.edu"
    assert records["plan"][0]["id"] == plan_id
    assert records["plan"][0]["profile"]["strengths"] == "Drawing and patient explaining"
    statements = [goal["statement"] for goal in records["goal"]]
    assert statements == ["Raise my algebra grade to a B"]
    steps = sorted(step["description"] for step in records["action_step"])
    assert steps == ["Finish unit 3 practice", "Go to Tuesday tutoring"]
    assert [entry["note"] for entry in records["progress_entry"]] == ["Quiz went well"]
    assert len(records["evidence_goal"]) == 2
    assert [r["answer"] for r in records["reflection"]] == ["Tutoring helps most"]
    assert "enrolment" in records
    assert "launch_session" in records


def test_own_export_embeds_uploaded_file(app, platform, browser):
    page = fill_plan(browser, platform)
    response = browser.http.get(_base(page) + own_export_link(page, "json"))
    document = export_json(response)

    files = [row for row in document["records"]["evidence"] if row["kind"] == "file"]
    assert len(files) == 1
    assert files[0]["filename"] == "scores.png"
    assert files[0]["content_type"] == "image/png"
    assert files[0]["data"]["size"] == len(PNG_BYTES)
    assert base64.b64decode(files[0]["data"]["data"]) == PNG_BYTES
    links = [row for row in document["records"]["evidence"] if row["kind"] == "link"]
    assert links[0]["url"] == "https://example.org/my-poster"


def test_own_export_hides_staff_only_items(app, platform, browser):
    page = fill_plan(browser, platform)
    plan_id = plan_id_of(page)
    staff = browser.launch(platform, teacher())
    _comment(browser, staff, plan_id, "Nice progress on unit 3")
    _comment(browser, staff, plan_id, "Watch attendance", visibility="staff_only")

    page = browser.launch(platform, student(user="student-zoe"))
    document = export_json(browser.http.get(_base(page) + own_export_link(page, "json")))
    bodies = [row["body"] for row in document["records"].get("plan_comment", [])]
    assert "Nice progress on unit 3" in bodies
    assert "Watch attendance" not in bodies
    assert "Watch attendance" not in json.dumps(document)
    teacher_id = person_id(app, "teacher-rivera")
    assert document["people"][str(teacher_id)] == "Dana Rivera"


def test_own_export_pdf_shows_non_ascii_name(app, platform, browser):
    page = fill_plan(browser, platform)
    response = browser.http.get(_base(page) + own_export_link(page, "pdf"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = _pdf_text(response.content)
    assert "Zoë Nguyễn" in text
    assert "Raise my algebra grade to a B" in text
    assert "scores.png" in text


def test_own_export_logged_without_name(app, platform, browser):
    page = fill_plan(browser, platform)
    browser.http.get(_base(page) + own_export_link(page, "json"))
    with app.app_context():
        entries = db.session.scalars(select(PrivacyLogEntry)).all()
        assert [(e.action, e.channel) for e in entries] == [("export", "self")]
        assert entries[0].subject_person_id == person_id(app, "student-zoe")
        assert "Zo" not in json.dumps(entries[0].details)


def test_unknown_export_format_is_404(app, platform, browser):
    page = browser.launch(platform, student())
    assert get(browser, page, "/privacy/my-data.xml").status_code == 404


def test_admin_export_is_full(app, platform, browser):
    page = fill_plan(browser, platform)
    plan_id = plan_id_of(page)
    staff = browser.launch(platform, teacher())
    _comment(browser, staff, plan_id, "Watch attendance", visibility="staff_only")
    zoe_id = person_id(app, "student-zoe")

    console = browser.launch(platform, admin())
    people = get(browser, console, "/privacy/people?q=nguy")
    assert people.status_code == 200
    assert "Zoë Nguyễn" in page_text(people.text)
    document = export_json(get(browser, console, f"/privacy/people/{zoe_id}/export.json"))
    assert document["scope"] == "full"
    bodies = [row["body"] for row in document["records"]["plan_comment"]]
    assert "Watch attendance" in bodies


def test_non_admin_cannot_export_others(app, platform, browser):
    fill_plan(browser, platform)
    zoe_id = person_id(app, "student-zoe")
    staff = browser.launch(platform, teacher())
    assert get(browser, staff, "/privacy/people").status_code == 403
    assert get(browser, staff, f"/privacy/people/{zoe_id}/export.json").status_code == 403
    response = post(
        browser,
        staff,
        f"/privacy/people/{zoe_id}/delete",
        {"requested_by": "x", "confirm": str(zoe_id)},
    )
    assert response.status_code == 403
    assert person_id(app, "student-zoe") == zoe_id


def test_admin_of_other_deployment_finds_nobody(
    app, platform, platform_host, tool_server, browser
):
    from ..conftest import register
    from .conftest import privacy_users

    fill_plan(browser, platform)
    zoe_id = person_id(app, "student-zoe")
    other = platform_host.add("privacy-other-tenant", tool_server.url, users=privacy_users())
    register(app, other)
    console = browser.launch(other, admin())
    assert get(browser, console, f"/privacy/people/{zoe_id}/export.json").status_code == 404
    assert get(browser, console, f"/privacy/people/{zoe_id}/delete").status_code == 404
    response = post(
        browser,
        console,
        f"/privacy/people/{zoe_id}/delete",
        {"requested_by": "ticket 7", "confirm": str(zoe_id)},
    )
    assert response.status_code == 404
    assert "Zoë" not in get(browser, console, "/privacy/people?q=zo").text
    assert person_id(app, "student-zoe") == zoe_id


def test_delete_needs_confirmation(app, platform, browser):
    fill_plan(browser, platform)
    zoe_id = person_id(app, "student-zoe")
    console = browser.launch(platform, admin())
    confirm = get(browser, console, f"/privacy/people/{zoe_id}/delete")
    assert confirm.status_code == 200
    response = post(
        browser,
        confirm,
        f"/privacy/people/{zoe_id}/delete",
        {"requested_by": "District ticket 4411", "confirm": "999"},
    )
    assert response.status_code == 400
    assert "Type the person id" in page_text(response.text)
    response = post(
        browser,
        confirm,
        f"/privacy/people/{zoe_id}/delete",
        {"requested_by": "", "confirm": str(zoe_id)},
    )
    assert response.status_code == 400
    assert person_id(app, "student-zoe") == zoe_id


def test_delete_student_removes_plan_keeps_others(app, platform, browser):
    zoe_page = fill_plan(browser, platform)
    zoe_plan = plan_id_of(zoe_page)
    ben_page = browser.launch(platform, student(user="student-ben"))
    ben_page = browser.submit(ben_page, r"/plan/goals$", {"statement": "Read two novels"})
    ben_plan = plan_id_of(ben_page)
    staff = browser.launch(platform, teacher())
    _comment(browser, staff, zoe_plan, "Nice progress on unit 3")
    _comment(browser, staff, ben_plan, "Which novels?")
    zoe_id = person_id(app, "student-zoe")

    console = browser.launch(platform, admin())
    confirm = get(browser, console, f"/privacy/people/{zoe_id}/delete")
    response = post(
        browser,
        confirm,
        f"/privacy/people/{zoe_id}/delete",
        {"requested_by": "District ticket 4411", "confirm": str(zoe_id)},
    )
    assert response.status_code == 200, page_text(response.text)
    assert "was deleted" in page_text(response.text)

    with app.app_context():
        assert db.session.get(Person, zoe_id) is None
        assert db.session.scalar(select(func.count()).where(Plan.person_id == zoe_id)) == 0
        assert db.session.get(Plan, zoe_plan) is None
        assert db.session.scalar(select(func.count(Evidence.id))) == 0
        assert (
            db.session.scalar(
                select(func.count(LaunchSession.id)).where(LaunchSession.person_id == zoe_id)
            )
            == 0
        )
        assert db.session.get(Plan, ben_plan) is not None
        ben_goals = db.session.scalars(select(Goal.statement).where(Goal.plan_id == ben_plan))
        assert list(ben_goals) == ["Read two novels"]
        bodies = db.session.scalars(select(Comment.body).where(Comment.plan_id == ben_plan))
        assert list(bodies) == ["Which novels?"]
    assert foreign_key_violations(app) == []

    old_session = browser.http.get(zoe_page.url)
    assert old_session.status_code == 401


def test_delete_leaves_audit_entry_without_name(app, platform, browser):
    fill_plan(browser, platform)
    zoe_id = person_id(app, "student-zoe")
    console = browser.launch(platform, admin())
    admin_id = person_id(app, "admin-ortiz")
    post(
        browser,
        console,
        f"/privacy/people/{zoe_id}/delete",
        {"requested_by": "District ticket 4411", "confirm": str(zoe_id)},
    )

    with app.app_context():
        entry = db.session.scalars(
            select(PrivacyLogEntry).where(PrivacyLogEntry.action == "delete")
        ).one()
        assert entry.subject_person_id == zoe_id
        assert entry.requested_by == "District ticket 4411"
        assert entry.requested_by_person_id == admin_id
        assert entry.channel == "lms_admin"
        assert entry.details["removed"]["plan"] == 1
        assert entry.details["removed"]["person"] == 1
        stored = json.dumps([entry.requested_by, entry.details])
        assert "Zo" not in stored
        assert "zoe@" not in stored


def test_relaunch_after_delete_starts_empty(app, platform, browser):
    fill_plan(browser, platform)
    zoe_id = person_id(app, "student-zoe")
    console = browser.launch(platform, admin())
    post(
        browser,
        console,
        f"/privacy/people/{zoe_id}/delete",
        {"requested_by": "District ticket 4411", "confirm": str(zoe_id)},
    )

    page = browser.launch(platform, student(user="student-zoe"))
    assert page.status_code == 200
    assert "Raise my algebra grade to a B" not in page.text
    new_id = person_id(app, "student-zoe")
    assert new_id is not None
    assert new_id != zoe_id


def test_delete_teacher_keeps_comment_as_deleted_user(app, platform, browser):
    zoe_page = fill_plan(browser, platform)
    zoe_plan = plan_id_of(zoe_page)
    staff = browser.launch(platform, teacher())
    _comment(browser, staff, zoe_plan, "Nice progress on unit 3")
    teacher_id = person_id(app, "teacher-rivera")

    console = browser.launch(platform, admin())
    response = post(
        browser,
        console,
        f"/privacy/people/{teacher_id}/delete",
        {"requested_by": "HR request 12", "confirm": str(teacher_id)},
    )
    assert response.status_code == 200, page_text(response.text)

    with app.app_context():
        assert db.session.get(Person, teacher_id) is None
        comment = db.session.scalars(select(Comment).where(Comment.plan_id == zoe_plan)).one()
        assert comment.body == "Nice progress on unit 3"
        assert comment.author.sub == DELETED_USER_SUB
        assert comment.author.name == DELETED_USER_NAME
        assert comment.author.email is None
    assert foreign_key_violations(app) == []

    page = browser.launch(platform, student(user="student-zoe"))
    text = page_text(page.text)
    assert "Nice progress on unit 3" in text
    assert "Deleted user" in text
    assert "Dana Rivera" not in text
    assert "Raise my algebra grade to a B" in text


def test_deleted_user_cannot_be_deleted_or_listed(app, platform, browser):
    zoe_page = fill_plan(browser, platform)
    staff = browser.launch(platform, teacher())
    _comment(browser, staff, plan_id_of(zoe_page), "Nice progress on unit 3")
    teacher_id = person_id(app, "teacher-rivera")
    console = browser.launch(platform, admin())
    post(
        browser,
        console,
        f"/privacy/people/{teacher_id}/delete",
        {"requested_by": "HR request 12", "confirm": str(teacher_id)},
    )
    placeholder_id = person_id(app, DELETED_USER_SUB)

    assert "Deleted user" not in page_text(get(browser, console, "/privacy/people").text)
    response = post(
        browser,
        console,
        f"/privacy/people/{placeholder_id}/delete",
        {"requested_by": "x", "confirm": str(placeholder_id)},
    )
    assert response.status_code == 404


def test_admin_cannot_delete_self_on_web(app, platform, browser):
    console = browser.launch(platform, admin())
    admin_id = person_id(app, "admin-ortiz")
    response = post(
        browser,
        console,
        f"/privacy/people/{admin_id}/delete",
        {"requested_by": "me", "confirm": str(admin_id)},
    )
    assert response.status_code == 400
    assert "lti-ilp privacy delete" in page_text(response.text)
    assert person_id(app, "admin-ortiz") == admin_id


def _nudges_about(app, subject_sub: str, plan_id: int) -> None:
    """Store a nudge to the plan's owner and one to their teacher, each with an email."""
    from lti_ilp.nudges.models import Nudge, OutboxEmail

    with app.app_context():
        subject = db.session.scalars(select(Person).where(Person.sub == subject_sub)).one()
        teacher_row = db.session.scalars(
            select(Person).where(Person.sub == "teacher-rivera")
        ).one()
        for recipient, level in ((subject, "student"), (teacher_row, "staff")):
            nudge = Nudge(
                deployment_id=subject.deployment_id,
                plan_id=plan_id,
                subject_id=subject.id,
                recipient_id=recipient.id,
                level=level,
                window_key="w1",
                stale_days=14,
            )
            db.session.add(nudge)
            db.session.flush()
            db.session.add(
                OutboxEmail(
                    nudge_id=nudge.id,
                    recipient_id=recipient.id,
                    to_address=recipient.email,
                    subject=f"Nudge {level}",
                    body=f"The plan of {subject.name} is quiet.",
                )
            )
        db.session.commit()


def test_own_export_leaves_out_nudges_to_staff(app, platform, browser):
    page = fill_plan(browser, platform)
    browser.launch(platform, teacher())
    _nudges_about(app, "student-zoe", plan_id_of(page))
    zoe_id = person_id(app, "student-zoe")

    own = export_json(browser.http.get(_base(page) + own_export_link(page, "json")))
    assert [n["level"] for n in own["records"]["nudge"]] == ["student"]
    assert [e["to_address"] for e in own["records"]["outbox_email"]] == ["zoe@example.edu"]
    assert "rivera@example.edu" not in json.dumps(own)

    console = browser.launch(platform, admin())
    full = export_json(get(browser, console, f"/privacy/people/{zoe_id}/export.json"))
    assert sorted(n["level"] for n in full["records"]["nudge"]) == ["staff", "student"]
    assert len(full["records"]["outbox_email"]) == 2


def test_delete_removes_nudges_and_emails_about_person(app, platform, browser):
    from lti_ilp.nudges.models import Nudge, OutboxEmail

    page = fill_plan(browser, platform)
    browser.launch(platform, teacher())
    _nudges_about(app, "student-zoe", plan_id_of(page))
    zoe_id = person_id(app, "student-zoe")
    console = browser.launch(platform, admin())
    response = post(
        browser,
        console,
        f"/privacy/people/{zoe_id}/delete",
        {"requested_by": "District ticket 4411", "confirm": str(zoe_id)},
    )
    assert response.status_code == 200, page_text(response.text)

    with app.app_context():
        assert db.session.scalar(select(func.count(Nudge.id))) == 0
        bodies = db.session.scalars(select(OutboxEmail.body)).all()
        assert [body for body in bodies if "Zo" in body] == []
    assert foreign_key_violations(app) == []
