"""Who may see and do what with a plan.

Every plan lookup goes through ``find_plan``, which checks the tenant (the viewer's
deployment) and the viewer's relation to the plan owner. An id copied from another
deployment or from a plan the viewer has no relation to is never found.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..lti.roles import CourseRole
from ..people.models import Enrolment, Person
from .models import CoordinatorGrant, MentorAssignment, Plan, PlanStatus


class Relation(StrEnum):
    OWNER = "owner"
    INSTRUCTOR = "instructor"
    MENTOR = "mentor"
    COORDINATOR = "coordinator"


@dataclass(frozen=True)
class Viewer:
    person: Person
    is_coordinator: bool

    @property
    def deployment_id(self) -> int:
        return self.person.deployment_id


def is_coordinator(person: Person, is_platform_administrator: bool) -> bool:
    if is_platform_administrator:
        return True
    return (
        db.session.scalar(
            select(CoordinatorGrant.id).where(
                CoordinatorGrant.deployment_id == person.deployment_id,
                CoordinatorGrant.person_id == person.id,
            )
        )
        is not None
    )


def viewer_from_session(session) -> Viewer:
    return Viewer(
        session.person, is_coordinator(session.person, session.is_platform_administrator)
    )


def is_mentor_of(mentor: Person, mentee: Person) -> bool:
    return (
        db.session.scalar(
            select(MentorAssignment.id).where(
                MentorAssignment.deployment_id == mentee.deployment_id,
                MentorAssignment.mentor_id == mentor.id,
                MentorAssignment.mentee_sub == mentee.sub,
            )
        )
        is not None
    )


def teaches(instructor: Person, learner: Person) -> bool:
    """Check that ``instructor`` is an instructor of a course where ``learner`` learns."""
    staff = aliased(Enrolment)
    return (
        db.session.scalar(
            select(Enrolment.id)
            .join(staff, staff.course_id == Enrolment.course_id)
            .where(
                Enrolment.person_id == learner.id,
                Enrolment.course_role == CourseRole.LEARNER.value,
                staff.person_id == instructor.id,
                staff.course_role == CourseRole.INSTRUCTOR.value,
            )
            .limit(1)
        )
        is not None
    )


def relation_to(viewer: Viewer, owner: Person) -> Relation | None:
    """Return the strongest relation the viewer has to the plan owner, or None."""
    if owner.deployment_id != viewer.deployment_id:
        return None
    if owner.id == viewer.person.id:
        return Relation.OWNER
    if viewer.is_coordinator:
        return Relation.COORDINATOR
    if is_mentor_of(viewer.person, owner):
        return Relation.MENTOR
    if teaches(viewer.person, owner):
        return Relation.INSTRUCTOR
    return None


def find_plan(viewer: Viewer, plan_id: int) -> tuple[Plan, Relation] | None:
    plan = db.session.execute(
        select(Plan)
        .join(Person, Plan.person_id == Person.id)
        .where(Plan.id == plan_id, Person.deployment_id == viewer.deployment_id)
    ).scalar_one_or_none()
    if plan is None:
        return None
    relation = relation_to(viewer, plan.person)
    if relation is None:
        return None
    return plan, relation


@dataclass(frozen=True)
class Permissions:
    relation: Relation
    view_staff_items: bool
    edit: bool
    comment: bool
    sign: bool
    hold_checkins: bool
    manage: bool


def permissions(plan: Plan, relation: Relation) -> Permissions:
    is_staff = relation is not Relation.OWNER
    current = plan.cycle.is_current
    open_plan = current and not plan.is_read_only
    return Permissions(
        relation=relation,
        view_staff_items=is_staff,
        edit=relation is Relation.OWNER and open_plan,
        comment=current and plan.status != PlanStatus.CLOSED.value,
        sign=relation in (Relation.MENTOR, Relation.COORDINATOR) and current,
        hold_checkins=is_staff and open_plan,
        manage=relation is Relation.COORDINATOR,
    )
