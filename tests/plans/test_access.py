"""Who can read and change a plan, over real signed launches."""

from __future__ import annotations

from sqlalchemy import func, select

from lti_ilp.extensions import db
from lti_ilp.plans.models import (
    ActionStep,
    AuditEntry,
    Comment,
    Evidence,
    Goal,
    Plan,
    PlanStatus,
)

from ..harness import page_text
from .helpers import (
    get,
    goal_ids_of,
    launch_mentor,
    plan_id_of,
    post,
    student,
    teacher,
)


def _ana_with_goal(browser, platform):
    page = browser.launch(platform, student())
    page = browser.submit(
        page,
        r"/plan/goals$",
        {
            "statement": "Pass Algebra I with a B",
            "measure": "Unit test average",
            "baseline": "62",
            "target": "80",
            "unit": "%",
            "step_1": "Finish unit 3 practice",
            "step_1_due": "2020-01-15",
        },
    )
    assert page.status_code == 200, page_text(page.text)
    return page


def _snapshot(app):
    with app.app_context():
        return {
            "goals": [
                (g.id, g.plan_id, g.statement, g.progress, g.status)
                for g in db.session.scalars(select(Goal).order_by(Goal.id))
            ],
            "steps": [
                (s.id, s.goal_id, s.description, s.done)
                for s in db.session.scalars(select(ActionStep).order_by(ActionStep.id))
            ],
            "comments": db.session.scalar(select(func.count(Comment.id))),
            "evidence": db.session.scalar(select(func.count(Evidence.id))),
            "statuses": [(p.id, p.status) for p in db.session.scalars(select(Plan))],
        }


def test_teacher_and_mentor_see_and_comment(app, platform, browser):
    ana = _ana_with_goal(browser, platform)
    plan_id = plan_id_of(ana)
    goal_id = goal_ids_of(ana)[0]

    teacher_page = browser.launch(platform, teacher())
    plan_page = get(browser, teacher_page, f"/plans/{plan_id}")
    assert plan_page.status_code == 200
    assert "Pass Algebra I with a B" in plan_page.text
    response = post(
        browser,
        plan_page,
        f"/plans/{plan_id}/comments",
        {
            "item_type": "goal",
            "item_id": str(goal_id),
            "body": "Good target, <b>Ana</b>",
            "visibility": "owner_and_staff",
        },
    )
    assert response.status_code == 303

    mentor_page = launch_mentor(browser, platform)
    assert "Ana Lopez" in page_text(mentor_page.text)
    response = post(
        browser,
        mentor_page,
        f"/plans/{plan_id}/comments",
        {
            "item_type": "goal",
            "item_id": str(goal_id),
            "body": "Let us talk on Tuesday",
        },
    )
    assert response.status_code == 303

    ana_again = browser.launch(platform, student())
    text = page_text(ana_again.text)
    assert "Good target, <b>Ana</b>" in text
    assert "Good target, &lt;b&gt;Ana&lt;/b&gt;" in ana_again.text
    assert "Let us talk on Tuesday" in text


def test_staff_only_comment_hidden_from_owner(app, platform, browser):
    ana = _ana_with_goal(browser, platform)
    plan_id = plan_id_of(ana)
    teacher_page = browser.launch(platform, teacher())
    response = post(
        browser,
        teacher_page,
        f"/plans/{plan_id}/comments",
        {
            "item_type": "plan",
            "item_id": "",
            "body": "Check attendance first",
            "visibility": "staff_only",
        },
    )
    assert response.status_code == 303
    assert "Check attendance first" in get(browser, teacher_page, f"/plans/{plan_id}").text
    ana_again = browser.launch(platform, student())
    assert "Check attendance first" not in ana_again.text


def test_other_learner_cannot_read_or_change(app, platform, browser):
    ana = _ana_with_goal(browser, platform)
    plan_id = plan_id_of(ana)
    goal_id = goal_ids_of(ana)[0]
    with app.app_context():
        step_id = db.session.scalar(select(ActionStep.id).where(ActionStep.goal_id == goal_id))
    ben = browser.launch(platform, student(user="student-ben"))
    before = _snapshot(app)
    assert get(browser, ben, f"/plans/{plan_id}").status_code == 404
    attempts = [
        (f"/plan/goals/{goal_id}", {"statement": "Hijacked"}),
        (f"/plan/goals/{goal_id}/progress", {"progress": "100"}),
        (f"/plan/goals/{goal_id}/delete", {}),
        (f"/plan/goals/{goal_id}/steps", {"description": "Injected step"}),
        (f"/plan/steps/{step_id}/done", {"done": "1"}),
        (f"/plan/steps/{step_id}/delete", {}),
        (f"/plans/{plan_id}/comments", {"item_type": "plan", "body": "Hi"}),
        (f"/plans/{plan_id}/status", {"status": "active"}),
        (f"/plans/{plan_id}/checkins", {"mode": "in_person"}),
    ]
    for path, data in attempts:
        response = post(browser, ben, path, data)
        assert response.status_code in (403, 404), (path, response.status_code)
    assert _snapshot(app) == before


