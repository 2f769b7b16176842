"""Roster sync: a teacher launch records that a sync is due, and the worker runs it.

Only the worker commands and the demo's clock controls call the platform, so no page
request of a production setup waits on it. People on the roster who never launched
become ``Person`` rows of the same deployment (their NRPS ``user_id`` is their ``sub``)
with an ``Enrolment``, so teachers see them as "not started".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from ..activity.service import reset_pace
from ..extensions import db
from ..grades.tokens import access_token, forget_access_token
from ..http import http_session
from ..lti.ags import AgsError
from ..lti.nrps import SCOPE_MEMBERSHIP_READONLY, Membership, NrpsError, fetch_roster
from ..lti.roles import MEMBERSHIP, MEMBERSHIP_SUBROLE, course_role
from ..people.models import Course, Enrolment, Person
from ..plans.models import Plan
from ..platforms.models import Deployment
from .models import (
    CHANGE_ADDED,
    CHANGE_DROPPED,
    CHANGE_RETURNED,
    CHANGE_ROLE,
    MEMBER_ACTIVE,
    MEMBER_DROPPED,
    RosterChange,
    RosterMember,
    RosterSource,
)

log = logging.getLogger(__name__)

STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_NOT_GRANTED = "not_granted"
# Look-ups of many subs are split so that no statement has more bound parameters than
# SQLite allows (999 in older builds).
LOOKUP_CHUNK = 500
ROLE_NONE = "none"
# LTI 1.3 allows the simple names of context roles in NRPS memberships.
CONTEXT_ROLE_NAMES = frozenset(
    {
        "Learner",
        "Instructor",
        "Mentor",
        "Administrator",
        "ContentDeveloper",
        "Manager",
        "Member",
        "Officer",
    }
)


class RosterSyncError(Exception):
    pass


@dataclass
class SyncResult:
    course_id: int
    added: list[int] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    returned: list[int] = field(default_factory=list)
    member_count: int = 0
    pages: int = 0
    rlid_rejected: bool = False


def request_sync(
    course: Course, services: dict, resource_link_id: str | None, now: datetime
) -> RosterSource:
    """Record that the course's roster should be synced, from a teacher launch's services.

    Only the database is written; the worker makes the request to the platform.
    """
    claim = services.get("nrps") if isinstance(services, dict) else None
    url = claim.get("context_memberships_url") if isinstance(claim, dict) else None
    source = db.session.get(RosterSource, course.id)
    if source is None:
        source = RosterSource(course_id=course.id)
        db.session.add(source)
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        if url != source.memberships_url:
            source.rlid_rejected = False
        source.memberships_url = url
        source.nrps_granted = True
        source.resource_link_id = resource_link_id
        source.sync_requested_at = now
    else:
        source.nrps_granted = False
        source.last_status = STATUS_NOT_GRANTED
    return source


def due_sources(now: datetime, interval: timedelta) -> list[RosterSource]:
    """Return sources with a requested sync, or whose last sync is older than ``interval``."""
    return list(
        db.session.execute(
            select(RosterSource)
            .where(
                RosterSource.nrps_granted.is_(True),
                or_(
                    RosterSource.last_attempt_at.is_(None),
                    RosterSource.sync_requested_at > RosterSource.last_attempt_at,
                    RosterSource.last_synced_at.is_(None)
                    & (RosterSource.last_attempt_at < now - timedelta(minutes=15)),
                    RosterSource.last_synced_at < now - interval,
                ),
            )
            .order_by(RosterSource.course_id)
        ).scalars()
    )


def sync_course(source: RosterSource, now: datetime) -> SyncResult:
    """Read the course's roster from the platform and store it; the caller commits."""
    course = source.course
    deployment = db.session.get(Deployment, course.deployment_id)
    registration = deployment.registration
    source.last_attempt_at = now
    scopes = [SCOPE_MEMBERSHIP_READONLY]
    rlid = None if source.rlid_rejected else source.resource_link_id
    http = http_session()
    try:
        # The token cache commits when it stores a new token.
        token = access_token(registration, scopes)
        try:
            roster = fetch_roster(http, token, source.memberships_url, rlid=rlid)
        except NrpsError as exc:
            if exc.status_code != 401:
                raise
            # The cached token may have been revoked; ask for a new one once.
            forget_access_token(registration, scopes)
            token = access_token(registration, scopes)
            roster = fetch_roster(http, token, source.memberships_url, rlid=rlid)
    except (NrpsError, AgsError) as exc:
        source.last_status = STATUS_FAILED
        source.last_error = exc.message[:1000]
        log.warning(
            "roster sync failed course=%s registration=%s deployment=%s status=%s",
            course.id,
            registration.id,
            deployment.id,
            exc.status_code,
        )
        raise RosterSyncError(exc.message) from exc

    result = apply_roster(course, roster.members, now)
    result.pages = roster.pages
    result.rlid_rejected = roster.rlid_rejected
    if roster.rlid_rejected:
        source.rlid_rejected = True
    source.last_synced_at = now
    source.last_status = STATUS_OK
    source.last_error = None
    source.member_count = result.member_count
    log.info(
        "roster synced course=%s deployment=%s members=%s pages=%s added=%s dropped=%s",
        course.id,
        deployment.id,
        result.member_count,
        roster.pages,
        len(result.added),
        len(result.dropped),
    )
    return result


