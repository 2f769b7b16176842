"""Demo data: a district PD cohort of teachers with growth plans.

``seed_pd_cohort`` is idempotent: people are found by their seeded ``sub``, and goals,
resources and meetings are added only where they are missing.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ..extensions import db, utcnow
from ..people.models import Course, Person
from ..plan_templates.defaults import TEACHER_PROFESSIONAL_GROWTH
from ..plan_templates.models import Cohort, CohortMember
from ..plan_templates.service import current_cycle, ensure_default_templates, latest_template
from ..plans.models import ActionStep, Goal, Plan, PlanStatus, ProgressEntry, StatusChange
from ..platforms.models import Deployment
from .models import DiscussionPost, DiscussionThread, Meeting, Resource

SUB_PREFIX = "pd-teacher-"
GIVEN_NAMES = [
    "Alex",
    "Bea",
    "Carlos",
    "Dina",
    "Eli",
    "Fatima",
    "Grace",
    "Hugo",
    "Ines",
    "Jamal",
    "Kira",
    "Luis",
    "Maya",
    "Nate",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
]
FAMILY_NAMES = [
    "Alvarez",
    "Brooks",
    "Chen",
    "Diallo",
    "Evans",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Khan",
    "Lopez",
    "Moreau",
    "Nguyen",
    "Okafor",
]
GOAL_IDEAS = [
    (
        "professional_practice",
        "Use exit tickets in every lesson to check understanding",
        "share of lessons with an exit ticket",
        20,
        90,
        "%",
    ),
    (
        "professional_practice",
        "Raise student talk time in discussions",
        "minutes of student talk per 50-minute lesson",
        8,
        20,
        "minutes",
    ),
    (
        "professional_practice",
        "Give written feedback on drafts within three school days",
        "drafts returned on time",
        40,
        95,
        "%",
    ),
    (
        "career",
        "Complete the instructional coaching certificate",
        "modules finished",
        0,
        6,
        "modules",
    ),
    ("career", "Lead one department PD session", "sessions led", 0, 1, "sessions"),
    ("personal", "Leave school by 5 pm four days a week", "days per week", 1, 4, "days"),
    (
        "professional_practice",
        "Build a unit around project-based learning",
        "unit lessons drafted",
        0,
        12,
        "lessons",
    ),
]
RESOURCES = [
    (
        "webinar",
        "Formative assessment in ten minutes",
        "https://example.org/pd/formative",
        ["assessment", "feedback"],
    ),
    (
        "webinar",
        "Structuring student discussion",
        "https://example.org/pd/discussion",
        ["discussion", "engagement"],
    ),
    (
        "mini_course",
        "Project-based learning basics",
        "https://example.org/pd/pbl",
        ["pbl", "planning"],
    ),
    (
        "mini_course",
        "Coaching conversations",
        "https://example.org/pd/coaching",
        ["coaching", "leadership"],
    ),
    (
        "link",
        "Feedback that moves learning forward",
        "https://example.org/pd/feedback-guide",
        ["feedback"],
    ),
]


def _cohort(deployment: Deployment, course: Course | None) -> Cohort:
    cycle = current_cycle(deployment.id)
    name = f"Teacher professional growth {cycle.name}"
    cohort = db.session.execute(
        select(Cohort).where(Cohort.deployment_id == deployment.id, Cohort.name == name)
    ).scalar_one_or_none()
    if cohort is None:
        template = latest_template(deployment.id, TEACHER_PROFESSIONAL_GROWTH["key"])
        cohort = Cohort(deployment_id=deployment.id, name=name, template_id=template.id)
        db.session.add(cohort)
    if course is not None:
        cohort.course_id = course.id
    db.session.flush()
    return cohort


def _course(deployment: Deployment, context_id: str | None) -> Course | None:
    if not context_id:
        return None
    course = db.session.execute(
        select(Course).where(
            Course.deployment_id == deployment.id, Course.context_id == context_id
        )
    ).scalar_one_or_none()
    if course is None:
        course = Course(
            deployment_id=deployment.id, context_id=context_id, title="Teacher professional growth"
        )
        db.session.add(course)
        db.session.flush()
    return course


def pd_teacher_identity(index: int) -> tuple[str, str, str]:
    """Return (sub, given name, family name) of seeded teacher ``index``, counted from 1.

    The demo LMS uses the same identities, so seeded teachers can also launch the tool.
    """
    given = GIVEN_NAMES[index % len(GIVEN_NAMES)]
    # The shift per round of given names keeps all 70 seeded names distinct.
    family = FAMILY_NAMES[(index * 7 + index // len(GIVEN_NAMES)) % len(FAMILY_NAMES)]
    return f"{SUB_PREFIX}{index:03d}", given, family


def _teacher(deployment: Deployment, index: int) -> Person:
    sub, given, family = pd_teacher_identity(index)
    person = db.session.execute(
        select(Person).where(Person.deployment_id == deployment.id, Person.sub == sub)
    ).scalar_one_or_none()
    if person is None:
        person = Person(
            deployment_id=deployment.id,
            sub=sub,
            given_name=given,
            family_name=family,
            name=f"{given} {family}",
            email=f"{sub}@example.edu",
        )
        db.session.add(person)
        db.session.flush()
    return person


def _plan(person: Person, cohort: Cohort, rng: random.Random) -> Plan:
    cycle = current_cycle(person.deployment_id)
    plan = db.session.execute(
        select(Plan).where(Plan.person_id == person.id, Plan.cycle_id == cycle.id)
    ).scalar_one_or_none()
    if plan is not None:
        return plan
    status = rng.choice(
        [PlanStatus.DRAFT, PlanStatus.ACTIVE, PlanStatus.ACTIVE, PlanStatus.IN_REVIEW]
    ).value
    plan = Plan(
        person_id=person.id,
        cycle_id=cycle.id,
        template_id=cohort.template_id,
        status=status,
        profile={
            "strengths": "Building relationships with students.",
            "challenges": "Differentiating for a wide range of readers.",
            "learning_preferences": "Short videos and peer observation.",
        },
    )
    db.session.add(plan)
    db.session.flush()
    db.session.add(
        StatusChange(
            plan_id=plan.id,
            from_status=None,
            to_status=status,
            actor_id=person.id,
            reason="Seeded demo plan",
        )
    )
    for idea in rng.sample(GOAL_IDEAS, rng.randint(2, 3)):
        plan.goals.append(_goal(person, idea, rng))
    return plan


def _goal(person: Person, idea: tuple, rng: random.Random) -> Goal:
    domain, statement, measure, baseline, target, unit = idea
    progress = rng.choice([0, 0, 10, 25, 40, 60, 80])
    goal = Goal(
        domain=domain,
        statement=statement,
        measure=measure,
        baseline=baseline,
        target=target,
        unit=unit,
        progress=progress,
        created_by_id=person.id,
        why_it_matters="It is the part of my practice my students would notice most.",
        target_date=(utcnow() + timedelta(days=rng.randint(30, 200))).date(),
    )
    goal.steps = [
        ActionStep(
            description="Watch one library session on this topic",
            due_date=(utcnow() + timedelta(days=rng.randint(-20, 40))).date(),
            created_by_id=person.id,
            done=rng.random() < 0.4,
        ),
        ActionStep(
            description="Try it in one class and note what happened", created_by_id=person.id
        ),
    ]
    if progress:
        goal.progress_entries = [
            ProgressEntry(progress=progress, author_id=person.id, note="Seeded progress")
        ]
    return goal


def _library(cohort: Cohort) -> None:
    titles = set(db.session.scalars(select(Resource.title).where(Resource.cohort_id == cohort.id)))
    for kind, title, url, tags in RESOURCES:
        if title not in titles:
            db.session.add(
                Resource(
                    cohort_id=cohort.id, kind=kind, title=title, url=url, tags=tags, description=""
                )
            )
    if db.session.scalar(select(Meeting.id).where(Meeting.cohort_id == cohort.id)) is None:
        base = datetime.now(UTC).replace(hour=16, minute=0, second=0, microsecond=0)
        db.session.add(
            Meeting(
                cohort_id=cohort.id,
                title="Peer observation debrief",
                starts_at=base + timedelta(days=14),
                location="District office, room 204",
                capacity=25,
            )
        )
        db.session.add(
            Meeting(
                cohort_id=cohort.id,
                title="Spring goal check-in",
                starts_at=base + timedelta(days=60),
                location="Central High library",
                capacity=40,
            )
        )


def _welcome_thread(cohort: Cohort, author: Person) -> None:
    if (
        db.session.scalar(
            select(DiscussionThread.id).where(DiscussionThread.cohort_id == cohort.id)
        )
        is not None
    ):
        return
    thread = DiscussionThread(
        cohort_id=cohort.id, title="What are you working on this year?", author_id=author.id
    )
    thread.posts.append(
        DiscussionPost(
            body="Share one goal and one resource that helped you get started.",
            author_id=author.id,
        )
    )
    db.session.add(thread)


def seed_pd_cohort(
    deployment: Deployment, count: int = 70, course_context_id: str | None = None
) -> Cohort:
    """Create ``count`` teachers with PD-template plans in one cohort, and commit.

    Pass the LMS context id of the PD course as ``course_context_id`` so that teachers who
    launch from that course as learners join the same cohort.
    """
    ensure_default_templates(deployment.id)
    cohort = _cohort(deployment, _course(deployment, course_context_id))
    # Seeded, so the demo data is the same on every run; not used for anything secret.
    rng = random.Random(f"pd-seed-{deployment.id}")  # noqa: S311
    members = set(
        db.session.scalars(
            select(CohortMember.person_id).where(CohortMember.cohort_id == cohort.id)
        )
    )
    teachers = []
    for index in range(1, count + 1):
        person = _teacher(deployment, index)
        teachers.append(person)
        if person.id not in members:
            db.session.add(CohortMember(cohort_id=cohort.id, person_id=person.id))
        _plan(person, cohort, rng)
    _library(cohort)
    if teachers:
        _welcome_thread(cohort, teachers[0])
    db.session.commit()
    return cohort
