"""Loading for the plan page: a new plan is committed on first use, each section loads the
rows its template reads in the same statement, and the library follows cohort
membership."""

from __future__ import annotations

from sqlalchemy import func, select

from lti_ilp.extensions import db, utcnow
from lti_ilp.growth.models import Resource
from lti_ilp.growth.service import goal_resources, library_for
from lti_ilp.lti.roles import CourseRole
from lti_ilp.nudges.models import LEVEL_STAFF, Nudge
from lti_ilp.nudges.service import banner_nudges
from lti_ilp.people.models import Course, Enrolment, Person
from lti_ilp.plan_templates.models import Cohort, CohortMember, PlanTemplate
from lti_ilp.plan_templates.service import cohorts_of, ensure_default_templates
from lti_ilp.plans import discussion, evidence, presenter
from lti_ilp.plans.models import Plan, StatusChange
from lti_ilp.plans.service import ensure_plan
from lti_ilp.platforms.models import Deployment, Registration

from ..scale.test_plan_page_queries import counted_statements, fill_plan
from .helpers import get, teacher

OWNER_SUB = "learner-1"


def _deployment(issuer: str) -> Deployment:
    registration = Registration(
        issuer=issuer,
        client_id="c1",
        auth_login_url=f"{issuer}/auth",
        auth_token_url=f"{issuer}/token",
        key_set_url=f"{issuer}/jwks",
    )
    deployment = Deployment(registration=registration, deployment_id="d1")
    db.session.add_all([registration, deployment])
    return deployment


def _filled_plan(app, goal_count: int = 3) -> tuple[int, int]:
    """Return the ids of an owner and of their current plan, filled by ``fill_plan``."""
    with app.app_context():
        deployment = _deployment("https://lms.example.edu")
        db.session.add(Person(deployment=deployment, sub=OWNER_SUB, name="Lee Learner"))
        db.session.commit()
    fill_plan(app, OWNER_SUB, goal_count)
    with app.app_context():
        owner = db.session.execute(select(Person).where(Person.sub == OWNER_SUB)).scalar_one()
        return owner.id, ensure_plan(owner).id


def _touch_plan_tree(plan: Plan, _) -> list:
    presenter.load_plan_tree(plan)
    shown = [plan.template.name, plan.signed_by.display_name]
    for goal in plan.goals:
        shown += [step.description for step in goal.steps]
        shown += [entry.author.display_name for entry in goal.progress_entries]
    return shown


def _touch_evidence(plan: Plan, _) -> list:
    return [goal.statement for item in evidence.list_evidence(plan) for goal in item.goals]


def _touch_comments(plan: Plan, _) -> list:
    threads = discussion.comment_threads(plan, True)
    return [comment.author.display_name for rows in threads.values() for comment in rows]


def _touch_status_history(plan: Plan, _) -> list:
    return [change.actor.display_name for change in presenter.status_history(plan)]


def _touch_audit_history(plan: Plan, _) -> list:
    return [entry.actor.display_name for entry in presenter.history(plan, True) if entry.actor]


def _touch_goal_resources(plan: Plan, _) -> list:
    return [row.resource.title for rows in goal_resources(plan).values() for row in rows]


def _touch_other_plans(plan: Plan, _) -> list:
    return [other.cycle.name for other in presenter.other_plans(plan)]


def _touch_banner(plan: Plan, recipient_id: int) -> list:
    return [nudge.subject.display_name for nudge in banner_nudges(recipient_id)]


SECTIONS = {
    "goals, steps and progress": _touch_plan_tree,
    "evidence": _touch_evidence,
    "comments": _touch_comments,
    "status history": _touch_status_history,
    "audit history": _touch_audit_history,
    "goal resources": _touch_goal_resources,
    "other school years": _touch_other_plans,
    "reminder banner": _touch_banner,
}
# Statements each section may run: its own query, plus one per eager collection.
SECTION_STATEMENTS = {"goals, steps and progress": 3}


def _sign_and_nudge(owner_id: int, plan_id: int) -> int:
    """Have a teacher sign the plan and send three staff reminders about it; return the
    teacher's id."""
    owner = db.session.get(Person, owner_id)
    recipient = Person(deployment_id=owner.deployment_id, sub="teacher-1", name="Tess Teacher")
    db.session.add(recipient)
    db.session.flush()
    plan = db.session.get(Plan, plan_id)
    plan.signed_by_id = recipient.id
    plan.signed_at = utcnow()
    for day in ("2030-01-01", "2030-01-02", "2030-01-03"):
        db.session.add(
            Nudge(
                deployment_id=owner.deployment_id,
                plan_id=plan_id,
                subject_id=owner.id,
                recipient_id=recipient.id,
                level=LEVEL_STAFF,
                window_key=day,
            )
        )
    db.session.commit()
    return recipient.id


