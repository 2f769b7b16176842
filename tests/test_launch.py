"""Complete OIDC login and launch over HTTP, from an lti1p3platform platform."""

from __future__ import annotations

from sqlalchemy import func, select

from lti_ilp.demo.platform import (
    ROLE_INSTITUTION_STUDENT,
    ROLE_INSTRUCTOR,
    ROLE_LEARNER,
    LaunchRequest,
)
from lti_ilp.extensions import db
from lti_ilp.people.models import Person
from lti_ilp.plans.models import Plan

from .conftest import register
from .harness import page_text


def student_launch(user="student-ana", course="course-algebra", link="link-1"):
    return LaunchRequest(
        user_id=user,
        context_id=course,
        resource_link_id=link,
        roles=(ROLE_LEARNER, ROLE_INSTITUTION_STUDENT),
    )


def teacher_launch(course="course-algebra"):
    return LaunchRequest(
        user_id="teacher-rivera",
        context_id=course,
        resource_link_id="link-1",
        roles=(ROLE_INSTRUCTOR,),
    )


def test_student_launch_shows_own_plan(platform, browser):
    page = browser.launch(platform, student_launch())
    assert page.status_code == 200
    assert "My learning plan" in page.text
    assert "/plan" in page.url


def test_student_goal_survives_launch_from_second_course(app, platform, browser):
    page = browser.launch(platform, student_launch(course="course-algebra"))
    page = browser.submit(
        page,
        r"/plan/goals$",
        {
            "statement": "Pass Algebra I with a B",
            "measure": "Unit test scores",
            "target_date": "2027-05-30",
            "step_1": "Finish unit 3 practice",
            "step_2": "Attend Tuesday tutoring",
        },
    )
    assert page.status_code == 200
    assert "Pass Algebra I with a B" in page.text

    second = browser.launch(platform, student_launch(course="course-english", link="link-9"))
    text = page_text(second.text)
    assert "Pass Algebra I with a B" in text
    assert "Finish unit 3 practice" in text
    assert "Attend Tuesday tutoring" in text
    with app.app_context():
        assert db.session.scalar(select(func.count(Plan.id))) == 1


def test_teacher_launch_lists_launched_student(platform, browser):
    student = browser.launch(platform, student_launch())
    browser.submit(student, r"/plan/goals$", {"statement": "Read two novels", "progress": "40"})

    teacher = browser.launch(platform, teacher_launch())
    text = page_text(teacher.text)
    assert teacher.status_code == 200
    assert "Ana Lopez" in text
    assert "40%" in text
    assert "Ben Okafor" not in text


def test_teacher_sees_only_own_course_students(platform, browser):
    browser.launch(platform, student_launch(course="course-english"))
    teacher = browser.launch(platform, teacher_launch(course="course-algebra"))
    assert "Ana Lopez" not in teacher.text


def test_login_accepts_post(platform, browser):
    pending = browser.start_login(platform, student_launch(), method="POST")
    fields = browser.authorize(platform, pending)
    response = browser.post_launch(platform, fields)
    assert response.status_code == 303


def test_institution_instructor_role_gives_no_course_authority(platform, browser):
    launch = LaunchRequest(
        user_id="teacher-rivera",
        context_id="course-algebra",
        resource_link_id="link-1",
        roles=("http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor",),
    )
    page = browser.launch(platform, launch)
    assert "My learning plan" in page.text
    assert "/course" not in page.url


def test_empty_roles_mean_learner(platform, browser):
    launch = LaunchRequest(
        user_id="student-ben", context_id="course-algebra", resource_link_id="link-1", roles=()
    )
    page = browser.launch(platform, launch)
    assert page.status_code == 200
    assert "My learning plan" in page.text


def test_aud_as_array_with_azp(platform, browser):
    platform.claim_overrides = {
        "aud": ["some-other-audience", platform.client_id],
        "azp": platform.client_id,
    }
    page = browser.launch(platform, student_launch())
    assert page.status_code == 200
    assert "My learning plan" in page.text


def test_one_issuer_two_client_ids(app, tool_server, platform_host, tool_key, browser):
    issuer = f"{platform_host.url}/shared-issuer"
    first = platform_host.add("shared-a", tool_server.url, issuer=issuer, client_id="client-a")
    second = platform_host.add("shared-b", tool_server.url, issuer=issuer, client_id="client-b")
    register(app, first)
    register(app, second)

    page_a = browser.launch(first, student_launch())
    page_b = Browser_fresh().launch(second, student_launch())
    assert page_a.status_code == 200
    assert page_b.status_code == 200
    with app.app_context():
        people = db.session.scalars(select(Person).where(Person.sub == "student-ana")).all()
        assert len(people) == 2
        assert people[0].deployment_id != people[1].deployment_id


def Browser_fresh():
    from .harness import Browser

    return Browser()


def test_name_withheld_keeps_known_name(app, platform, browser):
    browser.launch(platform, student_launch())
    platform.claims_to_remove = {"name", "email"}
    page = browser.launch(platform, student_launch())
    assert page.status_code == 200
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.sub == "student-ana"))
        assert person.name == "Ana Lopez"