def test_form_ids_from_other_plan_rejected(app, platform, browser):
    ana = _ana_with_goal(browser, platform)
    ana_goal = goal_ids_of(ana)[0]
    ben = browser.launch(platform, student(user="student-ben"))
    ben = browser.submit(ben, r"/plan/goals$", {"statement": "Read two novels"})
    ben_plan = plan_id_of(ben)
    before = _snapshot(app)

    response = post(
        browser,
        ben,
        "/plan/evidence",
        {"kind": "link", "url": "https://example.org/x", "goal_ids": str(ana_goal)},
    )
    assert response.status_code == 400
    response = post(
        browser,
        ben,
        f"/plans/{ben_plan}/comments",
        {"item_type": "goal", "item_id": str(ana_goal), "body": "Sneaky"},
    )
    assert response.status_code == 400
    assert _snapshot(app) == before


def test_teacher_of_other_course_sees_nothing(app, platform, browser):
    ana = _ana_with_goal(browser, platform)
    plan_id = plan_id_of(ana)
    other = browser.launch(platform, teacher(course="course-english"))
    assert "Ana Lopez" not in other.text
    assert get(browser, other, f"/plans/{plan_id}").status_code == 404
    response = post(
        browser, other, f"/plans/{plan_id}/comments", {"item_type": "plan", "body": "Hello"}
    )
    assert response.status_code == 404


def test_mentor_without_assignment_sees_nothing(app, platform, browser):
    ana = _ana_with_goal(browser, platform)
    plan_id = plan_id_of(ana)
    mentor_page = launch_mentor(browser, platform, mentees=("student-ben",))
    assert "Ana Lopez" not in mentor_page.text
    assert get(browser, mentor_page, f"/plans/{plan_id}").status_code == 404


def test_mentor_assignment_follows_claim(app, platform, browser):
    ana = _ana_with_goal(browser, platform)
    plan_id = plan_id_of(ana)
    first = launch_mentor(browser, platform, mentees=("student-ana",))
    assert get(browser, first, f"/plans/{plan_id}").status_code == 200
    second = launch_mentor(browser, platform, mentees=())
    assert get(browser, second, f"/plans/{plan_id}").status_code == 404


def test_same_sub_on_two_platforms_isolated(app, platform, platform_host, tool_server, browser):
    from ..conftest import register

    other = platform_host.add("lms-isolation-b", tool_server.url)
    register(app, other)
    ana = _ana_with_goal(browser, platform)
    plan_id = plan_id_of(ana)
    goal_id = goal_ids_of(ana)[0]
    before = _snapshot(app)

    twin = browser.launch(other, student())
    assert "Pass Algebra I with a B" not in twin.text
    assert get(browser, twin, f"/plans/{plan_id}").status_code == 404
    response = post(browser, twin, f"/plan/goals/{goal_id}", {"statement": "Changed"})
    assert response.status_code == 404
    twin_teacher = browser.launch(other, teacher())
    assert "Ana Lopez" not in page_text(twin_teacher.text) or "Pass Algebra" not in (
        get(browser, twin_teacher, f"/plans/{plan_id}").text
    )
    assert get(browser, twin_teacher, f"/plans/{plan_id}").status_code == 404
    twin_admin = browser.launch(other, teacher(user="mentor-kim"))
    assert get(browser, twin_admin, f"/plans/{plan_id}").status_code == 404
    after = _snapshot(app)
    assert after["goals"] == before["goals"]
    assert after["steps"] == before["steps"]


def test_coordinator_of_other_platform_sees_nothing(
    app, platform, platform_host, tool_server, browser
):
    from ..conftest import register
    from .helpers import coordinator

    other = platform_host.add("lms-isolation-c", tool_server.url)
    register(app, other)
    ana = _ana_with_goal(browser, platform)
    plan_id = plan_id_of(ana)
    admin = browser.launch(other, coordinator())
    assert get(browser, admin, f"/plans/{plan_id}").status_code == 404
    listing = get(browser, admin, "/coordinator")
    assert listing.status_code == 200
    assert "Ana Lopez" not in listing.text
    own_admin = browser.launch(platform, coordinator())
    assert get(browser, own_admin, f"/plans/{plan_id}").status_code == 200
    assert "Ana Lopez" in get(browser, own_admin, "/coordinator").text


