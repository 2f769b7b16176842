"""The per-person export as a JSON document."""

from __future__ import annotations

import base64
import hashlib
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import LargeBinary, Table, select

from ..extensions import db, utcnow
from ..people.models import Person
from ..platforms.models import Deployment
from .collect import STAFF_COLUMN_PREFIX, PersonRecord, RowSet, collect_person
from .schema import PERSON_TABLE, build_schema_map

EXPORT_FORMAT = "lti-ilp-person-export"
EXPORT_FORMAT_VERSION = 1

SCOPE_FULL = "full"
SCOPE_OWNER = "owner"


def export_person(person: Person, scope: str = SCOPE_FULL) -> dict:
    """Build the export document of ``person``.

    ``SCOPE_FULL`` contains every stored column. ``SCOPE_OWNER`` is what the person may see
    themself: items and columns that are shown to staff only are left out.
    """
    owner_view = scope == SCOPE_OWNER
    record = collect_person(person, owner_view=owner_view)
    metadata = db.metadata
    records = _tables_to_json(record.owned, metadata.tables, owner_view)
    authored = _tables_to_json(record.authored, metadata.tables, owner_view=False)
    return {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_FORMAT_VERSION,
        "generated_at": utcnow().isoformat(),
        "scope": scope,
        "person_id": person.id,
        "deployment": _deployment_summary(person.deployment_id),
        "notes": _notes(scope),
        "records": records,
        "authored": authored,
        "people": _named_people(record, person.id),
        "privacy_log": [_row_to_json(row) for row in record.log_entries],
    }


def _notes(scope: str) -> list[str]:
    notes = [
        "records: rows that belong to this person, such as their person row, plans and "
        "everything in them, enrolments and sessions. Keys are table names.",
        "authored: rows in other people's records that name this person as author or actor, "
        "such as a comment on a learner's plan.",
        "people: display names of other people whose ids appear in these rows.",
        "Uploaded files are included as base64 with their size and SHA-256 digest.",
    ]
    if scope == SCOPE_OWNER:
        notes.append(
            "Notes and items that are shown to staff only are left out. The "
            "district can request the full record from its LMS administrator."
        )
    return notes


def _deployment_summary(deployment_id: int) -> dict:
    deployment = db.session.get(Deployment, deployment_id)
    registration = deployment.registration
    return {
        "id": deployment.id,
        "deployment_id": deployment.deployment_id,
        "issuer": registration.issuer,
        "client_id": registration.client_id,
    }


def _tables_to_json(rows: RowSet, tables: dict[str, Table], owner_view: bool) -> dict:
    """Convert ``rows`` to JSON, parents before children (person, plan, goal, ...)."""
    result = {}
    order = [table.name for table in db.metadata.sorted_tables]
    for name in sorted(rows.tables, key=order.index):
        table = tables[name]
        ordered = sorted(rows.tables[name].items(), key=lambda item: tuple(map(str, item[0])))
        result[name] = [
            _row_to_json(row, table, hide_staff_columns=owner_view) for _, row in ordered
        ]
    return result


def _row_to_json(row, table: Table | None = None, hide_staff_columns: bool = False) -> dict:
    result = {}
    for name, value in row.items():
        if hide_staff_columns and name.startswith(STAFF_COLUMN_PREFIX):
            continue
        binary = table is not None and isinstance(table.c[name].type, LargeBinary)
        result[name] = _file_to_json(value) if binary else json_value(value)
    return result


def _file_to_json(value: bytes | None) -> dict | None:
    if value is None:
        return None
    return {
        "encoding": "base64",
        "size": len(value),
        "sha256": hashlib.sha256(value).hexdigest(),
        "data": base64.b64encode(value).decode("ascii"),
    }


def json_value(value):
    """Return ``value`` as a JSON-compatible value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return _file_to_json(value)
    return value


def _named_people(record: PersonRecord, subject_id: int) -> dict[str, str]:
    """Return display names of the other people whose ids appear in the exported rows."""
    schema = build_schema_map(db.metadata)
    ids: set[int] = set()
    for link in schema.person_links:
        for rows in (record.owned, record.authored):
            ids |= rows.values(link.table.name, link.column.name)
    ids.discard(subject_id)
    if not ids:
        return {}
    people = db.session.scalars(select(Person).where(Person.id.in_(sorted(ids))))
    return {str(person.id): person.display_name for person in people}


def person_row(document: dict) -> dict:
    """Return the person's own row from an export document."""
    return document["records"][PERSON_TABLE][0]