def test_first_visit_commits_new_plan(app, platform, browser):
    # A learner's launch creates the plan, so an instructor's first visit is the first use.
    page = browser.launch(platform, teacher())
    with app.app_context():
        person_id = db.session.execute(
            select(Person.id).where(Person.sub == "teacher-rivera")
        ).scalar_one()
        assert db.session.scalar(select(func.count(Plan.id))) == 0

    first = get(browser, page, "/plan")
    second = get(browser, page, "/plan")

    assert first.status_code == 200
    assert second.status_code == 200
    with app.app_context():
        plans = list(db.session.scalars(select(Plan).where(Plan.person_id == person_id)))
        assert len(plans) == 1
        reasons = db.session.scalars(
            select(StatusChange.reason).where(StatusChange.plan_id == plans[0].id)
        )
        assert list(reasons) == ["Plan created"]


def test_sections_load_what_page_reads(app):
    owner_id, plan_id = _filled_plan(app)
    with app.app_context():
        recipient_id = _sign_and_nudge(owner_id, plan_id)

    for name, touch in SECTIONS.items():
        # A new app context starts with an empty identity map, so nothing that an earlier
        # section loaded can stand in for a missing eager load.
        with app.app_context():
            plan = db.session.get(Plan, plan_id)
            with counted_statements(app) as statements:
                shown = touch(plan, recipient_id)
            assert shown, name
            allowed = SECTION_STATEMENTS.get(name, 1)
            assert len(statements) <= allowed, f"{name}: " + "\n".join(statements)


def test_library_matches_cohort_membership(app):
    with app.app_context():
        home = _deployment("https://lms.example.edu")
        other = _deployment("https://other.example.edu")
        db.session.flush()
        ensure_default_templates(home.id)
        ensure_default_templates(other.id)
        person = Person(deployment=home, sub="learner-1")
        db.session.add(person)
        reading = Course(deployment_id=home.id, context_id="reading")
        teaching = Course(deployment_id=home.id, context_id="teaching")
        db.session.add_all([reading, teaching])
        db.session.flush()
        db.session.add_all(
            [
                Enrolment(
                    course_id=reading.id,
                    person_id=person.id,
                    course_role=CourseRole.LEARNER.value,
                ),
                Enrolment(
                    course_id=teaching.id,
                    person_id=person.id,
                    course_role=CourseRole.INSTRUCTOR.value,
                ),
            ]
        )
        cohorts = {}
        for name, deployment, course in [
            ("member", home, None),
            ("course", home, reading),
            ("taught", home, teaching),
            ("unrelated", home, None),
            ("other deployment", other, None),
        ]:
            cohort = Cohort(
                deployment_id=deployment.id,
                name=name,
                template_id=_any_template_id(deployment.id),
                course_id=course.id if course else None,
            )
            db.session.add(cohort)
            db.session.flush()
            cohorts[name] = cohort
            db.session.add_all(
                Resource(
                    cohort_id=cohort.id,
                    kind="link",
                    title=f"{title} from {name}",
                    url=f"https://library.example.edu/{cohort.id}/{title}",
                )
                for title in ("B", "A")
            )
        db.session.add_all(
            [
                CohortMember(cohort_id=cohorts["member"].id, person_id=person.id),
                CohortMember(cohort_id=cohorts["other deployment"].id, person_id=person.id),
            ]
        )
        db.session.commit()

        library = library_for(person)
        member_cohort_ids = {cohort.id for cohort in cohorts_of(person)}

    assert member_cohort_ids == {cohorts["member"].id, cohorts["course"].id}
    assert {resource.cohort_id for resource in library} == member_cohort_ids
    assert [resource.title for resource in library] == [
        "A from course",
        "A from member",
        "B from course",
        "B from member",
    ]


def _any_template_id(deployment_id: int) -> int:
    return db.session.execute(
        select(PlanTemplate.id).where(PlanTemplate.deployment_id == deployment_id).limit(1)
    ).scalar_one()
