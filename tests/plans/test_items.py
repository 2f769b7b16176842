"""Evidence, reflections, progress history and the events that plan changes send."""

from __future__ import annotations

from sqlalchemy import func, select

from lti_ilp.extensions import db
from lti_ilp.plans.evidence import MAX_UPLOAD_BYTES
from lti_ilp.plans.models import Evidence, ProgressEntry, Reflection

from ..harness import page_text
from .helpers import get, goal_ids_of, plan_id_of, post, student, teacher

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _ana(browser, platform):
    page = browser.launch(platform, student())
    page = browser.submit(
        page,
        r"/plan/goals$",
        {
            "statement": "Earn a food handler card",
            "domain": "career",
            "baseline": "0",
            "target": "10",
            "unit": "modules",
        },
    )
    assert page.status_code == 200
    return page


def _evidence_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Evidence.id)))


def test_upload_served_as_attachment(app, platform, browser):
    ana = _ana(browser, platform)
    goal_id = goal_ids_of(ana)[0]
    plan_id = plan_id_of(ana)
    response = post(
        browser,
        ana,
        "/plan/evidence",
        {"kind": "file", "caption": "Module 1 certificate", "goal_ids": str(goal_id)},
        files={"file": ("certificate.pdf", PDF_BYTES, "text/html")},
    )
    assert response.status_code == 303, page_text(response.text)
    with app.app_context():
        item = db.session.scalars(select(Evidence)).one()
        assert item.content_type == "application/pdf"
        assert item.size == len(PDF_BYTES)
        assert [goal.id for goal in item.goals] == [goal_id]
        evidence_id = item.id

    download = get(browser, ana, f"/plans/{plan_id}/evidence/{evidence_id}/file")
    assert download.status_code == 200
    assert download.content == PDF_BYTES
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    teacher_page = browser.launch(platform, teacher())
    staff_download = get(browser, teacher_page, f"/plans/{plan_id}/evidence/{evidence_id}/file")
    assert staff_download.status_code == 200
    ben = browser.launch(platform, student(user="student-ben"))
    assert get(browser, ben, f"/plans/{plan_id}/evidence/{evidence_id}/file").status_code == 404


def test_upload_rejects_html_and_fakes(app, platform, browser):
    ana = _ana(browser, platform)
    cases = [
        ("page.html", b"<html><script>alert(1)</script></html>", "not accepted"),
        ("fake.pdf", b"<html><script>alert(1)</script></html>", "does not look like"),
        ("notes.txt", b"\xff\xfe\x00bad", "UTF-8"),
        ("empty.png", b"", "empty"),
        ("big.pdf", b"%PDF-" + b"0" * MAX_UPLOAD_BYTES, "larger than"),
    ]
    for filename, content, message in cases:
        response = post(
            browser,
            ana,
            "/plan/evidence",
            {"kind": "file"},
            files={"file": (filename, content, "application/pdf")},
        )
        assert response.status_code == 400, filename
        assert message in page_text(response.text), filename
    assert _evidence_count(app) == 0


def test_link_evidence_needs_web_address(app, platform, browser):
    ana = _ana(browser, platform)
    bad = post(browser, ana, "/plan/evidence", {"kind": "link", "url": "javascript:alert(1)"})
    assert bad.status_code == 400
    assert _evidence_count(app) == 0
    good = post(
        browser,
        ana,
        "/plan/evidence",
        {"kind": "link", "url": "https://example.org/portfolio", "caption": "Portfolio"},
    )
    assert good.status_code == 303
    assert _evidence_count(app) == 1


def test_progress_entries_from_measured_value(app, platform, browser, plan_events):
    ana = _ana(browser, platform)
    goal_id = goal_ids_of(ana)[0]
    response = post(
        browser,
        ana,
        f"/plan/goals/{goal_id}/progress",
        {"value": "4", "note": "Four modules done"},
    )
    assert response.status_code == 303
    response = post(browser, ana, f"/plan/goals/{goal_id}/progress", {"progress": "55"})
    assert response.status_code == 303
    with app.app_context():
        entries = db.session.scalars(select(ProgressEntry).order_by(ProgressEntry.id)).all()
        assert [(entry.progress, entry.value) for entry in entries] == [(40, 4.0), (55, None)]
    assert [(progress) for _, progress, _ in plan_events["progress"]] == [40, 55]
    kinds = [kind for _, _, kind in plan_events["activity"]]
    assert kinds.count("progress") == 2
    bad = post(browser, ana, f"/plan/goals/{goal_id}/progress", {"progress": "140"})
    assert bad.status_code == 400


def test_viewing_sends_no_activity(app, platform, browser, plan_events):
    ana = _ana(browser, platform)
    plan_events["activity"].clear()
    browser.launch(platform, student())
    teacher_page = browser.launch(platform, teacher())
    get(browser, teacher_page, f"/plans/{plan_id_of(ana)}")
    assert plan_events["activity"] == []


def test_every_change_kind_sends_activity(app, platform, browser, plan_events):
    ana = _ana(browser, platform)
    plan_id = plan_id_of(ana)
    post(browser, ana, "/plan/profile", {"strengths": "Patient with customers"})
    post(browser, ana, "/plan/evidence", {"kind": "link", "url": "https://example.org/a"})
    post(browser, ana, "/plan/reflections/mid_year", {"answer": "Going well", "action": "save"})
    post(browser, ana, f"/plans/{plan_id}/comments", {"item_type": "plan", "body": "Note"})
    kinds = {kind for _, _, kind in plan_events["activity"]}
    assert {"edit", "evidence", "reflection", "comment"} <= kinds


def test_reflection_submit_locks_answer(app, platform, browser):
    ana = _ana(browser, platform)
    response = post(
        browser,
        ana,
        "/plan/reflections/end_of_year",
        {"answer": "I finished the card", "action": "submit"},
    )
    assert response.status_code == 303
    page = browser.launch(platform, student())
    assert "I finished the card" in page_text(page.text)
    assert "/plan/reflections/end_of_year" not in page.text
    unknown = post(browser, ana, "/plan/reflections/not_a_prompt", {"answer": "x"})
    assert unknown.status_code == 400
    with app.app_context():
        reflection = db.session.scalars(select(Reflection)).one()
        assert reflection.submitted_at is not None


def test_profile_prompts_come_from_template(app, platform, browser):
    ana = browser.launch(platform, student())
    for label in ("Work hours", "Childcare", "Transport", "How I learn best"):
        assert label in ana.text
    page = browser.submit(
        ana,
        r"/plan/profile$",
        {"work_hours": "Nights, 6 pm to 2 am", "childcare": "<script>x</script>"},
    )
    assert "Nights, 6 pm to 2 am" in page.text
    assert "<script>x</script>" not in page.text
