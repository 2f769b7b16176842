"""Recording people, courses and enrolments from verified launches.

Every launch passes through here, so each record costs one statement in the common case.
The person and the enrolment are each written by an upsert that returns the row. The
course row, which every launch of the class shares, is read first and written only when
it is new or its title or label changed.
"""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db, upsert_insert, utcnow
from ..lti.claims import VerifiedLaunch
from ..platforms.models import Deployment
from .models import Course, Enrolment, Person

PERSON_CLAIM_FIELDS = ("name", "given_name", "family_name", "email")


def _upsert(model, values: dict, conflict_columns: list[str], update_columns: list[str]):
    """Insert a row, or update ``update_columns`` of the row with the same key, and return
    it as an ORM object. Concurrent launches of the same key do not fail: the database
    serializes the two upserts on the row."""
    statement = upsert_insert(model).values(**values)
    # Each read of ``excluded`` builds a new alias, so read it once.
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=conflict_columns,
        set_={column: excluded[column] for column in update_columns},
    ).returning(model)
    return db.session.scalars(statement, execution_options={"populate_existing": True}).one()


def record_person(deployment: Deployment, launch: VerifiedLaunch) -> Person:
    now = utcnow()
    # Platforms may withhold name and email under privacy settings, so a claim that is
    # absent keeps what we have rather than erasing it.
    sent = {
        field: getattr(launch, field)
        for field in PERSON_CLAIM_FIELDS
        if getattr(launch, field) is not None
    }
    return _upsert(
        Person,
        {
            "deployment_id": deployment.id,
            "sub": launch.sub,
            "created_at": now,
            "last_launch_at": now,
            **sent,
        },
        ["deployment_id", "sub"],
        ["last_launch_at", *sent],
    )


def _find_course(deployment: Deployment, context_id: str) -> Course | None:
    return db.session.execute(
        select(Course).where(
            Course.deployment_id == deployment.id, Course.context_id == context_id
        )
    ).scalar_one_or_none()


def record_course(deployment: Deployment, launch: VerifiedLaunch) -> Course | None:
    if launch.context is None:
        return None
    context = launch.context
    course = _find_course(deployment, context.context_id)
    if course is None:
        course = db.session.scalars(
            upsert_insert(Course)
            .values(
                deployment_id=deployment.id,
                context_id=context.context_id,
                title=context.title or None,
                label=context.label or None,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["deployment_id", "context_id"])
            .returning(Course)
        ).one_or_none()
        if course is not None:
            return course
        # A concurrent launch inserted the course first.
        course = _find_course(deployment, context.context_id)
    # Assigning an unchanged value writes nothing at flush.
    if context.title:
        course.title = context.title
    if context.label:
        course.label = context.label
    return course


def record_enrolment(course: Course, person: Person, launch: VerifiedLaunch) -> Enrolment:
    now = utcnow()
    return _upsert(
        Enrolment,
        {
            "course_id": course.id,
            "person_id": person.id,
            "course_role": launch.course_role.value,
            "roles": list(launch.roles),
            "first_launch_at": now,
            "last_launch_at": now,
        },
        ["course_id", "person_id"],
        ["course_role", "roles", "last_launch_at"],
    )
