"""Finding every stored row that belongs to a person or names them as author.

Rows are read with SQLAlchemy Core, so every column of every table is seen, including
columns that a model loads lazily (uploaded files).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Column, Table, and_, or_, select
from sqlalchemy.engine import RowMapping

from ..extensions import db
from ..people.models import Person
from .models import PrivacyLogEntry
from .schema import PERSON_TABLE, LinkRole, SchemaMap, build_schema_map

CHUNK = 500

STAFF_ONLY_VISIBILITY = "staff_only"
# Columns whose names start with this are shown to staff only (a check-in's staff notes).
STAFF_COLUMN_PREFIX = "staff_"

PrimaryKey = tuple


@dataclass
class RowSet:
    """Rows grouped by table and keyed by primary key."""

    tables: dict[str, dict[PrimaryKey, RowMapping]] = field(default_factory=dict)

    def add(self, table: Table, row: RowMapping) -> bool:
        """Add ``row``; return False when it was already present."""
        rows = self.tables.setdefault(table.name, {})
        key = primary_key_of(table, row)
        if key in rows:
            return False
        rows[key] = row
        return True

    def contains(self, table: Table, row: RowMapping) -> bool:
        return primary_key_of(table, row) in self.tables.get(table.name, {})

    def values(self, table_name: str, column: str) -> set:
        rows = self.tables.get(table_name, {}).values()
        return {row[column] for row in rows if row[column] is not None}

    def count(self) -> int:
        return sum(len(rows) for rows in self.tables.values())


@dataclass
class PersonRecord:
    """Everything stored about one person."""

    person_id: int
    # Rows that belong to the person: their person row, plans and everything under them.
    owned: RowSet
    # Rows elsewhere that name the person as author or actor.
    authored: RowSet
    # Entries of the privacy log about the person.
    log_entries: list[RowMapping]


def primary_key_of(table: Table, row: RowMapping) -> PrimaryKey:
    return tuple(row[column.name] for column in table.primary_key.columns)


def chunks(values: Iterable, size: int = CHUNK) -> Iterator[list]:
    batch: list = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def rows_where_in(table: Table, column: Column, values: Iterable) -> Iterator[RowMapping]:
    for batch in chunks(sorted(set(values), key=str)):
        statement = select(table).where(column.in_(batch))
        yield from db.session.execute(statement).mappings()


def is_hidden_from_owner(table: Table, row: RowMapping, owner_id: int) -> bool:
    """Check whether the plan pages hide ``row`` from the person ``owner_id``.

    Hidden are rows with staff-only visibility, and rows addressed to someone else (a nudge
    or an email about the owner that went to their teacher).
    """
    if "visibility" in table.columns and row["visibility"] == STAFF_ONLY_VISIBILITY:
        return True
    return "recipient_id" in table.columns and row["recipient_id"] != owner_id


def collect_owned(
    roots: list[tuple[Table, RowMapping]], schema: SchemaMap, owner_id: int | None = None
) -> RowSet:
    """Collect ``roots`` and every row that belongs to them through owning links.

    With ``owner_id`` set, rows hidden from that person are left out, together with the
    rows under them.
    """
    owned = RowSet()
    pending: list[tuple[Table, list[RowMapping]]] = []
    for table, row in roots:
        if owned.add(table, row):
            pending.append((table, [row]))

    while pending:
        table, rows = pending.pop()
        for link in schema.owning_links.get(table.name, []):
            values = {row[link.parent_column.name] for row in rows}
            values.discard(None)
            found = []
            for child in rows_where_in(link.child, link.child_column, values):
                if owner_id is not None and is_hidden_from_owner(link.child, child, owner_id):
                    continue
                if owned.add(link.child, child):
                    found.append(child)
            if found:
                pending.append((link.child, found))
    return owned


def subject_roots(
    person: Person, schema: SchemaMap, owner_view: bool = False
) -> list[tuple[Table, RowMapping]]:
    """Return the person row and every row that names the person by a subject link."""
    metadata = db.metadata
    person_table = metadata.tables[PERSON_TABLE]
    roots = [(person_table, _fetch_one(person_table, person.id))]

    for link in schema.links(LinkRole.SUBJECT):
        for row in rows_where_in(link.table, link.column, [person.id]):
            if not (owner_view and is_hidden_from_owner(link.table, row, person.id)):
                roots.append((link.table, row))

    for column in schema.sub_columns:
        table = column.table
        statement = select(table).where(
            column == person.sub, table.c.deployment_id == person.deployment_id
        )
        roots.extend((table, row) for row in db.session.execute(statement).mappings())
    return roots


def _fetch_one(table: Table, row_id: int) -> RowMapping:
    return db.session.execute(select(table).where(table.c.id == row_id)).mappings().one()


def collect_authored(person: Person, schema: SchemaMap, exclude: RowSet) -> RowSet:
    """Collect rows outside ``exclude`` that name the person as author or actor."""
    authored = RowSet()
    for link in schema.links(LinkRole.AUTHOR):
        for row in rows_where_in(link.table, link.column, [person.id]):
            if not exclude.contains(link.table, row):
                authored.add(link.table, row)
    return authored


def collect_person(person: Person, owner_view: bool = False) -> PersonRecord:
    """Collect every row stored about ``person``.

    ``owner_view`` builds what the person may see themself: rows hidden from them are left
    out (see ``is_hidden_from_owner``), and so are ``staff_*`` columns, later, in the export.
    """
    schema = build_schema_map(db.metadata)
    owner_id = person.id if owner_view else None
    owned = collect_owned(subject_roots(person, schema, owner_view), schema, owner_id)
    authored = collect_authored(person, schema, owned)
    log_entries = list(
        db.session.execute(
            select(PrivacyLogEntry.__table__)
            .where(PrivacyLogEntry.subject_person_id == person.id)
            .order_by(PrivacyLogEntry.id)
        ).mappings()
    )
    return PersonRecord(person.id, owned, authored, log_entries)


def pk_filter(table: Table, keys: list[PrimaryKey]):
    """Return a WHERE clause that matches the rows with the given primary keys."""
    columns = list(table.primary_key.columns)
    if len(columns) == 1:
        return columns[0].in_([key[0] for key in keys])
    return or_(
        *(
            and_(*(column == value for column, value in zip(columns, key, strict=True)))
            for key in keys
        )
    )
