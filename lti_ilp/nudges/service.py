"""Nudges about quiet plans: rules, escalation, the nudge log and banners.

``run_nudges(now)`` is the worker's job. For each open plan it finds the quiet window
(the time since the plan's last meaningful activity) and sends, once per window:
the plan owner first, then their teachers and mentors, then the coordinators. Each step
waits until its rule's day count is reached and, after the first, until the previous step
has had the same number of days to work. In a plan that is otherwise active, an open goal
with no progress update for the rule's student days gets a nudge to the owner only.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..activity.models import PlanActivity
from ..activity.service import (
    activity_recorded,
    days_since,
    last_activity_per_goal,
    last_activity_per_plan,
    plan_last_activity,
)
from ..extensions import db
from ..lti.roles import CourseRole
from ..people.models import Enrolment, Person
from ..plan_templates.models import CohortMember, Cycle, PlanTemplate
from ..plans.models import (
    CoordinatorGrant,
    Goal,
    GoalStatus,
    MentorAssignment,
    Plan,
    PlanStatus,
)
from ..web.session import LaunchSession
from . import mail
from .models import (
    LEVEL_COORDINATOR,
    LEVEL_MANUAL,
    LEVEL_STAFF,
    LEVEL_STUDENT,
    Nudge,
    NudgeRule,
)

log = logging.getLogger(__name__)

# Used when a deployment has no rule of its own.
DEFAULT_RULE = NudgeRule(
    student_after_days=7,
    staff_after_days=14,
    coordinator_after_days=21,
    quiet_start_hour=20,
    quiet_end_hour=7,
    timezone="UTC",
    active=True,
)
QUIET_PLAN_STATUSES = (PlanStatus.SIGNED.value, PlanStatus.CLOSED.value)


@dataclass
class RunReport:
    """The outcome of one run of the nudge job, for the command line and tests."""

    sent: list[Nudge] = field(default_factory=list)
    deferred_for_quiet_hours: int = 0
    plans_checked: int = 0


@dataclass(frozen=True)
class _QuietPlan:
    plan_id: int
    person_id: int
    person_sub: str
    deployment_id: int
    template_key: str | None
    last_activity_at: datetime


# Rules


def rule_for(
    rules: list[NudgeRule], deployment_id: int, template_key: str | None, cohort_ids: Iterable[int]
) -> NudgeRule:
    """Pick the most specific active rule: cohort, then template key, then deployment."""
    candidates = [rule for rule in rules if rule.deployment_id == deployment_id and rule.active]
    cohort_set = set(cohort_ids)
    for rule in candidates:
        if rule.cohort_id is not None and rule.cohort_id in cohort_set:
            return rule
    for rule in candidates:
        if rule.cohort_id is None and template_key and rule.template_key == template_key:
            return rule
    for rule in candidates:
        if rule.cohort_id is None and rule.template_key is None:
            return rule
    return DEFAULT_RULE


def in_quiet_hours(rule: NudgeRule, now: datetime) -> bool:
    """Return True when ``now`` falls in the rule's quiet hours, in the rule's time zone."""
    start, end = rule.quiet_start_hour, rule.quiet_end_hour
    if start == end:
        return False
    try:
        zone = ZoneInfo(rule.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("nudge rule has an unknown time zone, using UTC rule=%s", rule.id)
        zone = ZoneInfo("UTC")
    hour = now.astimezone(zone).hour
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


def window_key(last_activity_at: datetime) -> str:
    return "quiet:" + last_activity_at.isoformat(timespec="seconds")


def goal_window_key(goal_id: int, last_activity_at: datetime) -> str:
    """Name the quiet period of one goal; its nudges carry this instead of a goal column."""
    return f"goal:{goal_id}:" + last_activity_at.isoformat(timespec="seconds")


def is_goal_nudge(nudge: Nudge) -> bool:
    return nudge.window_key.startswith("goal:")


# Loading, one statement per kind of data


def _quiet_plans() -> list[_QuietPlan]:
    last_activity = last_activity_per_plan().subquery()
    rows = db.session.execute(
        select(
            Plan.id,
            Plan.person_id,
            Person.sub,
            Person.deployment_id,
            PlanTemplate.key,
            Plan.created_at,
            Plan.last_touched_at,
            last_activity.c.last_activity_at,
        )
        .join(Person, Person.id == Plan.person_id)
        .join(Cycle, Cycle.id == Plan.cycle_id)
        .outerjoin(PlanTemplate, PlanTemplate.id == Plan.template_id)
        .outerjoin(last_activity, last_activity.c.plan_id == Plan.id)
        .where(Plan.status.not_in(QUIET_PLAN_STATUSES), Cycle.is_current.is_(True))
        .order_by(Plan.id)
    ).all()
    return [
        _QuietPlan(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            plan_last_activity(row[5], row[6], row[7]),
        )
        for row in rows
    ]


def _open_goals() -> dict[int, list[tuple[int, datetime]]]:
    """Map each plan to its open goals with the time of their last progress update."""
    goal_activity = last_activity_per_goal().subquery()
    # Goal rows carry the server's time and activity rows the tool's clock, which the demo
    # moves. The activity recorded with the goal's creation is the first one at or after
    # it, so it gives the goal's start in the clock's time.
    started = (
        select(func.min(PlanActivity.created_at))
        .where(PlanActivity.plan_id == Goal.plan_id, PlanActivity.created_at >= Goal.created_at)
        .scalar_subquery()
    )
    goals: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    for goal_id, plan_id, created_at, started_at, last_at in db.session.execute(
        select(Goal.id, Goal.plan_id, Goal.created_at, started, goal_activity.c.last_activity_at)
        .join(Plan, Plan.id == Goal.plan_id)
        .join(Cycle, Cycle.id == Plan.cycle_id)
        .outerjoin(goal_activity, goal_activity.c.goal_id == Goal.id)
        .where(
            Goal.status.in_([GoalStatus.ACTIVE.value, GoalStatus.REVISED.value]),
            Plan.status.not_in(QUIET_PLAN_STATUSES),
            Cycle.is_current.is_(True),
        )
        .order_by(Goal.id)
    ):
        moments = [moment for moment in (created_at, started_at, last_at) if moment]
        goals[plan_id].append((goal_id, max(moments)))
    return goals


def _cohorts_by_person() -> dict[int, set[int]]:
    cohorts: dict[int, set[int]] = defaultdict(set)
    for person_id, cohort_id in db.session.execute(
        select(CohortMember.person_id, CohortMember.cohort_id)
    ):
        cohorts[person_id].add(cohort_id)
    return cohorts


def _staff_by_learner() -> dict[int, set[int]]:
    """Map each learner to the instructors and mentors of their courses, and to their
    assigned mentors."""
    staff: dict[int, set[int]] = defaultdict(set)
    learner = db.aliased(Enrolment)
    teacher = db.aliased(Enrolment)
    for learner_id, teacher_id in db.session.execute(
        select(learner.person_id, teacher.person_id)
        .join(teacher, teacher.course_id == learner.course_id)
        .where(
            learner.course_role == CourseRole.LEARNER.value,
            teacher.course_role.in_([CourseRole.INSTRUCTOR.value, CourseRole.MENTOR.value]),
        )
    ):
        staff[learner_id].add(teacher_id)
    mentee = db.aliased(Person)
    for mentee_id, mentor_id in db.session.execute(
        select(mentee.id, MentorAssignment.mentor_id).join(
            mentee,
            and_(
                mentee.deployment_id == MentorAssignment.deployment_id,
                mentee.sub == MentorAssignment.mentee_sub,
            ),
        )
    ):
        staff[mentee_id].add(mentor_id)
    return staff


def _coordinators_by_deployment() -> dict[int, set[int]]:
    """Coordinators are people granted the role in the tool, and LMS administrators."""
    coordinators: dict[int, set[int]] = defaultdict(set)
    for deployment_id, person_id in db.session.execute(
        select(CoordinatorGrant.deployment_id, CoordinatorGrant.person_id)
    ):
        coordinators[deployment_id].add(person_id)
    for deployment_id, person_id in db.session.execute(
        select(LaunchSession.deployment_id, LaunchSession.person_id)
        .where(LaunchSession.is_platform_administrator.is_(True))
        .distinct()
    ):
        coordinators[deployment_id].add(person_id)
    return coordinators


def _nudges_in_windows(keys: set[str]) -> dict[tuple[int, str], list[Nudge]]:
    found: dict[tuple[int, str], list[Nudge]] = defaultdict(list)
    if not keys:
        return found
    for nudge in db.session.execute(
        select(Nudge).where(Nudge.window_key.in_(keys), Nudge.plan_id.is_not(None))
    ).scalars():
        found[(nudge.plan_id, nudge.window_key)].append(nudge)
    return found


# The job


def run_nudges(now: datetime) -> RunReport:
    """Send every nudge that is due at ``now``; the caller commits."""
    report = RunReport()
    plans = _quiet_plans()
    report.plans_checked = len(plans)
    if not plans:
        return report

    rules = list(db.session.execute(select(NudgeRule)).scalars())
    cohorts = _cohorts_by_person()
    staff = _staff_by_learner()
    coordinators = _coordinators_by_deployment()
    goals = _open_goals()
    keys = {window_key(plan.last_activity_at) for plan in plans}
    keys |= {
        goal_window_key(goal_id, last)
        for plan_goals in goals.values()
        for goal_id, last in plan_goals
    }
    existing = _nudges_in_windows(keys)

    for plan in plans:
        rule = rule_for(rules, plan.deployment_id, plan.template_key, cohorts[plan.person_id])
        key = window_key(plan.last_activity_at)
        due = _due_steps(rule, plan, existing[(plan.plan_id, key)], staff, coordinators, now)
        due_goals = (
            [] if due else _quiet_goals(rule, plan, goals.get(plan.plan_id, []), existing, now)
        )
        if not due and not due_goals:
            continue
        if in_quiet_hours(rule, now):
            report.deferred_for_quiet_hours += 1
            continue
        stale_days = days_since(plan.last_activity_at, now)
        for level, recipient_id in due:
            report.sent.extend(_sent(plan, level, recipient_id, key, stale_days, now))
        for goal_key, goal_stale_days in due_goals:
            report.sent.extend(
                _sent(plan, LEVEL_STUDENT, plan.person_id, goal_key, goal_stale_days, now)
            )
    log.info(
        "nudge run finished plans=%s sent=%s deferred=%s",
        report.plans_checked,
        len(report.sent),
        report.deferred_for_quiet_hours,
    )
    return report


def _due_steps(
    rule: NudgeRule,
    plan: _QuietPlan,
    sent: list[Nudge],
    staff: dict[int, set[int]],
    coordinators: dict[int, set[int]],
    now: datetime,
) -> list[tuple[str, int]]:
    """Return the (level, recipient) pairs to send now for one plan's quiet window."""
    quiet = now - plan.last_activity_at
    by_level: dict[str, list[Nudge]] = defaultdict(list)
    for nudge in sent:
        by_level[nudge.level].append(nudge)

    if quiet < timedelta(days=rule.student_after_days):
        return []
    if not by_level[LEVEL_STUDENT]:
        return [(LEVEL_STUDENT, plan.person_id)]

    # Each step waits as long after the previous step as the rule's days between them.
    student_sent = min(nudge.sent_at for nudge in by_level[LEVEL_STUDENT])
    staff_wait = timedelta(days=rule.staff_after_days - rule.student_after_days)
    staff_ids = staff.get(plan.person_id, set()) - {plan.person_id}
    if quiet >= timedelta(days=rule.staff_after_days) and now - student_sent >= staff_wait:
        notified = {nudge.recipient_id for nudge in by_level[LEVEL_STAFF]}
        missing = sorted(staff_ids - notified)
        if missing:
            return [(LEVEL_STAFF, person_id) for person_id in missing]
    else:
        return []

    previous = by_level[LEVEL_STAFF] or by_level[LEVEL_STUDENT]
    previous_sent = min(nudge.sent_at for nudge in previous)
    coordinator_wait = timedelta(days=rule.coordinator_after_days - rule.staff_after_days)
    if (
        quiet >= timedelta(days=rule.coordinator_after_days)
        and now - previous_sent >= coordinator_wait
    ):
        notified = {nudge.recipient_id for nudge in by_level[LEVEL_COORDINATOR]}
        missing = sorted(coordinators.get(plan.deployment_id, set()) - notified)
        return [(LEVEL_COORDINATOR, person_id) for person_id in missing]
    return []


