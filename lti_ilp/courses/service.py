"""The class list for course staff: the learners of one course and their current plans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select

from ..extensions import db
from ..lti.roles import CourseRole
from ..people.models import Enrolment, Person
from ..plan_templates.service import current_cycle
from ..plans.models import Goal, Plan


@dataclass(frozen=True)
class LearnerRow:
    person_id: int
    name: str
    plan_id: int | None
    status: str | None
    goal_count: int
    average_progress: float | None
    last_touched_at: datetime | None


def course_learners(course_id: int, deployment_id: int) -> list[LearnerRow]:
    """List the learners of a course who have launched, with their current plan, in one
    query."""
    cycle = current_cycle(deployment_id)
    goal_stats = (
        select(
            Goal.plan_id,
            func.count(Goal.id).label("goal_count"),
            func.avg(Goal.progress).label("average_progress"),
        )
        .group_by(Goal.plan_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            Person,
            Plan.id,
            Plan.status,
            goal_stats.c.goal_count,
            goal_stats.c.average_progress,
            Plan.last_touched_at,
        )
        .join(Enrolment, Enrolment.person_id == Person.id)
        .outerjoin(Plan, and_(Plan.person_id == Person.id, Plan.cycle_id == cycle.id))
        .outerjoin(goal_stats, goal_stats.c.plan_id == Plan.id)
        .where(Enrolment.course_id == course_id, Enrolment.course_role == CourseRole.LEARNER.value)
    ).all()
    learners = [
        LearnerRow(
            person_id=person.id,
            name=person.display_name,
            plan_id=plan_id,
            status=status,
            goal_count=goal_count or 0,
            average_progress=float(average) if average is not None else None,
            last_touched_at=touched,
        )
        for person, plan_id, status, goal_count, average, touched in rows
    ]
    return sorted(learners, key=lambda row: row.name.casefold())


def learner_in_course(course_id: int, person_id: int) -> Person | None:
    """Return the person only when they are a learner of this course."""
    return db.session.execute(
        select(Person)
        .join(Enrolment, Enrolment.person_id == Person.id)
        .where(
            Enrolment.course_id == course_id,
            Enrolment.person_id == person_id,
            Enrolment.course_role == CourseRole.LEARNER.value,
        )
    ).scalar_one_or_none()
