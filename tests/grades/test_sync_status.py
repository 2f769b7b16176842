"""Which scores each role can view on the sync status page."""

from __future__ import annotations

from lti_ilp.demo import lms_grades
from lti_ilp.grades.worker import SyncOptions, drain

from ..harness import Browser, page_text, parse_form
from .conftest import ADMIN, ALGEBRA, ENGLISH, add_student_goal, launch_assignment


def _place(demo_lms, course_id, title):
    browser = Browser()
    launch = lms_grades.deep_linking_launch_request(
        demo_lms.lms, course_id, "teacher-rivera", "assignment_selection"
    )
    page = browser.launch(demo_lms.platform, launch)
    answer = browser.submit(
        page, r"/checkpoints/deep-link$", {"kind": "goal_progress", "title": title, "points": "10"}
    )
    action, fields = parse_form(answer.text)
    browser.http.post(action, data={"JWT": fields["JWT"]})
    return next(a for a in demo_lms.state.assignments.values() if a.title == title)


def _status_page(browser, page):
    return browser.http.get(page.url.split("/checkpoints/")[0] + "/grades/sync")


def _score_in_both_courses(app, demo_lms):
    algebra = _place(demo_lms, ALGEBRA, "Algebra goal check")
    english = _place(demo_lms, ENGLISH, "English goal check")
    student, _ = launch_assignment(demo_lms, algebra.link_id, "student-ana")
    add_student_goal(app, "student-ana")
    for assignment in (algebra, english):
        page = launch_assignment(demo_lms, assignment.link_id, "student-ana", student)[1]
        student.submit(page, r"/checkpoints/[^/]+/progress$", {"progress": "50"})
        student.submit(page, r"/checkpoints/[^/]+/progress$", {"progress": "55"})
    lms_grades.set_score_failures(demo_lms.lms, ["attempt_limit"])
    with app.app_context():
        drain(options=SyncOptions(retry_base_seconds=0))
    return algebra, english, student


def test_teacher_sees_own_course_only(app, demo_lms):
    algebra, english, _ = _score_in_both_courses(app, demo_lms)
    teacher, page = launch_assignment(demo_lms, english.link_id, "teacher-rivera")
    text = page_text(_status_page(teacher, page).text)
    assert "English goal check" in text
    assert "Algebra goal check" not in text


def test_admin_sees_every_course(app, demo_lms):
    _score_in_both_courses(app, demo_lms)
    admin, page = launch_assignment(demo_lms, next(iter(demo_lms.state.assignments)), ADMIN)
    status = _status_page(admin, page)
    text = page_text(status.text)
    assert status.status_code == 200
    assert "English goal check" in text
    assert "Algebra goal check" in text
    assert "Failed: 1" in text


def test_student_cannot_see_status(app, demo_lms):
    _, _, student = _score_in_both_courses(app, demo_lms)
    page = launch_assignment(
        demo_lms, next(iter(demo_lms.state.assignments)), "student-ana", student
    )[1]
    status = _status_page(student, page)
    assert status.status_code == 403


def test_superseded_failure_not_retried(app, demo_lms):
    algebra, _, _ = _score_in_both_courses(app, demo_lms)
    teacher, page = launch_assignment(demo_lms, algebra.link_id, "teacher-rivera")
    status = _status_page(teacher, page)
    assert "Failed: 1" in page_text(status.text)
    retried = teacher.submit(status, r"/grades/sync/retry$", {})
    text = page_text(retried.text)
    assert "No score was queued again" in text
    assert "Failed: 1" in text