def apply_roster(course: Course, members: list[Membership], now: datetime) -> SyncResult:
    """Store a full roster: add people and enrolments, and record who came and went."""
    result = SyncResult(course_id=course.id)
    active = {member.user_id: member for member in members if member.is_active}
    result.member_count = len(active)
    first_sync = not db.session.execute(
        select(RosterMember.id).where(RosterMember.course_id == course.id).limit(1)
    ).first()

    people, created = _ensure_people(course.deployment_id, list(active.values()))
    _ensure_enrolments(course, people, active, now)
    existing = {
        row.person_id: row
        for row in db.session.execute(
            select(RosterMember).where(RosterMember.course_id == course.id)
        ).scalars()
    }

    for user_id, member in active.items():
        person = people[user_id]
        role = roster_role(member.roles)
        row = existing.get(person.id)
        if row is None:
            db.session.add(
                RosterMember(
                    course_id=course.id,
                    person_id=person.id,
                    roles=list(member.roles),
                    course_role=role,
                    status=MEMBER_ACTIVE,
                    created_from_roster=user_id in created,
                    first_seen_at=now,
                    last_seen_at=now,
                )
            )
            _change(course, person.id, CHANGE_ADDED, now)
            result.added.append(person.id)
            if not first_sync and user_id not in created:
                _reset_pace_for_late_enrolment(person.id, now)
            continue
        if row.status == MEMBER_DROPPED:
            _change(course, person.id, CHANGE_RETURNED, now)
            result.returned.append(person.id)
        elif row.course_role != role:
            _change(course, person.id, CHANGE_ROLE, now, f"{row.course_role} -> {role}")
        row.status = MEMBER_ACTIVE
        row.dropped_at = None
        row.roles = list(member.roles)
        row.course_role = role
        row.last_seen_at = now

    active_ids = {people[user_id].id for user_id in active}
    for person_id, row in existing.items():
        if row.status == MEMBER_ACTIVE and person_id not in active_ids:
            row.status = MEMBER_DROPPED
            row.dropped_at = now
            _change(course, person_id, CHANGE_DROPPED, now)
            result.dropped.append(person_id)
    db.session.flush()
    return result


def roster_role(roles: tuple[str, ...]) -> str:
    """Return the course role of a roster member; "none" without any context role.

    A launch with ``roles: []`` means least privilege (learner), but a roster member with
    no context role, such as an administrator who can open the course, is not a learner.
    """
    context_roles = [
        role
        for role in roles
        if role.startswith((MEMBERSHIP, MEMBERSHIP_SUBROLE)) or role in CONTEXT_ROLE_NAMES
    ]
    if not context_roles:
        return ROLE_NONE
    return course_role(context_roles).value


def _change(
    course: Course, person_id: int, change: str, now: datetime, detail: str | None = None
) -> None:
    db.session.add(
        RosterChange(
            course_id=course.id, person_id=person_id, change=change, detail=detail, created_at=now
        )
    )


def _ensure_people(
    deployment_id: int, members: list[Membership]
) -> tuple[dict[str, Person], set[str]]:
    """Return the Person of every member by user_id, creating those who never launched."""
    subs = [member.user_id for member in members]
    people: dict[str, Person] = {}
    for start in range(0, len(subs), LOOKUP_CHUNK):
        chunk = subs[start : start + LOOKUP_CHUNK]
        for person in db.session.execute(
            select(Person).where(Person.deployment_id == deployment_id, Person.sub.in_(chunk))
        ).scalars():
            people[person.sub] = person

    created: set[str] = set()
    for member in members:
        person = people.get(member.user_id)
        if person is None:
            person = Person(deployment_id=deployment_id, sub=member.user_id)
            db.session.add(person)
            people[member.user_id] = person
            created.add(member.user_id)
        # Keep names a launch gave when the roster withholds them.
        for name in ("name", "given_name", "family_name", "email"):
            value = getattr(member, name)
            if value is not None:
                setattr(person, name, value)
    db.session.flush()
    return people, created


def _ensure_enrolments(
    course: Course, people: dict[str, Person], active: dict[str, Membership], now: datetime
) -> dict[int, Enrolment]:
    enrolments = {
        row.person_id: row
        for row in db.session.execute(
            select(Enrolment).where(Enrolment.course_id == course.id)
        ).scalars()
    }
    for user_id, member in active.items():
        person = people[user_id]
        if person.id in enrolments:
            continue
        # Enrolment requires launch times; a roster-only member gets the sync time, and
        # Person.last_launch_at (still None) is what marks them as not started.
        row = Enrolment(
            course_id=course.id,
            person_id=person.id,
            course_role=roster_role(member.roles),
            roles=list(member.roles),
            first_launch_at=now,
            last_launch_at=now,
        )
        db.session.add(row)
        enrolments[person.id] = row
    return enrolments


def _reset_pace_for_late_enrolment(person_id: int, now: datetime) -> None:
    plan_ids = (
        db.session.execute(select(Plan.id).where(Plan.person_id == person_id)).scalars().all()
    )
    for plan_id in plan_ids:
        reset_pace(plan_id, now, "late_enrolment")


def run_due_syncs(now: datetime, interval: timedelta) -> list[tuple[int, str]]:
    """Sync every due course, committing after each; return (course_id, outcome) pairs."""
    outcomes = []
    for source in due_sources(now, interval):
        course_id = source.course_id
        try:
            result = sync_course(source, now)
        except RosterSyncError as exc:
            db.session.commit()
            outcomes.append((course_id, f"failed: {exc}"))
            continue
        db.session.commit()
        outcomes.append(
            (
                course_id,
                f"ok: {result.member_count} members, "
                f"{len(result.added)} added, {len(result.dropped)} dropped",
            )
        )
    return outcomes


def roster_status(course_id: int) -> RosterSource | None:
    return db.session.get(RosterSource, course_id)