def _quiet_goals(
    rule: NudgeRule,
    plan: _QuietPlan,
    goals: list[tuple[int, datetime]],
    existing: dict[tuple[int, str], list[Nudge]],
    now: datetime,
) -> list[tuple[str, int | None]]:
    """Return (window key, quiet days) for open goals with no progress update for the
    rule's student days, in a plan that is otherwise active.

    Goal nudges go to the owner only. A quiet plan is covered by the plan's own nudges.
    """
    threshold = timedelta(days=rule.student_after_days)
    if now - plan.last_activity_at >= threshold:
        return []
    due = []
    for goal_id, last in goals:
        key = goal_window_key(goal_id, last)
        if now - last >= threshold and not existing[(plan.plan_id, key)]:
            due.append((key, days_since(last, now)))
    return due


def _sent(
    plan: _QuietPlan,
    level: str,
    recipient_id: int,
    key: str,
    stale_days: int | None,
    now: datetime,
) -> list[Nudge]:
    nudge = _send(plan, level, recipient_id, key, stale_days, now)
    return [] if nudge is None else [nudge]


def _send(
    plan: _QuietPlan,
    level: str,
    recipient_id: int,
    key: str,
    stale_days: int | None,
    now: datetime,
) -> Nudge | None:
    nudge = Nudge(
        deployment_id=plan.deployment_id,
        plan_id=plan.plan_id,
        subject_id=plan.person_id,
        recipient_id=recipient_id,
        level=level,
        window_key=key,
        stale_days=stale_days,
        sent_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(nudge)
            db.session.flush()
    except IntegrityError:
        # Another worker sent this nudge for the same window a moment ago.
        log.info(
            "nudge already sent plan=%s level=%s recipient=%s", plan.plan_id, level, recipient_id
        )
        return None
    nudge.emailed = mail.queue_nudge_email(nudge)
    log.info(
        "nudge sent plan=%s level=%s recipient=%s stale_days=%s",
        plan.plan_id,
        level,
        recipient_id,
        stale_days,
    )
    return nudge


# Nudges sent by staff from the dashboard


def send_manual_nudges(
    sender: Person, subject_ids: Iterable[int], plan_ids: dict[int, int | None], now: datetime
) -> list[Nudge]:
    """Nudge each person in ``subject_ids`` once per day; ``plan_ids`` maps person to plan."""
    key = "manual:" + now.date().isoformat()
    sent = []
    for subject_id in subject_ids:
        plan_id = plan_ids.get(subject_id)
        exists = db.session.execute(
            select(Nudge.id).where(
                Nudge.subject_id == subject_id,
                Nudge.recipient_id == subject_id,
                Nudge.level == LEVEL_MANUAL,
                Nudge.window_key == key,
            )
        ).first()
        if exists:
            continue
        nudge = Nudge(
            deployment_id=sender.deployment_id,
            plan_id=plan_id,
            subject_id=subject_id,
            recipient_id=subject_id,
            level=LEVEL_MANUAL,
            window_key=key,
            sent_at=now,
            sent_by_id=sender.id,
        )
        db.session.add(nudge)
        db.session.flush()
        nudge.emailed = mail.queue_nudge_email(nudge)
        sent.append(nudge)
    log.info("manual nudges sent sender=%s count=%s", sender.id, len(sent))
    return sent


# Banners and the acted-on record


def banner_nudges(person_id: int) -> list[Nudge]:
    """Return the nudges to show as a banner: not dismissed, and not yet acted on."""
    return list(
        db.session.execute(
            select(Nudge)
            .where(
                Nudge.recipient_id == person_id,
                Nudge.dismissed_at.is_(None),
                Nudge.acted_at.is_(None),
            )
            # Staff banners name the quiet plan's owner.
            .options(joinedload(Nudge.subject))
            .order_by(Nudge.sent_at.desc())
            .limit(5)
        ).scalars()
    )


def dismiss(person_id: int, nudge_id: int, now: datetime) -> bool:
    result = db.session.execute(
        update(Nudge)
        .where(Nudge.id == nudge_id, Nudge.recipient_id == person_id, Nudge.dismissed_at.is_(None))
        .values(dismissed_at=now)
    )
    return result.rowcount == 1


def _mark_acted(sender, plan_id=None, actor_id=None, at=None, **extra) -> None:
    """Record that a nudge's recipient acted: the owner, or staff on the subject's plan."""
    if plan_id is None or actor_id is None:
        return
    db.session.execute(
        update(Nudge)
        .where(
            Nudge.plan_id == plan_id,
            Nudge.recipient_id == actor_id,
            Nudge.acted_at.is_(None),
            or_(Nudge.sent_at <= at, Nudge.sent_at.is_(None)),
        )
        .values(acted_at=at)
        .execution_options(synchronize_session=False)
    )


activity_recorded.connect(_mark_acted)
