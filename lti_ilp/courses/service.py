"""What course staff see: the learners of one course and their plans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ..extensions import db
from ..lti.roles import CourseRole
from ..people.models import Enrolment, Person
from ..plans.models import Goal, Plan


@dataclass(frozen=True)
class LearnerRow:
    person_id: int
    name: str
    goal_count: int
    average_progress: float | None
    last_touched_at: datetime | None


def course_learners(course_id: int) -> list[LearnerRow]:
    """List the learners of a course who have launched, in one query."""
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
        select(Person, goal_stats.c.goal_count, goal_stats.c.average_progress, Plan.last_touched_at)
        .join(Enrolment, Enrolment.person_id == Person.id)
        .outerjoin(Plan, Plan.person_id == Person.id)
        .outerjoin(goal_stats, goal_stats.c.plan_id == Plan.id)
        .where(Enrolment.course_id == course_id, Enrolment.course_role == CourseRole.LEARNER.value)
    ).all()
    learners = [
        LearnerRow(
            person_id=person.id,
            name=person.display_name,
            goal_count=goal_count or 0,
            average_progress=float(average) if average is not None else None,
            last_touched_at=touched,
        )
        for person, goal_count, average, touched in rows
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
