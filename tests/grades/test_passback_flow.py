"""Deep linking, a student's checkpoint launch and grade passback, against the demo LMS."""

from __future__ import annotations

from sqlalchemy import select

from lti_ilp.demo import lms_grades
from lti_ilp.extensions import db
from lti_ilp.grades.models import OutboxScore, ScoreStatus
from lti_ilp.grades.worker import SyncOptions, drain

from ..harness import page_text
from .conftest import ALGEBRA, add_student_goal, launch_assignment, place_checkpoint

IMMEDIATE_RETRY = SyncOptions(retry_base_seconds=0, retry_cap_seconds=0)


def _sync(app, options: SyncOptions = IMMEDIATE_RETRY):
    with app.app_context():
        return drain(options=options)


def _set_progress(browser, page, progress: int):
    page = browser.submit(page, r"/checkpoints/[^/]+/progress$", {"progress": str(progress)})
    assert page.status_code == 200, page_text(page.text)
    return page


def _student_on_checkpoint(app, demo_lms, link_id, user="student-ana"):
    """Launch once so the student exists, add a goal, launch the checkpoint again."""
    browser, _ = launch_assignment(demo_lms, link_id, user)
    add_student_goal(app, user)
    return launch_assignment(demo_lms, link_id, user, browser)


def test_goal_progress_reaches_gradebook(app, demo_lms):
    [assignment] = place_checkpoint(demo_lms)
    assert assignment.lineitem_number is not None
    browser, page = _student_on_checkpoint(app, demo_lms, assignment.link_id)
    assert "Raise my algebra grade to a B" in page_text(page.text)

    _set_progress(browser, page, 60)
    report = _sync(app)
    assert report.sent == 1
    assert (
        lms_grades.gradebook_cell(demo_lms.lms, ALGEBRA, assignment.link_id, "student-ana")
        == "6/10"
    )

    page = launch_assignment(demo_lms, assignment.link_id, "student-ana", browser)[1]
    _set_progress(browser, page, 80)
    _sync(app)
    assert (
        lms_grades.gradebook_cell(demo_lms.lms, ALGEBRA, assignment.link_id, "student-ana")
        == "8/10"
    )
    gradebook = browser.http.get(f"{demo_lms.url}/courses/{ALGEBRA}/gradebook")
    assert "8/10" in page_text(gradebook.text)
    assert demo_lms.state.token_requests == 1


def test_deep_link_line_item_fields(app, demo_lms):
    [assignment] = place_checkpoint(demo_lms, form={"title": "Career goal check", "points": "25"})
    record = demo_lms.state.line_items[assignment.lineitem_number]
    assert record.label == "Career goal check"
    assert record.score_maximum == 25
    assert record.resource_id.startswith("ilp-checkpoint-")
    assert record.tag == "ilp-goal_progress"
    assert record.resource_link_id == assignment.link_id
    assert assignment.custom["ilp_checkpoint"] in record.resource_id


def test_failures_then_every_score_once(app, demo_lms):
    [assignment] = place_checkpoint(demo_lms)
    browser, page = _student_on_checkpoint(app, demo_lms, assignment.link_id)
    lms_grades.set_score_failures(
        demo_lms.lms, ["server_error", "server_error", "server_error", "rate_limit"]
    )

    _set_progress(browser, page, 60)
    report = _sync(app)

    assert report.sent == 1
    assert demo_lms.state.failed_posts == 4
    assert len(demo_lms.state.received) == 1
    assert (
        lms_grades.gradebook_cell(demo_lms.lms, ALGEBRA, assignment.link_id, "student-ana")
        == "6/10"
    )
    with app.app_context():
        row = db.session.execute(select(OutboxScore)).scalar_one()
        assert row.status == ScoreStatus.SENT.value
        assert row.attempts == 5


def test_failures_wait_for_backoff(app, demo_lms):
    [assignment] = place_checkpoint(demo_lms)
    browser, page = _student_on_checkpoint(app, demo_lms, assignment.link_id)
    lms_grades.set_score_failures(demo_lms.lms, ["server_error"])

    _set_progress(browser, page, 60)
    report = _sync(app, SyncOptions(retry_base_seconds=600, retry_cap_seconds=600))

    assert report.retrying == 1
    assert report.sent == 0
    with app.app_context():
        row = db.session.execute(select(OutboxScore)).scalar_one()
        assert row.status == ScoreStatus.PENDING.value
        assert row.last_status_code == 500
        assert row.next_attempt_at > row.updated_at


def test_zero_score_is_sent(app, demo_lms):
    [assignment] = place_checkpoint(demo_lms)
    browser, page = _student_on_checkpoint(app, demo_lms, assignment.link_id)
    _set_progress(browser, page, 40)
    page = launch_assignment(demo_lms, assignment.link_id, "student-ana", browser)[1]
    _set_progress(browser, page, 0)

    _sync(app)

    assert len(demo_lms.state.received) == 2
    assert (
        lms_grades.gradebook_cell(demo_lms.lms, ALGEBRA, assignment.link_id, "student-ana")
        == "0/10"
    )


def test_refused_score_on_status_page(app, demo_lms):
    [assignment] = place_checkpoint(demo_lms)
    browser, page = _student_on_checkpoint(app, demo_lms, assignment.link_id)
    lms_grades.set_score_failures(demo_lms.lms, ["attempt_limit"])
    _set_progress(browser, page, 60)

    report = _sync(app)

    assert report.failed == 1
    teacher, teacher_page = launch_assignment(demo_lms, assignment.link_id, "teacher-rivera")
    assert "Ana Lopez" in page_text(teacher_page.text)
    status = teacher.http.get(teacher_page.url.split("/checkpoints/")[0] + "/grades/sync")
    text = page_text(status.text)
    assert status.status_code == 200
    assert "Failed: 1" in text
    assert "maximum number of allowed attempts" in text
    assert "HTTP 422" in text

    retried = teacher.submit(status, r"/grades/sync/\d+/retry$", {})
    assert retried.status_code == 200
    assert "Pending: 1" in page_text(retried.text)
    _sync(app)
    assert (
        lms_grades.gradebook_cell(demo_lms.lms, ALGEBRA, assignment.link_id, "student-ana")
        == "6/10"
    )


def test_teacher_launch_shows_completion(app, demo_lms):
    [assignment] = place_checkpoint(demo_lms)
    browser, page = _student_on_checkpoint(app, demo_lms, assignment.link_id)
    _set_progress(browser, page, 100)
    launch_assignment(demo_lms, assignment.link_id, "student-ben")

    _, teacher_page = launch_assignment(demo_lms, assignment.link_id, "teacher-rivera")
    text = page_text(teacher_page.text)

    assert "Ana Lopez Completed (100%)" in text
    assert "Ben Okafor Not started" in text
