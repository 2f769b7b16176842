"""Deleting a person on request, and purging closed plans after the retention period.

What is removed and what is kept is written down in PRIVACY.md ("Deletion"). Each call
runs in one transaction and commits it together with its privacy log entry. On any error the
transaction is rolled back, so nothing is changed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Table, delete, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db, utcnow
from ..people.models import Person
from ..plans.models import Plan, PlanStatus
from .collect import RowSet, chunks, collect_owned, pk_filter, rows_where_in, subject_roots
from .models import (
    ACTION_DELETE,
    ACTION_PURGE_PLAN,
    CHANNEL_RETENTION,
    PrivacyLogEntry,
)
from .schema import PERSON_TABLE, LinkRole, SchemaMap, build_schema_map

log = logging.getLogger(__name__)

# LTI 1.3 limits ``sub`` to ASCII characters, so no platform user has this one.
DELETED_USER_SUB = "lti-ilp\u00b7deleted-user"
DELETED_USER_NAME = "Deleted user"
# Expired sessions are kept this long, so a person who just timed out gets "session ended"
# rather than "not found" (both pages ask them to relaunch).
EXPIRED_SESSION_GRACE = timedelta(days=1)


class PrivacyError(Exception):
    """A deletion or purge cannot be done; nothing was changed."""


@dataclass
class RemovalResult:
    log_entry_id: int
    removed: dict[str, int]
    reassigned: dict[str, int]
    detached: dict[str, int]


def is_deleted_user(person: Person) -> bool:
    return person.sub == DELETED_USER_SUB


def deleted_user(deployment_id: int) -> Person:
    """Return the deployment's "Deleted user", creating it on first use.

    Content that a deleted person wrote in someone else's record is kept and shown as
    written by this placeholder.
    """
    found = db.session.execute(
        select(Person).where(Person.deployment_id == deployment_id, Person.sub == DELETED_USER_SUB)
    ).scalar_one_or_none()
    if found is not None:
        return found
    placeholder = Person(
        deployment_id=deployment_id,
        sub=DELETED_USER_SUB,
        name=DELETED_USER_NAME,
        created_at=utcnow(),
    )
    db.session.add(placeholder)
    db.session.flush()
    return placeholder


def delete_person(
    person: Person,
    *,
    channel: str,
    requested_by: str = "",
    requested_by_person_id: int | None = None,
) -> RemovalResult:
    """Delete ``person`` and everything that belongs to them, then commit.

    Rows in other people's records that name the person as author are kept and point at
    the "Deleted user". A later launch with the same ``sub`` creates a new, empty person.
    """
    if is_deleted_user(person):
        raise PrivacyError(
            "This is the placeholder that represents deleted people. "
            "It has no personal data to delete."
        )
    person_id, deployment_id = person.id, person.deployment_id
    schema = build_schema_map(db.metadata)
    _require_classified(schema)
    try:
        _lock_person(person_id)
        owned = collect_owned(subject_roots(person, schema), schema)
        placeholder = deleted_user(deployment_id)
        reassigned = _reassign_authored(schema, person_id, placeholder.id)
        detached, removed = _remove(owned, schema)
        entry = PrivacyLogEntry(
            deployment_id=deployment_id,
            action=ACTION_DELETE,
            subject_person_id=person_id,
            channel=channel,
            requested_by=requested_by,
            requested_by_person_id=requested_by_person_id,
            details={"removed": removed},
        )
        db.session.add(entry)
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        log.warning(
            "deletion of person %s failed and was rolled back: %s",
            person_id,
            exc.orig.__class__.__name__,
        )
        raise PrivacyError(
            f"The deletion of person {person_id} failed on a database constraint and was "
            "undone, so nothing changed. A change made at the same time can cause this: run "
            "it again. If it fails again, report the person id to the tool's maintainers."
        ) from exc
    except Exception:
        db.session.rollback()
        raise
    log.info(
        "deleted person %s of deployment %s (%s channel): %s rows removed",
        person_id,
        deployment_id,
        channel,
        sum(removed.values()),
    )
    return RemovalResult(entry.id, removed, reassigned, detached)


def _require_classified(schema: SchemaMap) -> None:
    if schema.unclassified:
        names = ", ".join(f"{c.table.name}.{c.name}" for c in schema.unclassified)
        raise PrivacyError(
            f"Deletion stopped before any change: the foreign keys {names} point at a "
            "person, but lti_ilp/privacy/schema.py does not say whether they are author "
            "or subject links. Classify them there and run the deletion again."
        )


def _lock_person(person_id: int) -> None:
    """Lock the person row on PostgreSQL, so that a launch of the person, or a new row that
    refers to them, waits until the deletion ends."""
    db.session.execute(select(Person.id).where(Person.id == person_id).with_for_update())


def _reassign_authored(schema: SchemaMap, person_id: int, placeholder_id: int) -> dict:
    counts = {}
    for link in schema.links(LinkRole.AUTHOR):
        result = db.session.execute(
            update(link.table)
            .where(link.column == person_id)
            .values({link.column.name: placeholder_id})
        )
        if result.rowcount:
            counts[f"{link.table.name}.{link.column.name}"] = result.rowcount
    return counts


def _remove(owned: RowSet, schema: SchemaMap) -> tuple[dict, dict]:
    """Detach loose links into ``owned`` and delete its rows, children first."""
    tables = db.metadata.tables
    detached = {}
    for name in owned.tables:
        for link in schema.loose_links.get(name, []):
            count = _detach(link, owned)
            if count:
                detached[f"{link.child.name}.{link.child_column.name}"] = count

    removed = {}
    for table in reversed(db.metadata.sorted_tables):
        rows = owned.tables.get(table.name)
        if not rows:
            continue
        for batch in chunks(list(rows)):
            db.session.execute(table.delete().where(pk_filter(tables[table.name], batch)))
        removed[table.name] = len(rows)
    return detached, removed


def _detach(link, owned: RowSet) -> int:
    """Set ``link.child_column`` to NULL where it names a row that is about to go."""
    values = owned.values(link.parent.name, link.parent_column.name)
    if not values:
        return 0
    referring = [row for row in rows_where_in(link.child, link.child_column, values)]
    outside = [row for row in referring if not owned.contains(link.child, row)]
    if not link.child_column.nullable:
        if outside:
            raise PrivacyError(
                f"Deletion stopped before any change: {len(outside)} rows of "
                f"{link.child.name} that are kept refer to rows being deleted through the "
                f"required column {link.child_column.name}."
            )
        return 0
    for batch in chunks(values):
        db.session.execute(
            update(link.child)
            .where(link.child_column.in_(batch))
            .values({link.child_column.name: None})
        )
    return len(outside)


def retention_cutoff(years: int, now: datetime | None = None) -> datetime:
    """Return the moment ``years`` calendar years before ``now`` (29 February -> 28)."""
    now = now or utcnow()
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def closed_plans_before(cutoff: datetime) -> list[Plan]:
    return list(
        db.session.scalars(
            select(Plan)
            .where(
                Plan.status == PlanStatus.CLOSED.value,
                Plan.closed_at.is_not(None),
                Plan.closed_at < cutoff,
            )
            .order_by(Plan.id)
        )
    )


def purge_closed_plans(years: int, now: datetime | None = None) -> list[RemovalResult]:
    """Delete every plan closed more than ``years`` years ago; commit each plan alone.

    The plan's owner stays, with their later plans. Each purged plan gets a log entry.
    """
    if years < 1:
        raise PrivacyError(f"The retention period must be at least 1 year, got {years}.")
    cutoff = retention_cutoff(years, now)
    results = []
    for plan_id in [plan.id for plan in closed_plans_before(cutoff)]:
        results.append(purge_plan(plan_id))
    log.info(
        "retention purge removed %s plans closed before %s",
        len(results),
        cutoff.astimezone(UTC).date().isoformat(),
    )
    return results


def purge_expired_sessions(now: datetime | None = None) -> int:
    """Delete launch sessions that expired more than a day ago; the caller commits."""
    from ..web.session import LaunchSession

    cutoff = (now or utcnow()) - EXPIRED_SESSION_GRACE
    result = db.session.execute(delete(LaunchSession).where(LaunchSession.expires_at < cutoff))
    return result.rowcount or 0


def purge_plan(
    plan_id: int, channel: str = CHANNEL_RETENTION, requested_by: str = ""
) -> RemovalResult:
    """Delete one plan and everything under it, then commit."""
    schema = build_schema_map(db.metadata)
    plan_table: Table = db.metadata.tables["plan"]
    try:
        row = (
            db.session.execute(
                select(plan_table).where(plan_table.c.id == plan_id).with_for_update()
            )
            .mappings()
            .one()
        )
        owned = collect_owned([(plan_table, row)], schema)
        if owned.tables.get(PERSON_TABLE):
            raise PrivacyError("A plan purge reached a person row; nothing was changed.")
        person = db.session.get(Person, row["person_id"])
        detached, removed = _remove(owned, schema)
        entry = PrivacyLogEntry(
            deployment_id=person.deployment_id,
            action=ACTION_PURGE_PLAN,
            subject_person_id=person.id,
            plan_id=plan_id,
            channel=channel,
            requested_by=requested_by,
            details={"removed": removed},
        )
        db.session.add(entry)
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        log.warning(
            "purge of plan %s failed and was rolled back: %s", plan_id, exc.orig.__class__.__name__
        )
        raise PrivacyError(
            f"The purge of plan {plan_id} failed on a database constraint and was undone, "
            "so nothing changed. A change made at the same time can cause this: run it again."
        ) from exc
    except Exception:
        db.session.rollback()
        raise
    log.info(
        "purged closed plan %s of person %s: %s rows removed",
        plan_id,
        entry.subject_person_id,
        sum(removed.values()),
    )
    return RemovalResult(entry.id, removed, {}, detached)
