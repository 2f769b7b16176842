"""The triage dashboard: one row per plan owner in a course, a caseload or a staff cohort.

Building the rows takes a fixed number of SQL statements whatever the number of plans:
one for the people with their plan figures, and one for their open goals' pace. Sorting,
filtering and search then run on those rows in Python.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, exists, func, literal, select

from ..activity.models import PaceReset
from ..activity.service import (
    GoalPace,
    days_since,
    goal_pace,
    last_activity_per_goal,
    last_activity_per_plan,
    plan_last_activity,
    worst_behind,
)
from ..checkins.models import CheckIn
from ..extensions import db
from ..lti.roles import CourseRole
from ..nudges.models import Nudge
from ..people.models import Enrolment, Person
from ..plan_templates.models import AUDIENCE_STAFF, Cycle, PlanTemplate
from ..plans.models import (
    ActionStep,
    Goal,
    GoalStatus,
    MentorAssignment,
    Plan,
    PlanStatus,
)
from ..rosters.models import MEMBER_DROPPED, RosterMember
from .models import ScheduledCheckIn

SCOPE_COURSE = "course"
SCOPE_CASELOAD = "caseload"
SCOPE_STAFF = "staff"
SCOPE_LABELS = {
    SCOPE_COURSE: "This course",
    SCOPE_CASELOAD: "My caseload",
    SCOPE_STAFF: "Staff growth plans",
}

# A plan counts as quiet after this many days without meaningful activity.
QUIET_AFTER_DAYS = 7
# A goal counts as behind when it trails its pace line by this many percentage points.
BEHIND_POINTS = 10
DEFAULT_CHECKIN_CADENCE_DAYS = 30
PAGE_SIZE = 100

FILTERS = {
    "all": "All",
    "quiet": f"Quiet for {QUIET_AFTER_DAYS}+ days",
    "behind": "Behind pace",
    "overdue": "Overdue action steps",
    "checkin_due": "Check-in due",
    "review": "Review waiting",
    "not_started": "Not started",
}
SORTS = {
    "staleness": "Quiet longest first",
    "behind": "Furthest behind pace first",
    "overdue": "Most overdue steps first",
    "checkin": "Check-in due soonest",
    "progress": "Lowest progress first",
    "name": "Name",
}


@dataclass(frozen=True)
class Scope:
    kind: str
    deployment_id: int
    course_id: int | None = None
    mentor_id: int | None = None


@dataclass
class DashboardRow:
    person_id: int
    name: str
    email: str | None
    not_started: bool
    from_roster: bool
    plan_id: int | None = None
    plan_status: str | None = None
    goal_count: int = 0
    average_progress: float | None = None
    last_activity_at: datetime | None = None
    stale_days: int | None = None
    behind: float | None = None
    overdue_steps: int = 0
    checkin_due_on: date | None = None
    checkin_scheduled_on: date | None = None
    review_waiting: bool = False
    last_nudged_at: datetime | None = None
    goals: list[GoalPace] = field(default_factory=list)

    @property
    def checkin_due(self) -> bool:
        return self.checkin_due_on is not None and self.checkin_scheduled_on is None

    @property
    def is_quiet(self) -> bool:
        return self.stale_days is not None and self.stale_days >= QUIET_AFTER_DAYS

    @property
    def is_behind(self) -> bool:
        return self.behind is not None and self.behind >= BEHIND_POINTS


# Scope queries: each returns a SELECT of person ids.


def scope_people(scope: Scope) -> Select:
    if scope.kind == SCOPE_COURSE:
        dropped = exists().where(
            RosterMember.course_id == Enrolment.course_id,
            RosterMember.person_id == Enrolment.person_id,
            RosterMember.status == MEMBER_DROPPED,
        )
        return select(Enrolment.person_id).where(
            Enrolment.course_id == scope.course_id,
            Enrolment.course_role == CourseRole.LEARNER.value,
            ~dropped,
        )
    if scope.kind == SCOPE_CASELOAD:
        return (
            select(Person.id)
            .join(
                MentorAssignment,
                and_(
                    MentorAssignment.deployment_id == Person.deployment_id,
                    MentorAssignment.mentee_sub == Person.sub,
                ),
            )
            .where(
                MentorAssignment.mentor_id == scope.mentor_id,
                Person.deployment_id == scope.deployment_id,
            )
        )
    if scope.kind == SCOPE_STAFF:
        return (
            select(Plan.person_id)
            .join(PlanTemplate, PlanTemplate.id == Plan.template_id)
            .join(Cycle, Cycle.id == Plan.cycle_id)
            .where(
                PlanTemplate.audience == AUDIENCE_STAFF,
                Cycle.deployment_id == scope.deployment_id,
                Cycle.is_current.is_(True),
            )
        )
    raise ValueError(f"unknown dashboard scope {scope.kind!r}")


def _current_cycles(deployment_id: int) -> Select:
    return select(Cycle.id).where(Cycle.deployment_id == deployment_id, Cycle.is_current.is_(True))


def _plans_in_scope(scope: Scope) -> Select:
    return select(Plan.id).where(
        Plan.person_id.in_(scope_people(scope)),
        Plan.cycle_id.in_(_current_cycles(scope.deployment_id)),
    )


# The two statements


def _row_statement(scope: Scope, today: date) -> Select:
    open_goal = Goal.status.in_([GoalStatus.ACTIVE.value, GoalStatus.REVISED.value])
    goal_stats = (
        select(
            Goal.plan_id.label("plan_id"),
            func.count(Goal.id).label("goal_count"),
            func.avg(Goal.progress).label("average_progress"),
        )
        .where(open_goal)
        .group_by(Goal.plan_id)
        .subquery()
    )
    overdue = (
        select(Goal.plan_id.label("plan_id"), func.count(ActionStep.id).label("overdue"))
        .join(ActionStep, ActionStep.goal_id == Goal.id)
        .where(ActionStep.done.is_(False), ActionStep.due_date < today, open_goal)
        .group_by(Goal.plan_id)
        .subquery()
    )
    last_checkin = (
        select(CheckIn.plan_id.label("plan_id"), func.max(CheckIn.held_on).label("held_on"))
        .where(CheckIn.held_on <= today)
        .group_by(CheckIn.plan_id)
        .subquery()
    )
    scheduled = (
        select(
            ScheduledCheckIn.plan_id.label("plan_id"),
            func.min(ScheduledCheckIn.due_on).label("due_on"),
        )
        .where(ScheduledCheckIn.due_on >= today)
        .group_by(ScheduledCheckIn.plan_id)
        .subquery()
    )
    activity = last_activity_per_plan().subquery()
    nudged = (
        select(Nudge.subject_id.label("person_id"), func.max(Nudge.sent_at).label("sent_at"))
        .group_by(Nudge.subject_id)
        .subquery()
    )
    if scope.kind == SCOPE_COURSE:
        roster = (
            select(
                RosterMember.person_id.label("person_id"),
                RosterMember.created_from_roster.label("from_roster"),
            )
            .where(RosterMember.course_id == scope.course_id)
            .subquery()
        )
        roster_column = roster.c.from_roster
    else:
        roster = None
        roster_column = literal(False)

    statement = (
        select(
            Person,
            Plan.id,
            Plan.status,
            Plan.created_at,
            Plan.last_touched_at,
            PlanTemplate.checkin_cadence_days,
            goal_stats.c.goal_count,
            goal_stats.c.average_progress,
            overdue.c.overdue,
            last_checkin.c.held_on,
            scheduled.c.due_on,
            activity.c.last_activity_at,
            nudged.c.sent_at,
            roster_column,
        )
        .select_from(Person)
        .where(Person.id.in_(scope_people(scope)))
        .outerjoin(
            Plan,
            and_(
                Plan.person_id == Person.id,
                Plan.cycle_id.in_(_current_cycles(scope.deployment_id)),
            ),
        )
        .outerjoin(PlanTemplate, PlanTemplate.id == Plan.template_id)
        .outerjoin(goal_stats, goal_stats.c.plan_id == Plan.id)
        .outerjoin(overdue, overdue.c.plan_id == Plan.id)
        .outerjoin(last_checkin, last_checkin.c.plan_id == Plan.id)
        .outerjoin(scheduled, scheduled.c.plan_id == Plan.id)
        .outerjoin(activity, activity.c.plan_id == Plan.id)
        .outerjoin(nudged, nudged.c.person_id == Person.id)
    )
    if roster is not None:
        statement = statement.outerjoin(roster, roster.c.person_id == Person.id)
    return statement


def _goal_statement(scope: Scope) -> Select:
    goal_activity = last_activity_per_goal().subquery()
    return (
        select(
            Goal.id,
            Goal.plan_id,
            Goal.progress,
            Goal.created_at,
            Goal.target_date,
            goal_activity.c.last_activity_at,
            PaceReset.starts_at,
        )
        .outerjoin(goal_activity, goal_activity.c.goal_id == Goal.id)
        .outerjoin(PaceReset, PaceReset.plan_id == Goal.plan_id)
        .where(
            Goal.plan_id.in_(_plans_in_scope(scope)),
            Goal.status.in_([GoalStatus.ACTIVE.value, GoalStatus.REVISED.value]),
        )
        .order_by(Goal.plan_id, Goal.id)
    )


def build_rows(scope: Scope, now: datetime) -> list[DashboardRow]:
    """Return one row per person in ``scope``, in two SQL statements."""
    today = now.date()
    paces: dict[int, list[GoalPace]] = defaultdict(list)
    for goal_id, plan_id, progress, created_at, target, last_at, reset_at in db.session.execute(
        _goal_statement(scope)
    ):
        paces[plan_id].append(
            goal_pace(goal_id, progress, created_at, target, last_at, reset_at, now)
        )

    rows = []
    for values in db.session.execute(_row_statement(scope, today)):
        rows.append(_row(values, paces, now))
    return rows


def _row(values, paces: dict[int, list[GoalPace]], now: datetime) -> DashboardRow:
    (
        person,
        plan_id,
        status,
        created_at,
        touched_at,
        cadence,
        goal_count,
        average,
        overdue,
        last_checkin,
        scheduled_on,
        last_activity,
        nudged_at,
        from_roster,
    ) = values
    row = DashboardRow(
        person_id=person.id,
        name=person.display_name,
        email=person.email,
        not_started=person.last_launch_at is None,
        from_roster=bool(from_roster),
        last_nudged_at=nudged_at,
    )
    if plan_id is None:
        return row

    row.plan_id = plan_id
    row.plan_status = status
    row.goal_count = goal_count or 0
    row.average_progress = float(average) if average is not None else None
    row.last_activity_at = plan_last_activity(created_at, touched_at, last_activity)
    row.stale_days = days_since(row.last_activity_at, now)
    row.goals = paces.get(plan_id, [])
    row.behind = worst_behind(row.goals)
    row.overdue_steps = overdue or 0
    row.review_waiting = status == PlanStatus.IN_REVIEW.value

    row.checkin_scheduled_on = scheduled_on
    cadence_days = cadence or DEFAULT_CHECKIN_CADENCE_DAYS
    since = last_checkin or created_at.date()
    due_on = since + timedelta(days=cadence_days)
    if due_on <= now.date() and status not in (PlanStatus.SIGNED.value, PlanStatus.CLOSED.value):
        row.checkin_due_on = due_on
    return row


# Filtering, search and sorting


def filter_rows(rows: list[DashboardRow], filter_key: str, query: str) -> list[DashboardRow]:
    tests = {
        "all": lambda row: True,
        "quiet": lambda row: row.is_quiet,
        "behind": lambda row: row.is_behind,
        "overdue": lambda row: row.overdue_steps > 0,
        "checkin_due": lambda row: row.checkin_due,
        "review": lambda row: row.review_waiting,
        "not_started": lambda row: row.not_started,
    }
    test = tests.get(filter_key, tests["all"])
    needle = query.strip().casefold()
    return [
        row
        for row in rows
        if test(row)
        and (not needle or needle in row.name.casefold() or needle in (row.email or "").casefold())
    ]


def sort_rows(rows: list[DashboardRow], sort_key: str) -> list[DashboardRow]:
    """Sort rows; people without a plan (not started) come after every plan."""

    def name(row: DashboardRow) -> str:
        return row.name.casefold()

    def with_plan_first(value):
        return lambda row: (row.plan_id is None, value(row), name(row))

    keys = {
        "staleness": with_plan_first(lambda row: -(row.stale_days or 0)),
        "behind": with_plan_first(lambda row: -(row.behind if row.behind is not None else -1000)),
        "overdue": with_plan_first(lambda row: -row.overdue_steps),
        "checkin": with_plan_first(lambda row: row.checkin_due_on or date.max),
        "progress": with_plan_first(
            lambda row: row.average_progress if row.average_progress is not None else 101
        ),
        "name": lambda row: (name(row), row.person_id),
    }
    return sorted(rows, key=keys.get(sort_key, keys["staleness"]))


def people_in_scope(scope: Scope) -> set[int]:
    return set(db.session.execute(scope_people(scope)).scalars())


def plan_ids_by_person(scope: Scope, person_ids: set[int]) -> dict[int, int | None]:
    plans = dict(
        db.session.execute(
            select(Plan.person_id, Plan.id).where(Plan.id.in_(_plans_in_scope(scope)))
        ).all()
    )
    return {person_id: plans.get(person_id) for person_id in person_ids}


# CSV export

CSV_COLUMNS = (
    "Name",
    "Email",
    "Status",
    "Days since last activity",
    "Last activity (UTC)",
    "Open goals",
    "Average progress",
    "Points behind pace",
    "Overdue action steps",
    "Check-in due",
    "Check-in scheduled",
    "Review waiting",
    "Last nudged (UTC)",
)


def _cell(value: object) -> str:
    """Format a CSV cell; text that a spreadsheet would run as a formula gets a quote."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def to_csv(rows: list[DashboardRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        status = "not started" if row.not_started else (row.plan_status or "no plan")
        writer.writerow(
            [
                _cell(row.name),
                _cell(row.email),
                status,
                _cell(row.stale_days),
                _cell(row.last_activity_at),
                row.goal_count,
                _cell(round(row.average_progress) if row.average_progress is not None else None),
                _cell(row.behind),
                row.overdue_steps,
                _cell(row.checkin_due_on),
                _cell(row.checkin_scheduled_on),
                "yes" if row.review_waiting else "no",
                _cell(row.last_nudged_at),
            ]
        )
    return buffer.getvalue()


def schedule_checkins(plan_ids: list[int], due_on: date, actor_id: int) -> int:
    """Schedule a check-in on ``due_on`` for each plan; return how many were new."""
    existing = set(
        db.session.execute(
            select(ScheduledCheckIn.plan_id).where(
                ScheduledCheckIn.plan_id.in_(plan_ids), ScheduledCheckIn.due_on == due_on
            )
        ).scalars()
    )
    added = 0
    for plan_id in plan_ids:
        if plan_id in existing:
            continue
        db.session.add(ScheduledCheckIn(plan_id=plan_id, due_on=due_on, scheduled_by_id=actor_id))
        added += 1
    return added
