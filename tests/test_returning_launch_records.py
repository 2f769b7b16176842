"""What a returning launch changes on the stored person, course and enrolment."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from lti_ilp.demo.platform import ROLE_INSTRUCTOR, LaunchRequest
from lti_ilp.extensions import db
from lti_ilp.people.models import Course, Enrolment, Person

from .harness import Browser, page_text
from .security.launches import student

CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"
PERSON_CLAIMS = ("name", "given_name", "family_name", "email")


def launch_ok(platform, launch) -> None:
    page = Browser().launch(platform, launch)
    assert page.status_code == 200, page_text(page.text)


def stored_person(app, sub="student-ana") -> Person:
    with app.app_context():
        person = db.session.scalars(select(Person).where(Person.sub == sub)).one()
        db.session.expunge(person)
        return person


def stored_course(app, context_id="course-algebra") -> Course:
    with app.app_context():
        course = db.session.scalars(select(Course).where(Course.context_id == context_id)).one()
        db.session.expunge(course)
        return course


def stored_enrolment(app) -> Enrolment:
    with app.app_context():
        enrolment = db.session.scalars(select(Enrolment)).one()
        db.session.expunge(enrolment)
        return enrolment


def test_launch_without_name_keeps_stored_name(app, platform):
    launch_ok(platform, student())
    first = stored_person(app)
    assert first.name == "Ana Lopez"
    assert first.email == "ana@example.edu"

    platform.claims_to_remove = set(PERSON_CLAIMS)
    launch_ok(platform, student())
    second = stored_person(app)

    assert second.id == first.id
    assert second.name == "Ana Lopez"
    assert second.email == "ana@example.edu"
    assert second.given_name == first.given_name
    assert second.family_name == first.family_name
    assert second.created_at == first.created_at
    assert second.last_launch_at > first.last_launch_at


def test_blank_name_claims_keep_stored_name(app, platform):
    launch_ok(platform, student())

    platform.claim_overrides = {"name": "   ", "email": ""}
    launch_ok(platform, student())

    person = stored_person(app)
    assert person.name == "Ana Lopez"
    assert person.email == "ana@example.edu"


def test_changed_name_and_email_are_stored(app, platform):
    launch_ok(platform, student())

    platform.claim_overrides = {"name": "Ana López-Reyes", "email": "ana.reyes@example.edu"}
    launch_ok(platform, student())

    person = stored_person(app)
    assert person.name == "Ana López-Reyes"
    assert person.email == "ana.reyes@example.edu"


def test_first_launch_without_name_stores_none(app, platform):
    platform.claims_to_remove = set(PERSON_CLAIMS)
    launch_ok(platform, student())

    person = stored_person(app)
    assert person.name is None
    assert person.email is None

    platform.claims_to_remove = set()
    launch_ok(platform, student())
    assert stored_person(app).name == "Ana Lopez"


def course_launch(title=None, label=None) -> LaunchRequest:
    return replace(student(), context_title=title, context_label=label)


def test_changed_course_title_and_label_are_stored(app, platform):
    launch_ok(platform, course_launch("Algebra I", "ALG1"))
    assert stored_course(app).title == "Algebra I"
    assert stored_course(app).label == "ALG1"

    launch_ok(platform, course_launch("Algebra I (Spring)", "ALG1-S"))

    course = stored_course(app)
    assert course.title == "Algebra I (Spring)"
    assert course.label == "ALG1-S"


def test_course_title_change_by_other_person_is_stored(app, platform):
    launch_ok(platform, course_launch("Algebra I"))

    launch_ok(platform, replace(student("student-ben"), context_title="Algebra I, renamed"))

    assert stored_course(app).title == "Algebra I, renamed"


def test_course_without_title_or_label_keeps_them(app, platform):
    launch_ok(platform, course_launch("Algebra I", "ALG1"))

    platform.claim_overrides = {CONTEXT: {"id": "course-algebra"}}
    launch_ok(platform, student())

    course = stored_course(app)
    assert course.title == "Algebra I"
    assert course.label == "ALG1"


def test_first_course_launch_without_title_stores_none(app, platform):
    platform.claim_overrides = {CONTEXT: {"id": "course-algebra", "title": "  "}}
    launch_ok(platform, student())

    course = stored_course(app)
    assert course.title is None
    assert course.label is None


def test_role_change_updates_enrolment_only(app, platform):
    launch_ok(platform, student())
    first = stored_enrolment(app)

    launch_ok(platform, replace(student(), roles=(ROLE_INSTRUCTOR,)))
    second = stored_enrolment(app)

    assert second.id == first.id
    assert second.course_role != first.course_role
    assert second.roles == [ROLE_INSTRUCTOR]
    assert second.first_launch_at == first.first_launch_at
    assert second.last_launch_at > first.last_launch_at
