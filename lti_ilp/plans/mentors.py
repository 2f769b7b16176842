"""Mentor assignments and coordinator grants."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import delete, select

from ..extensions import db
from ..people.models import Person
from .models import CoordinatorGrant, MentorAssignment

log = logging.getLogger(__name__)

SOURCE_LTI = "lti"
SOURCE_TOOL = "tool"
MAX_MENTEES_FROM_CLAIM = 500


def sync_lti_mentees(mentor: Person, mentee_subs: Iterable[str]) -> None:
    """Replace the mentor's LMS-given assignments with the launch's role_scope_mentor list.

    Assignments made by a coordinator in the tool are kept.
    """
    wanted = {sub for sub in mentee_subs if sub and sub != mentor.sub}
    if len(wanted) > MAX_MENTEES_FROM_CLAIM:
        log.warning("role_scope_mentor list truncated person=%s count=%s", mentor.id, len(wanted))
        wanted = set(sorted(wanted)[:MAX_MENTEES_FROM_CLAIM])
    existing = dict(
        db.session.execute(
            select(MentorAssignment.mentee_sub, MentorAssignment.source).where(
                MentorAssignment.deployment_id == mentor.deployment_id,
                MentorAssignment.mentor_id == mentor.id,
            )
        ).all()
    )
    stale = [sub for sub, source in existing.items() if source == SOURCE_LTI and sub not in wanted]
    if stale:
        db.session.execute(
            delete(MentorAssignment).where(
                MentorAssignment.deployment_id == mentor.deployment_id,
                MentorAssignment.mentor_id == mentor.id,
                MentorAssignment.mentee_sub.in_(stale),
            )
        )
    for sub in sorted(wanted - set(existing)):
        db.session.add(
            MentorAssignment(
                deployment_id=mentor.deployment_id,
                mentor_id=mentor.id,
                mentee_sub=sub,
                source=SOURCE_LTI,
            )
        )
    db.session.flush()


def assign_mentor(mentor: Person, mentee: Person, actor: Person) -> None:
    if mentor.deployment_id != mentee.deployment_id:
        raise ValueError("mentor and mentee belong to different deployments")
    found = db.session.scalar(
        select(MentorAssignment.id).where(
            MentorAssignment.deployment_id == mentor.deployment_id,
            MentorAssignment.mentor_id == mentor.id,
            MentorAssignment.mentee_sub == mentee.sub,
        )
    )
    if found is None:
        db.session.add(
            MentorAssignment(
                deployment_id=mentor.deployment_id,
                mentor_id=mentor.id,
                mentee_sub=mentee.sub,
                source=SOURCE_TOOL,
                created_by_id=actor.id,
            )
        )
        db.session.flush()


def unassign_mentor(deployment_id: int, assignment_id: int) -> bool:
    result = db.session.execute(
        delete(MentorAssignment).where(
            MentorAssignment.id == assignment_id,
            MentorAssignment.deployment_id == deployment_id,
        )
    )
    return result.rowcount > 0


def mentees_of(mentor: Person) -> list[Person]:
    return list(
        db.session.scalars(
            select(Person)
            .join(MentorAssignment, MentorAssignment.mentee_sub == Person.sub)
            .where(
                MentorAssignment.deployment_id == mentor.deployment_id,
                MentorAssignment.mentor_id == mentor.id,
                Person.deployment_id == mentor.deployment_id,
            )
            .order_by(Person.name)
        )
    )


def assignments(deployment_id: int) -> list[tuple[MentorAssignment, Person, Person | None]]:
    """Return every assignment of the deployment with its mentor and, if known, mentee."""
    mentee = db.aliased(Person)
    mentor = db.aliased(Person)
    return list(
        db.session.execute(
            select(MentorAssignment, mentor, mentee)
            .join(mentor, mentor.id == MentorAssignment.mentor_id)
            .outerjoin(
                mentee,
                (mentee.sub == MentorAssignment.mentee_sub)
                & (mentee.deployment_id == MentorAssignment.deployment_id),
            )
            .where(MentorAssignment.deployment_id == deployment_id)
            .order_by(MentorAssignment.id)
        ).all()
    )


def grant_coordinator(person: Person, actor: Person) -> None:
    found = db.session.scalar(
        select(CoordinatorGrant.id).where(
            CoordinatorGrant.deployment_id == person.deployment_id,
            CoordinatorGrant.person_id == person.id,
        )
    )
    if found is None:
        db.session.add(
            CoordinatorGrant(
                deployment_id=person.deployment_id, person_id=person.id, granted_by_id=actor.id
            )
        )
        db.session.flush()


def find_person(deployment_id: int, person_id: int) -> Person | None:
    return db.session.execute(
        select(Person).where(Person.id == person_id, Person.deployment_id == deployment_id)
    ).scalar_one_or_none()
