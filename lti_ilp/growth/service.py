"""Staff growth cohorts: resource library, discussion, meetings and the roster view."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db, utcnow
from ..lti.roles import CourseRole
from ..people.models import Enrolment, Person
from ..plan_templates.models import Cohort, CohortMember
from ..plan_templates.service import cohort_ids_of, current_cycle
from ..plans import audit
from ..plans.forms import MAX_LONG_TEXT, PlanFormError, choice, text
from ..plans.models import Goal, Plan, Reflection
from .models import (
    RESOURCE_KINDS,
    DiscussionPost,
    DiscussionThread,
    GoalResource,
    Meeting,
    MeetingSignup,
    Resource,
)

MAX_TAGS = 10


def member_ids(cohort: Cohort) -> set[int]:
    explicit = set(
        db.session.scalars(
            select(CohortMember.person_id).where(CohortMember.cohort_id == cohort.id)
        )
    )
    if cohort.course_id is not None:
        explicit |= set(
            db.session.scalars(
                select(Enrolment.person_id).where(
                    Enrolment.course_id == cohort.course_id,
                    Enrolment.course_role == CourseRole.LEARNER.value,
                )
            )
        )
    return explicit


def is_member(cohort: Cohort, person: Person) -> bool:
    return person.deployment_id == cohort.deployment_id and person.id in member_ids(cohort)


def library_for(person: Person) -> list[Resource]:
    """Return the resources of every cohort of the person, by title."""
    return list(
        db.session.scalars(
            select(Resource)
            .where(Resource.cohort_id.in_(cohort_ids_of(person)))
            .order_by(Resource.title)
        )
    )


def resources(cohort: Cohort, tag: str | None = None) -> list[Resource]:
    rows = db.session.scalars(
        select(Resource).where(Resource.cohort_id == cohort.id).order_by(Resource.title)
    )
    if not tag:
        return list(rows)
    return [row for row in rows if tag.casefold() in (item.casefold() for item in row.tags)]


def goal_resources(plan: Plan) -> dict[int, list[GoalResource]]:
    rows = db.session.scalars(
        select(GoalResource)
        .join(Goal, GoalResource.goal_id == Goal.id)
        .where(Goal.plan_id == plan.id)
        .options(joinedload(GoalResource.resource))
        .order_by(GoalResource.id)
    )
    grouped: dict[int, list[GoalResource]] = defaultdict(list)
    for row in rows:
        grouped[row.goal_id].append(row)
    return grouped


def attach_resource(plan: Plan, actor: Person, goal: Goal, resource_id: str) -> GoalResource:
    allowed = {resource.id: resource for resource in library_for(plan.person)}
    if not resource_id.isdigit() or int(resource_id) not in allowed:
        raise PlanFormError({"resource_id": "Choose a resource from your cohort's library."})
    resource = allowed[int(resource_id)]
    row = db.session.execute(
        select(GoalResource).where(
            GoalResource.goal_id == goal.id, GoalResource.resource_id == resource.id
        )
    ).scalar_one_or_none()
    if row is None:
        row = GoalResource(goal_id=goal.id, resource_id=resource.id)
        db.session.add(row)
        db.session.flush()
        audit.record(plan, actor.id, "goal", goal.id, "resource", None, resource.title)
        audit.activity(plan, actor.id, "edit")
    return row


def find_goal_resource(plan: Plan, row_id: int) -> GoalResource | None:
    return db.session.execute(
        select(GoalResource)
        .join(Goal, GoalResource.goal_id == Goal.id)
        .where(GoalResource.id == row_id, Goal.plan_id == plan.id)
    ).scalar_one_or_none()


def set_resource_done(plan: Plan, actor: Person, row: GoalResource, done: bool) -> None:
    if (row.done_at is not None) == done:
        return
    audit.record(
        plan,
        actor.id,
        "goal",
        row.goal_id,
        f"resource done: {row.resource.title}",
        "no" if done else "yes",
        "yes" if done else "no",
    )
    row.done_at = utcnow() if done else None
    audit.activity(plan, actor.id, "edit")


def _tags(raw: str) -> list[str]:
    tags = []
    for part in (raw or "").split(","):
        tag = part.strip()[:40]
        if tag and tag.casefold() not in (existing.casefold() for existing in tags):
            tags.append(tag)
    return tags[:MAX_TAGS]


def add_resource(cohort: Cohort, actor: Person, form: Mapping[str, str]) -> Resource:
    errors: dict[str, str] = {}
    kind = choice(form, "kind", RESOURCE_KINDS, errors, "link")
    title = text(form, "title", errors, required=True, limit=300)
    url = text(form, "url", errors, required=True)
    parts = urlsplit(url)
    if url and (parts.scheme not in ("http", "https") or not parts.netloc):
        errors["url"] = "Enter a web address that starts with https:// or http://."
    description = text(form, "description", errors)
    if errors:
        raise PlanFormError(errors)
    resource = Resource(
        cohort_id=cohort.id,
        kind=kind,
        title=title,
        url=url,
        description=description,
        tags=_tags(form.get("tags", "")),
        created_by_id=actor.id,
    )
    db.session.add(resource)
    db.session.flush()
    return resource


def threads(cohort: Cohort) -> list[DiscussionThread]:
    return list(
        db.session.scalars(
            select(DiscussionThread)
            .where(DiscussionThread.cohort_id == cohort.id)
            .order_by(DiscussionThread.id.desc())
        )
    )


def find_thread(cohort: Cohort, thread_id: int) -> DiscussionThread | None:
    return db.session.execute(
        select(DiscussionThread).where(
            DiscussionThread.id == thread_id, DiscussionThread.cohort_id == cohort.id
        )
    ).scalar_one_or_none()


def start_thread(cohort: Cohort, actor: Person, form: Mapping[str, str]) -> DiscussionThread:
    errors: dict[str, str] = {}
    title = text(form, "title", errors, required=True, limit=300)
    body = text(form, "body", errors, required=True, limit=MAX_LONG_TEXT)
    if errors:
        raise PlanFormError(errors)
    thread = DiscussionThread(cohort_id=cohort.id, title=title, author_id=actor.id)
    thread.posts.append(DiscussionPost(body=body, author_id=actor.id))
    db.session.add(thread)
    db.session.flush()
    return thread


def add_post(thread: DiscussionThread, actor: Person, form: Mapping[str, str]) -> None:
    errors: dict[str, str] = {}
    body = text(form, "body", errors, required=True, limit=MAX_LONG_TEXT)
    if errors:
        raise PlanFormError(errors)
    thread.posts.append(DiscussionPost(body=body, author_id=actor.id))
    db.session.flush()


def meetings(cohort: Cohort) -> list[Meeting]:
    return list(
        db.session.scalars(
            select(Meeting).where(Meeting.cohort_id == cohort.id).order_by(Meeting.starts_at)
        )
    )


def find_meeting(cohort: Cohort, meeting_id: int) -> Meeting | None:
    return db.session.execute(
        select(Meeting).where(Meeting.id == meeting_id, Meeting.cohort_id == cohort.id)
    ).scalar_one_or_none()


def add_meeting(cohort: Cohort, actor: Person, form: Mapping[str, str]) -> Meeting:
    errors: dict[str, str] = {}
    title = text(form, "title", errors, required=True, limit=300)
    location = text(form, "location", errors, limit=300)
    raw_start = (form.get("starts_at") or "").strip()
    starts_at = None
    try:
        starts_at = datetime.fromisoformat(raw_start)
    except ValueError:
        errors["starts_at"] = "Enter the start as a date and time, such as 2027-01-20T16:00."
    capacity = None
    raw_capacity = (form.get("capacity") or "").strip()
    if raw_capacity:
        if raw_capacity.isdigit() and 0 < int(raw_capacity) <= 1000:
            capacity = int(raw_capacity)
        else:
            errors["capacity"] = "Enter the number of seats as a whole number from 1 to 1000."
    if errors:
        raise PlanFormError(errors)
    if starts_at.tzinfo is None:
        # NOTE: times typed without a zone are taken as UTC; the tool has no per-user zone.
        starts_at = starts_at.replace(tzinfo=UTC)
    meeting = Meeting(
        cohort_id=cohort.id,
        title=title,
        location=location,
        starts_at=starts_at,
        capacity=capacity,
        created_by_id=actor.id,
    )
    db.session.add(meeting)
    db.session.flush()
    return meeting


def sign_up(meeting: Meeting, person: Person, attend: bool) -> None:
    existing = next((row for row in meeting.signups if row.person_id == person.id), None)
    if attend and existing is None:
        if meeting.capacity is not None and len(meeting.signups) >= meeting.capacity:
            raise PlanFormError({"meeting": "This meeting is full. Choose another date."})
        meeting.signups.append(MeetingSignup(person_id=person.id))
    elif not attend and existing is not None:
        meeting.signups.remove(existing)
    db.session.flush()


@dataclass(frozen=True)
class MemberRow:
    person: Person
    plan: Plan | None
    goal_count: int
    average_progress: float | None
    resources_attached: int
    resources_done: int
    reflection_submitted: bool
    signups: int
    posts: int


def cohort_overview(cohort: Cohort) -> list[MemberRow]:
    """Summarise every member's growth plan of the current cycle, in a fixed number of
    queries."""
    ids = member_ids(cohort)
    if not ids:
        return []
    cycle = current_cycle(cohort.deployment_id)
    people = {
        person.id: person
        for person in db.session.scalars(
            select(Person).where(Person.id.in_(ids), Person.deployment_id == cohort.deployment_id)
        )
    }
    plans = {
        plan.person_id: plan
        for plan in db.session.scalars(
            select(Plan).where(Plan.person_id.in_(ids), Plan.cycle_id == cycle.id)
        )
    }
    plan_ids = [plan.id for plan in plans.values()]
    goal_stats = (
        dict(
            (row[0], (row[1], row[2]))
            for row in db.session.execute(
                select(Goal.plan_id, func.count(Goal.id), func.avg(Goal.progress))
                .where(Goal.plan_id.in_(plan_ids))
                .group_by(Goal.plan_id)
            )
        )
        if plan_ids
        else {}
    )
    resource_stats = (
        dict(
            (row[0], (row[1], row[2]))
            for row in db.session.execute(
                select(Goal.plan_id, func.count(GoalResource.id), func.count(GoalResource.done_at))
                .join(GoalResource, GoalResource.goal_id == Goal.id)
                .where(Goal.plan_id.in_(plan_ids))
                .group_by(Goal.plan_id)
            )
        )
        if plan_ids
        else {}
    )
    submitted = (
        set(
            db.session.scalars(
                select(Reflection.plan_id).where(
                    Reflection.plan_id.in_(plan_ids),
                    Reflection.submitted_at.is_not(None),
                    Reflection.prompt_key.like("eoy%"),
                )
            )
        )
        if plan_ids
        else set()
    )
    signups = dict(
        db.session.execute(
            select(MeetingSignup.person_id, func.count(MeetingSignup.id))
            .join(Meeting, Meeting.id == MeetingSignup.meeting_id)
            .where(Meeting.cohort_id == cohort.id)
            .group_by(MeetingSignup.person_id)
        ).all()
    )
    posts = dict(
        db.session.execute(
            select(DiscussionPost.author_id, func.count(DiscussionPost.id))
            .join(DiscussionThread, DiscussionThread.id == DiscussionPost.thread_id)
            .where(DiscussionThread.cohort_id == cohort.id)
            .group_by(DiscussionPost.author_id)
        ).all()
    )
    rows = []
    for person_id, person in people.items():
        plan = plans.get(person_id)
        goals, average = goal_stats.get(plan.id, (0, None)) if plan else (0, None)
        attached, done = resource_stats.get(plan.id, (0, 0)) if plan else (0, 0)
        rows.append(
            MemberRow(
                person=person,
                plan=plan,
                goal_count=goals,
                average_progress=float(average) if average is not None else None,
                resources_attached=attached,
                resources_done=done,
                reflection_submitted=bool(plan and plan.id in submitted),
                signups=signups.get(person_id, 0),
                posts=posts.get(person_id, 0),
            )
        )
    return sorted(rows, key=lambda row: row.person.display_name.casefold())
