"""Recording people, courses and enrolments from verified launches."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db, utcnow
from ..lti.claims import VerifiedLaunch
from ..platforms.models import Deployment
from .models import Course, Enrolment, Person


def _insert_ignoring_conflict(model, values: dict, conflict_columns: list[str]) -> None:
    """Insert a row unless one with the same key exists, without failing when another worker
    inserts the same row at the same moment."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict_columns)
    )
    db.session.execute(statement)


def record_person(deployment: Deployment, launch: VerifiedLaunch) -> Person:
    now = utcnow()
    _insert_ignoring_conflict(
        Person,
        {"deployment_id": deployment.id, "sub": launch.sub, "created_at": now},
        ["deployment_id", "sub"],
    )
    person = db.session.execute(
        select(Person).where(Person.deployment_id == deployment.id, Person.sub == launch.sub)
    ).scalar_one()
    # Platforms may withhold name and email under privacy settings, so keep what we have
    # rather than erasing it.
    for field in ("name", "given_name", "family_name", "email"):
        value = getattr(launch, field)
        if value is not None:
            setattr(person, field, value)
    person.last_launch_at = now
    return person


def record_course(deployment: Deployment, launch: VerifiedLaunch) -> Course | None:
    if launch.context is None:
        return None
    _insert_ignoring_conflict(
        Course,
        {
            "deployment_id": deployment.id,
            "context_id": launch.context.context_id,
            "created_at": utcnow(),
        },
        ["deployment_id", "context_id"],
    )
    course = db.session.execute(
        select(Course).where(
            Course.deployment_id == deployment.id,
            Course.context_id == launch.context.context_id,
        )
    ).scalar_one()
    if launch.context.title:
        course.title = launch.context.title
    if launch.context.label:
        course.label = launch.context.label
    return course


def record_enrolment(course: Course, person: Person, launch: VerifiedLaunch) -> Enrolment:
    now = utcnow()
    _insert_ignoring_conflict(
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
    )
    enrolment = db.session.execute(
        select(Enrolment).where(Enrolment.course_id == course.id, Enrolment.person_id == person.id)
    ).scalar_one()
    enrolment.course_role = launch.course_role.value
    enrolment.roles = list(launch.roles)
    enrolment.last_launch_at = now
    return enrolment
