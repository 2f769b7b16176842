"""Staff growth: the seeded PD cohort, library, discussion, meetings and reflections."""

from __future__ import annotations

from sqlalchemy import func, select

from lti_ilp.extensions import db
from lti_ilp.growth.models import GoalResource, MeetingSignup, Resource
from lti_ilp.growth.seed import seed_pd_cohort
from lti_ilp.people.models import Person
from lti_ilp.plan_templates.models import CohortMember
from lti_ilp.plans.models import Plan
from lti_ilp.platforms.models import Deployment

from ..harness import page_text
from .helpers import coordinator, follow, get, goal_ids_of, post, student

PD_COURSE = "course-pd"


def _seed(app, count=70):
    with app.app_context():
        deployment = db.session.scalars(select(Deployment)).one()
        cohort = seed_pd_cohort(deployment, count=count, course_context_id=PD_COURSE)
        return cohort.id


def test_seed_is_idempotent(app, platform):
    first = _seed(app)
    second = _seed(app)
    assert first == second
    with app.app_context():
        assert db.session.scalar(select(func.count(Person.id))) == 70
        assert db.session.scalar(select(func.count(Plan.id))) == 70
        assert db.session.scalar(select(func.count(CohortMember.id))) == 70
        assert db.session.scalar(select(func.count(Resource.id))) == 5


def test_pd_cycle_end_to_end(app, platform, browser):
    cohort_id = _seed(app)
    admin = browser.launch(platform, coordinator(course=PD_COURSE, user="mentor-kim"))
    text = page_text(admin.text)
    assert "Growth plans (70)" in text
    assert admin.text.count('<tr>\n      <th scope="row">') == 70

    teacher = browser.launch(platform, student(user="teacher-rivera", course=PD_COURSE))
    assert "Strengths in my practice" in teacher.text
    teacher = browser.submit(
        teacher,
        r"/plan/goals$",
        {"statement": "Use exit tickets daily", "domain": "professional_practice"},
    )
    goal_id = goal_ids_of(teacher)[0]
    with app.app_context():
        webinar = (
            db.session.execute(
                select(Resource).where(Resource.title == "Formative assessment in ten minutes")
            )
            .scalar_one()
            .id
        )
    teacher = browser.submit(
        teacher, rf"/growth/goals/{goal_id}/resources$", {"resource_id": str(webinar)}
    )
    assert "Formative assessment in ten minutes" in teacher.text
    row = follow(
        browser,
        post(
            browser, teacher, f"/growth/goals/{goal_id}/resources", {"resource_id": str(webinar)}
        ),
    )
    with app.app_context():
        attached = db.session.scalars(select(GoalResource)).one()
        attached_id = attached.id
    assert (
        post(browser, row, f"/growth/goal-resources/{attached_id}/done", {"done": "1"}).status_code
        == 303
    )

    thread = follow(
        browser,
        post(
            browser,
            teacher,
            f"/growth/cohorts/{cohort_id}/threads",
            {"title": "Exit ticket ideas", "body": "Mine take two minutes"},
        ),
    )
    assert "Mine take two minutes" in thread.text

    cohort_page = get(browser, teacher, f"/growth/cohorts/{cohort_id}")
    assert "Growth plans (" not in cohort_page.text
    with app.app_context():
        from lti_ilp.growth.models import Meeting

        meeting_id = db.session.scalars(select(Meeting).order_by(Meeting.id)).first().id
    assert (
        post(
            browser,
            teacher,
            f"/growth/cohorts/{cohort_id}/meetings/{meeting_id}/signup",
            {"attend": "1"},
        ).status_code
        == 303
    )
    for key, answer in (
        ("eoy_successes", "Exit tickets stuck"),
        ("eoy_not_working", "Grading time"),
        ("eoy_next_focus", "Feedback loops"),
    ):
        response = post(
            browser, teacher, f"/plan/reflections/{key}", {"answer": answer, "action": "submit"}
        )
        assert response.status_code == 303, key

    admin = browser.launch(platform, coordinator(course=PD_COURSE, user="mentor-kim"))
    text = page_text(admin.text)
    assert "Growth plans (71)" in text
    row = admin.text.split("Dana Rivera", 1)[1].split("</tr>", 1)[0]
    row_text = page_text(row)
    assert "1 of 1" in row_text
    assert "Submitted" in row_text
    assert "Attending: Dana Rivera" in text
    assert "Exit ticket ideas" in text
    with app.app_context():
        assert db.session.scalar(select(func.count(MeetingSignup.id))) == 1


def test_library_only_from_own_cohort(app, platform, browser):
    cohort_id = _seed(app, count=3)
    outsider = browser.launch(platform, student(user="student-ana"))
    outsider = browser.submit(outsider, r"/plan/goals$", {"statement": "Read more"})
    goal_id = goal_ids_of(outsider)[0]
    with app.app_context():
        resource_id = db.session.scalars(select(Resource)).first().id
    response = post(
        browser, outsider, f"/growth/goals/{goal_id}/resources", {"resource_id": str(resource_id)}
    )
    assert response.status_code == 400
    assert get(browser, outsider, f"/growth/cohorts/{cohort_id}").status_code == 404
    response = post(
        browser, outsider, f"/growth/cohorts/{cohort_id}/threads", {"title": "x", "body": "y"}
    )
    assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(GoalResource.id))) == 0


def test_member_cannot_manage_library(app, platform, browser):
    cohort_id = _seed(app, count=2)
    teacher = browser.launch(platform, student(user="teacher-rivera", course=PD_COURSE))
    response = post(
        browser,
        teacher,
        f"/growth/cohorts/{cohort_id}/resources",
        {"kind": "link", "title": "Spam", "url": "https://example.org"},
    )
    assert response.status_code == 403
