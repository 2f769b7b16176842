"""Finding line items when a platform launches without one, and placements in two courses."""

from __future__ import annotations

from sqlalchemy import select, update

from lti_ilp.checkpoints.models import CheckpointPlacement
from lti_ilp.demo import lms_grades
from lti_ilp.extensions import db
from lti_ilp.grades.models import OutboxScore
from lti_ilp.grades.worker import SyncOptions, drain

from ..harness import Browser, page_text
from .conftest import (
    ALGEBRA,
    ENGLISH,
    add_student_goal,
    launch_assignment,
    place_checkpoint,
)


def _sync(app):
    with app.app_context():
        return drain(options=SyncOptions(retry_base_seconds=0, retry_cap_seconds=0))


def _progress(browser, page, value):
    page = browser.submit(page, r"/checkpoints/[^/]+/progress$", {"progress": str(value)})
    assert page.status_code == 200, page_text(page.text)


def _forget_line_item(app):
    """Drop the stored line item URL, as if the placement were recorded for the first time."""
    with app.app_context():
        db.session.execute(update(CheckpointPlacement).values(lineitem_url=None))
        db.session.commit()


def _placement(app) -> CheckpointPlacement:
    with app.app_context():
        placement = db.session.execute(select(CheckpointPlacement)).scalar_one()
        db.session.expunge(placement)
        return placement


def test_launch_without_line_item_finds_existing(app, demo_lms):
    [assignment] = place_checkpoint(demo_lms)
    demo_lms.state.omit_lineitem_claim = True
    browser, _ = launch_assignment(demo_lms, assignment.link_id, "student-ana")
    add_student_goal(app, "student-ana")
    page = launch_assignment(demo_lms, assignment.link_id, "student-ana", browser)[1]
    assert _placement(app).lineitem_url is None

    for value in (50, 70):
        _progress(browser, page, value)
        _sync(app)
        _forget_line_item(app)
        page = launch_assignment(demo_lms, assignment.link_id, "student-ana", browser)[1]

    assert len(demo_lms.state.line_items) == 1
    assert (
        lms_grades.gradebook_cell(demo_lms.lms, ALGEBRA, assignment.link_id, "student-ana")
        == "7/10"
    )


def test_launch_without_line_item_creates_once(app, demo_lms):
    # The rich-text editor placement takes no line item, so the LMS has no column yet.
    [assignment] = place_checkpoint(demo_lms, placement="editor_button")
    assert assignment.lineitem_number is None
    assert demo_lms.state.line_items == {}
    browser, _ = launch_assignment(demo_lms, assignment.link_id, "student-ana")
    add_student_goal(app, "student-ana")

    for value in (30, 90):
        page = launch_assignment(demo_lms, assignment.link_id, "student-ana", browser)[1]
        _progress(browser, page, value)
        report = _sync(app)
        assert report.sent == 1
        _forget_line_item(app)

    [record] = demo_lms.state.line_items.values()
    assert record.resource_link_id == assignment.link_id
    assert record.score_maximum == 10
    assert record.label == "Goal check"
    assert [score.score_given for score in demo_lms.state.scores.values()] == [9.0]


def test_no_grade_service_marks_failed(app, demo_lms):
    [assignment] = place_checkpoint(demo_lms, placement="editor_button")
    browser, _ = launch_assignment(demo_lms, assignment.link_id, "student-ana")
    add_student_goal(app, "student-ana")
    page = launch_assignment(demo_lms, assignment.link_id, "student-ana", browser)[1]
    _progress(browser, page, 30)
    # As if the LMS had launched the link without any AGS claim.
    with app.app_context():
        db.session.execute(update(CheckpointPlacement).values(lineitems_url=None))
        db.session.commit()

    report = _sync(app)

    assert report.failed == 1
    assert demo_lms.state.received == []
    with app.app_context():
        row = db.session.execute(select(OutboxScore)).scalar_one()
        assert "Assignment and Grade Services" in row.last_error


def test_checkpoint_in_two_courses(app, demo_lms):
    teacher = Browser()
    [algebra] = place_checkpoint(demo_lms, ALGEBRA, browser=teacher)
    launch = lms_grades.deep_linking_launch_request(
        demo_lms.lms, ENGLISH, "teacher-rivera", "assignment_selection"
    )
    page = teacher.launch(demo_lms.platform, launch)
    answer = teacher.submit(
        page, r"/checkpoints/deep-link$", {"existing": algebra.custom["ilp_checkpoint"]}
    )
    from ..harness import parse_form

    action, fields = parse_form(answer.text)
    teacher.http.post(action, data={"JWT": fields["JWT"]})
    [english] = [a for a in demo_lms.state.assignments.values() if a.course_id == ENGLISH]
    assert english.custom == algebra.custom
    assert english.lineitem_number != algebra.lineitem_number

    browser, _ = launch_assignment(demo_lms, algebra.link_id, "student-ana")
    add_student_goal(app, "student-ana")
    launch_assignment(demo_lms, english.link_id, "student-ana", browser)
    page = launch_assignment(demo_lms, algebra.link_id, "student-ana", browser)[1]
    _progress(browser, page, 60)
    _sync(app)

    assert (
        lms_grades.gradebook_cell(demo_lms.lms, ALGEBRA, algebra.link_id, "student-ana") == "6/10"
    )
    assert (
        lms_grades.gradebook_cell(demo_lms.lms, ENGLISH, english.link_id, "student-ana") == "6/10"
    )


def test_line_item_pages_followed(app, demo_lms):
    from lti_ilp.grades.tokens import access_token
    from lti_ilp.http import http_session
    from lti_ilp.lti import ags
    from lti_ilp.platforms.models import Registration

    for index in range(25):
        lms_grades.add_line_item(demo_lms.lms, ALGEBRA, label=f"Item {index}", score_maximum=1)
    url = lms_grades.lineitems_url(demo_lms.lms, ALGEBRA)
    with app.app_context():
        registration = db.session.execute(select(Registration)).scalar_one()
        token = access_token(registration, [ags.SCOPE_LINEITEM])
        items = ags.list_line_items(http_session(), token, url)
    assert [item["label"] for item in items] == [f"Item {index}" for index in range(25)]
