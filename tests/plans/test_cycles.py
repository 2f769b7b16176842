"""Templates, versions, cohorts and the rollover to a new school year."""

from __future__ import annotations

from sqlalchemy import select

from lti_ilp.extensions import db
from lti_ilp.plan_templates.models import Cohort, Cycle, PlanTemplate
from lti_ilp.plans.models import Goal, Plan, PlanStatus

from ..harness import page_text
from .helpers import coordinator, get, goal_ids_of, launch_mentor, plan_id_of, post, student


def test_rollover_keeps_signed_snapshot(app, platform, browser):
    ana = browser.launch(platform, student())
    ana = browser.submit(ana, r"/plan/goals$", {"statement": "Pass Biology"})
    ana = browser.submit(ana, r"/plan/goals$", {"statement": "Get a library card"})
    old_plan = plan_id_of(ana)
    biology, library = goal_ids_of(ana)
    post(browser, ana, f"/plan/goals/{library}/progress", {"progress": "100"})
    post(browser, ana, f"/plans/{old_plan}/status", {"status": "active"})
    post(browser, ana, f"/plans/{old_plan}/status", {"status": "in_review"})
    mentor = launch_mentor(browser, platform)
    assert (
        post(browser, mentor, f"/plans/{old_plan}/status", {"status": "signed"}).status_code == 303
    )

    admin = browser.launch(platform, coordinator())
    refused = post(browser, admin, "/setup/rollover", {"name": "2027–28"})
    assert refused.status_code == 400
    done = post(browser, admin, "/setup/rollover", {"name": "2027–28", "confirm": "yes"})
    assert done.status_code == 303
    with app.app_context():
        old = db.session.get(Plan, old_plan)
        assert old.status == PlanStatus.CLOSED.value
        assert old.signed_by.sub == "mentor-kim"
        assert not old.cycle.is_current
        current = db.session.scalars(select(Cycle).where(Cycle.is_current)).one()
        assert current.name == "2027–28"
        new = db.session.execute(
            select(Plan).where(Plan.cycle_id == current.id, Plan.person_id == old.person_id)
        ).scalar_one()
        carried = db.session.scalars(select(Goal).where(Goal.plan_id == new.id)).all()
        assert [goal.statement for goal in carried] == ["Pass Biology"]
        assert carried[0].carried_from_id == biology
        assert len(db.session.scalars(select(Goal).where(Goal.plan_id == old_plan)).all()) == 2

    ana = browser.launch(platform, student())
    assert "2027–28" in ana.text
    assert "carried over from last year" in ana.text
    assert plan_id_of(ana) != old_plan
    snapshot = get(browser, ana, f"/plans/{old_plan}")
    text = page_text(snapshot.text)
    assert "Signed by Sam Kim" in text
    assert "read-only record" in text
    assert "/plan/goals" not in snapshot.text
    again = post(
        browser, ana, f"/plans/{old_plan}/comments", {"item_type": "plan", "body": "late"}
    )
    assert again.status_code == 409
    duplicate = post(browser, admin, "/setup/rollover", {"name": "2027–28", "confirm": "yes"})
    assert duplicate.status_code == 400


def test_rollover_signs_unsigned_plan_as_coordinator(app, platform, browser):
    ana = browser.launch(platform, student())
    browser.submit(ana, r"/plan/goals$", {"statement": "Pass Biology"})
    admin = browser.launch(platform, coordinator())
    post(browser, admin, "/setup/rollover", {"name": "Next year", "confirm": "yes"})
    with app.app_context():
        old = db.session.scalars(select(Plan).order_by(Plan.id)).first()
        assert old.status == PlanStatus.CLOSED.value
        assert old.signed_by.sub == "teacher-rivera"


def test_learner_cannot_roll_over(app, platform, browser):
    ana = browser.launch(platform, student())
    assert (
        post(browser, ana, "/setup/rollover", {"name": "x", "confirm": "yes"}).status_code == 403
    )
    with app.app_context():
        assert len(db.session.scalars(select(Cycle)).all()) == 1


def test_template_edit_makes_new_version(app, platform, browser):
    admin = browser.launch(platform, coordinator())
    setup = get(browser, admin, "/setup")
    assert "Evening blended high school" in setup.text
    assert "Teacher professional growth" in setup.text
    with app.app_context():
        template = db.session.execute(
            select(PlanTemplate).where(PlanTemplate.key == "evening-high-school")
        ).scalar_one()
        template_id = template.id
    form = {
        "name": "Evening blended high school",
        "audience": "learner",
        "profile_prompts": "strengths: My strengths\nwork_hours: Work hours",
        "goal_domains": "academic: Academic\ncareer: Career",
        "reflection_prompts": "mid_year: Midway thoughts\nend_of_year: Year in review",
        "goals_required": "3",
        "checkin_cadence_days": "14",
    }
    response = post(browser, admin, f"/setup/templates/{template_id}", form)
    assert response.status_code == 303
    with app.app_context():
        versions = db.session.scalars(
            select(PlanTemplate)
            .where(PlanTemplate.key == "evening-high-school")
            .order_by(PlanTemplate.version)
        ).all()
        assert [(v.version, v.is_latest) for v in versions] == [(1, False), (2, True)]
        assert versions[1].goals_required == 3
    stale = post(browser, admin, f"/setup/templates/{template_id}", form)
    assert stale.status_code == 404
    bad = post(browser, admin, "/setup/templates", {**form, "goals_required": "many"})
    assert bad.status_code == 400


def test_cohort_template_applies_to_new_plans(app, platform, browser):
    admin = browser.launch(platform, coordinator(course="course-pd"))
    get(browser, admin, "/setup")
    with app.app_context():
        pd = db.session.execute(
            select(PlanTemplate).where(PlanTemplate.key == "teacher-professional-growth")
        ).scalar_one()
        pd_id = pd.id
    response = post(
        browser,
        admin,
        "/setup/cohorts",
        {"name": "PD 2026", "template_id": str(pd_id), "link_course": "1"},
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalars(select(Cohort)).one().template_id == pd_id
    teacher_as_learner = browser.launch(platform, student(user="student-ben", course="course-pd"))
    assert "Strengths in my practice" in teacher_as_learner.text
    assert "Professional practice" in teacher_as_learner.text