def test_owner_cannot_sign_own_plan(app, platform, browser):
    ana = _ana_with_goal(browser, platform)
    ana = browser.submit(ana, r"/plan/goals$", {"statement": "Get a job-shadow day"})
    plan_id = plan_id_of(ana)
    assert post(browser, ana, f"/plans/{plan_id}/status", {"status": "signed"}).status_code == 400
    for status in ("active", "in_review"):
        response = post(browser, ana, f"/plans/{plan_id}/status", {"status": status})
        assert response.status_code == 303, status
    teacher_page = browser.launch(platform, teacher())
    response = post(browser, teacher_page, f"/plans/{plan_id}/status", {"status": "signed"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Plan, plan_id).status == PlanStatus.IN_REVIEW.value

    mentor_page = launch_mentor(browser, platform)
    response = post(browser, mentor_page, f"/plans/{plan_id}/status", {"status": "signed"})
    assert response.status_code == 303
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        assert plan.status == PlanStatus.SIGNED.value
        assert plan.signed_by.sub == "mentor-kim"
        assert plan.signed_at is not None

    ana = browser.launch(platform, student())
    assert "Signed by Sam Kim" in page_text(ana.text)
    response = post(browser, ana, "/plan/goals", {"statement": "Late goal"})
    assert response.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count(Goal.id))) == 2


def test_review_needs_required_goals(app, platform, browser):
    ana = _ana_with_goal(browser, platform)
    plan_id = plan_id_of(ana)
    assert post(browser, ana, f"/plans/{plan_id}/status", {"status": "active"}).status_code == 303
    response = post(browser, ana, f"/plans/{plan_id}/status", {"status": "in_review"})
    assert response.status_code == 400
    assert "at least 2 goals" in page_text(response.text)


def test_history_shows_old_and_new_values(app, platform, browser):
    ana = _ana_with_goal(browser, platform)
    goal_id = goal_ids_of(ana)[0]
    page = browser.submit(
        ana,
        rf"/plan/goals/{goal_id}$",
        {"statement": "Pass Algebra I with a B+", "domain": "academic", "status": "revised"},
    )
    assert page.status_code == 200
    with app.app_context():
        entry = db.session.execute(
            select(AuditEntry).where(AuditEntry.field == "statement")
        ).scalar_one()
        assert entry.old_value == "Pass Algebra I with a B"
        assert entry.new_value == "Pass Algebra I with a B+"
        assert entry.actor.sub == "student-ana"
    history = page.text.split('id="history"', 1)[1]
    assert "Pass Algebra I with a B+" in history
    assert "revised" in history


def test_coordinator_assigns_mentor_in_tool(app, platform, browser):
    from lti_ilp.people.models import Person

    from .helpers import coordinator, mentor

    ana = _ana_with_goal(browser, platform)
    plan_id = plan_id_of(ana)
    kim = browser.launch(platform, mentor(course="course-other"))
    assert get(browser, kim, f"/plans/{plan_id}").status_code == 404
    with app.app_context():
        ids = {person.sub: person.id for person in db.session.scalars(select(Person))}

    ben = browser.launch(platform, student(user="student-ben"))
    refused = post(
        browser,
        ben,
        "/coordinator/mentors",
        {"mentor_id": str(ids["mentor-kim"]), "mentee_id": str(ids["student-ana"])},
    )
    assert refused.status_code == 403
    assert get(browser, kim, f"/plans/{plan_id}").status_code == 404

    admin = browser.launch(platform, coordinator())
    response = post(
        browser,
        admin,
        "/coordinator/mentors",
        {"mentor_id": str(ids["mentor-kim"]), "mentee_id": str(ids["student-ana"])},
    )
    assert response.status_code == 303
    assert get(browser, kim, f"/plans/{plan_id}").status_code == 200
    mentees = browser.launch(platform, mentor(course="course-other"))
    assert "Ana Lopez" in page_text(mentees.text)


def test_coordinator_grant_gives_access(app, platform, browser):
    from lti_ilp.people.models import Person

    from .helpers import coordinator

    ana = _ana_with_goal(browser, platform)
    plan_id = plan_id_of(ana)
    ben = browser.launch(platform, student(user="student-ben"))
    assert get(browser, ben, f"/plans/{plan_id}").status_code == 404
    with app.app_context():
        ben_id = db.session.scalar(select(Person.id).where(Person.sub == "student-ben"))
    admin = browser.launch(platform, coordinator(user="mentor-kim"))
    assert (
        post(browser, admin, "/coordinator/grants", {"person_id": str(ben_id)}).status_code == 303
    )
    assert get(browser, ben, f"/plans/{plan_id}").status_code == 200
    assert get(browser, ben, "/coordinator").status_code == 200
