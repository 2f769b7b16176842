"""The owner's plan page runs a fixed, small number of SQL statements.

Each section of the page (evidence, reflections, comments, status history, audit history,
check-ins, goal resources, library, other school years, reminders) takes one statement.
Goals take one, plus one for all their steps and one for all their progress entries. So a
plan with twelve goals costs the same as a plan with one.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

from sqlalchemy import event, select

from lti_ilp.demo.platform import ROLE_INSTITUTION_STUDENT, ROLE_LEARNER, LaunchRequest
from lti_ilp.extensions import db
from lti_ilp.growth.models import GoalResource, Resource
from lti_ilp.people.models import Person
from lti_ilp.plan_templates.models import Cohort, CohortMember, Cycle
from lti_ilp.plans import discussion, evidence
from lti_ilp.plans.models import Plan, PlanStatus
from lti_ilp.plans.service import add_goal, add_progress, ensure_plan, set_status, update_goal

# A returning owner with an empty plan needs the launch session with its person and
# course, the current plan with its cycle, and the plan's template with its goals. Then
# evidence, reflections, comments, status history, audit history, check-ins, goal
# resources, the library, other school years and the reminder banner take one each.
EMPTY_PLAN_STATEMENTS = 13
# Goals add one statement for all their action steps and one for all progress entries.
PLAN_WITH_GOALS_STATEMENTS = EMPTY_PLAN_STATEMENTS + 2

# Staff who each act on one goal: a progress entry, a comment, an edit of the goal.
STAFF_ROLES = ("Mentor", "Reviewer", "Editor")

GOAL_FORM = {
    "statement": "Read twenty minutes every school day",
    "domain": "academic",
    "measure": "Reading log entries",
    "step_1": "Pick a book",
    "step_2": "Log each session",
    "step_3": "Tell my mentor on Fridays",
}


def student_launch(user: str) -> LaunchRequest:
    return LaunchRequest(
        user_id=user,
        context_id="course-reading",
        resource_link_id="link-1",
        roles=(ROLE_LEARNER, ROLE_INSTITUTION_STUDENT),
    )


@contextmanager
def counted_statements(app):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split())[:160])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _staff(owner: Person, role: str, index: int) -> Person:
    staff = Person(
        deployment_id=owner.deployment_id,
        sub=f"{owner.sub}-{role.casefold()}-{index}",
        name=f"{role} {index} of {owner.sub}",
    )
    db.session.add(staff)
    return staff


def _library(owner: Person, plan: Plan, count: int) -> list[Resource]:
    cohort = Cohort(
        deployment_id=owner.deployment_id, name="Readers", template_id=plan.template_id
    )
    db.session.add(cohort)
    db.session.flush()
    db.session.add(CohortMember(cohort_id=cohort.id, person_id=owner.id))
    resources = [
        Resource(
            cohort_id=cohort.id,
            kind="link",
            title=f"Reading guide {index} for {owner.sub}",
            url=f"https://library.example.edu/{owner.sub}/{index}",
        )
        for index in range(count)
    ]
    db.session.add_all(resources)
    return resources


def _past_plan(owner: Person, plan: Plan) -> None:
    past = Cycle(
        deployment_id=owner.deployment_id,
        name=f"Year before, for {owner.sub}",
        starts_on=date(2001, 8, 1),
        ends_on=date(2002, 7, 31),
        is_current=False,
    )
    db.session.add(past)
    db.session.flush()
    db.session.add(
        Plan(
            person_id=owner.id,
            cycle_id=past.id,
            template_id=plan.template_id,
            status=PlanStatus.SIGNED.value,
            profile={},
        )
    )


def fill_plan(app, sub: str, goal_count: int) -> None:
    """Give the plan ``goal_count`` goals and everything the page shows about them.

    Each goal gets three steps, its own evidence and library resource, a progress entry by
    its own mentor, a comment by its own reviewer and an edit by its own editor. The plan
    also gets evidence linked to every goal, an answer with a comment for every reflection
    prompt, a status change and a plan of a past year. Because each goal has its own staff,
    the number of people the page names grows with the goals. The audit history loads
    most of them, so tests/plans/test_plan_page_statements.py checks each section alone.
    """
    with app.app_context():
        owner = db.session.execute(select(Person).where(Person.sub == sub)).scalar_one()
        plan = ensure_plan(owner)
        staff = {
            role: [_staff(owner, role, index) for index in range(goal_count)]
            for role in STAFF_ROLES
        }
        coordinator = _staff(owner, "Coordinator", 0)
        resources = _library(owner, plan, goal_count)
        _past_plan(owner, plan)
        db.session.flush()
        goals = [add_goal(plan, owner, GOAL_FORM) for _ in range(goal_count)]
        for index, goal in enumerate(goals):
            add_progress(plan, staff["Mentor"][index], goal, {"progress": "40", "note": "Halfway"})
            update_goal(
                plan,
                staff["Editor"][index],
                goal,
                {**GOAL_FORM, "why_it_matters": "Reading helps every subject"},
            )
            evidence.add_link(
                plan,
                owner,
                {"url": f"https://example.edu/log/{goal.id}", "caption": f"Log {goal.id}"},
                [str(goal.id)],
            )
            discussion.add_comment(
                plan,
                staff["Reviewer"][index],
                {"item_type": "goal", "item_id": str(goal.id), "body": "Keep going"},
                is_staff=True,
            )
            db.session.add(GoalResource(goal_id=goal.id, resource_id=resources[index].id))
        shared = evidence.add_link(
            plan,
            owner,
            {"url": "https://example.edu/portfolio", "caption": "Portfolio"},
            [str(goal.id) for goal in goals],
        )
        discussion.add_comment(
            plan,
            staff["Reviewer"][0],
            {"item_type": "evidence", "item_id": str(shared.id), "body": "Nice work"},
            is_staff=True,
        )
        for prompt in discussion.reflection_prompts(plan):
            reflection = discussion.save_reflection(
                plan, owner, prompt["key"], {"answer": "Reading every day helps."}, False
            )
            discussion.add_comment(
                plan,
                staff["Reviewer"][-1],
                {"item_type": "reflection", "item_id": str(reflection.id), "body": "Agreed"},
                is_staff=True,
            )
        set_status(plan, coordinator, PlanStatus.ACTIVE.value, "Started together")
        db.session.commit()


def draw_plan(app, browser, page) -> tuple[int, list[str], str]:
    with counted_statements(app) as statements:
        response = browser.http.get(page.url, allow_redirects=False)
    return response.status_code, statements, response.text


def listing(statements: list[str]) -> str:
    return f"{len(statements)} statements:\n" + "\n".join(statements)


def test_empty_plan_statements(app, platform, browser):
    page = browser.launch(platform, student_launch("student-ana"))
    assert page.status_code == 200

    status, statements, text = draw_plan(app, browser, page)

    assert status == 200
    assert "No goals yet." in text
    assert len(statements) <= EMPTY_PLAN_STATEMENTS, listing(statements)


def test_plan_statements_equal_1_and_12_goals(app, platform, browser):
    small_page = browser.launch(platform, student_launch("student-ana"))
    large_page = browser.launch(platform, student_launch("student-ben"))
    fill_plan(app, "student-ana", 1)
    fill_plan(app, "student-ben", 12)

    small_status, small, small_text = draw_plan(app, browser, small_page)
    large_status, large, large_text = draw_plan(app, browser, large_page)

    assert small_status == 200
    assert large_status == 200
    # The page shows each step in several places (the list, its edit form, the history).
    shown_once = small_text.count("Tell my mentor on Fridays")
    assert shown_once >= 1
    assert large_text.count("Tell my mentor on Fridays") == 12 * shown_once
    for index in range(12):
        for role in STAFF_ROLES:
            assert f"{role} {index} of student-ben" in large_text
        assert f"Reading guide {index} for student-ben" in large_text
    assert "Coordinator 0 of student-ben" in large_text
    assert "Year before, for student-ben" in large_text
    assert "for: Read twenty minutes every school day" in large_text
    assert len(small) <= PLAN_WITH_GOALS_STATEMENTS, listing(small)
    assert len(large) <= PLAN_WITH_GOALS_STATEMENTS, listing(large)
    assert len(small) == len(large), listing(small) + "\n--- 12 goals, " + listing(large)
