"""The relation of each table to a person, read from the SQLAlchemy metadata.

Export and deletion never list tables by hand. They start at the ``person`` row and follow
foreign keys, so a table added later is covered as soon as its model is imported in
``lti_ilp/models.py``:

- A foreign key to ``person.id`` named for the actor (``author_id``, ``actor_id``,
  ``*_by_id``) is an author link. The row is exported. On deletion the row stays, because it
  is part of someone else's record (a teacher's comment on a student's plan), and the column
  is pointed at the deployment's "Deleted user".
- Any other foreign key to ``person.id`` declared ``ON DELETE CASCADE``, or listed in
  ``SUBJECT_COLUMNS``, is a subject link. The row belongs to the person: it is exported and
  deleted with them.
- From a row that belongs to the person, every foreign key declared ``ON DELETE CASCADE`` or
  ``ON DELETE SET NULL`` that points at it makes the referring row belong to the person too
  (a plan's goals, a goal's action steps). Other foreign keys into such a row are loose links:
  the referring row stays, and the column is set to NULL when the row it names is removed.
- A column that stores a person's LTI ``sub`` (named ``*_sub``, in a table with a
  ``deployment_id``) marks a row that belongs to the person with that ``sub``.

A foreign key to ``person.id`` that none of these rules classifies makes deletion stop
before it changes anything, and tests/privacy fails until it is classified here.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Column, MetaData, Table

PERSON_TABLE = "person"

AUTHOR_COLUMN = re.compile(r"^(author|actor|[a-z_]+_by)_id$")

# Foreign keys to person.id that are subject links without ON DELETE CASCADE.
SUBJECT_COLUMNS = frozenset(
    {
        ("enrolment", "person_id"),
        ("outbox_email", "recipient_id"),
    }
)

# Tables with a foreign key path to person that are reached only through a row the person
# authored, and that describe that row rather than any person. Neither exported nor deleted.
NOT_PERSONAL = {
    "checkpoint_placement": "where a teacher's checkpoint is placed in a course: the LMS "
    "link and line item URLs",
    "nudge_rule": "when a coordinator's cohort is nudged about quiet plans: day counts, quiet "
    "hours and time zone",
}


class LinkRole(StrEnum):
    SUBJECT = "subject"
    AUTHOR = "author"


@dataclass(frozen=True)
class PersonLink:
    """A foreign key column that points at ``person.id``."""

    table: Table
    column: Column
    role: LinkRole


@dataclass(frozen=True)
class RowLink:
    """A foreign key from ``child.child_column`` to ``parent.parent_column``."""

    parent: Table
    parent_column: Column
    child: Table
    child_column: Column


@dataclass
class SchemaMap:
    person_links: list[PersonLink] = field(default_factory=list)
    unclassified: list[Column] = field(default_factory=list)
    # Keyed by parent table name.
    owning_links: dict[str, list[RowLink]] = field(default_factory=lambda: defaultdict(list))
    loose_links: dict[str, list[RowLink]] = field(default_factory=lambda: defaultdict(list))
    sub_columns: list[Column] = field(default_factory=list)

    def links(self, role: LinkRole) -> list[PersonLink]:
        return [link for link in self.person_links if link.role is role]

    def owned_tables(self) -> set[str]:
        """Return the tables whose rows can belong to a person."""
        start = [link.table.name for link in self.links(LinkRole.SUBJECT)]
        start += [column.table.name for column in self.sub_columns]
        reached = {PERSON_TABLE, *start}
        queue = deque(reached)
        while queue:
            parent = queue.popleft()
            for link in self.owning_links.get(parent, []):
                if link.child.name not in reached:
                    reached.add(link.child.name)
                    queue.append(link.child.name)
        return reached

    def authored_tables(self) -> set[str]:
        return {link.table.name for link in self.links(LinkRole.AUTHOR)}


def _single_target(column: Column) -> Column | None:
    keys = list(column.foreign_keys)
    if len(keys) != 1:
        return None
    return keys[0].column


def _ondelete(column: Column) -> str:
    key = next(iter(column.foreign_keys))
    return (key.ondelete or "").upper()


def classify_person_column(column: Column) -> LinkRole | None:
    """Return how a foreign key column to ``person.id`` relates its row to the person."""
    if AUTHOR_COLUMN.match(column.name):
        return LinkRole.AUTHOR
    if _ondelete(column) == "CASCADE":
        return LinkRole.SUBJECT
    if (column.table.name, column.name) in SUBJECT_COLUMNS:
        return LinkRole.SUBJECT
    return None


def build_schema_map(metadata: MetaData) -> SchemaMap:
    """Classify every foreign key in ``metadata`` by the rules in this module's docstring."""
    result = SchemaMap()
    for table in metadata.sorted_tables:
        for column in table.columns:
            if column.name.endswith("_sub") and "deployment_id" in table.columns:
                result.sub_columns.append(column)
            target = _single_target(column)
            if target is None:
                continue
            _add_link(result, table, column, target)
    return result


def _add_link(result: SchemaMap, table: Table, column: Column, target: Column) -> None:
    parent = target.table
    if parent.name == PERSON_TABLE and table.name != PERSON_TABLE:
        role = classify_person_column(column)
        if role is None:
            result.unclassified.append(column)
        else:
            result.person_links.append(PersonLink(table, column, role))
        return
    link = RowLink(parent, target, table, column)
    if _ondelete(column) in {"CASCADE", "SET NULL"} and parent is not table:
        result.owning_links[parent.name].append(link)
    else:
        result.loose_links[parent.name].append(link)


def tables_with_path_to_person(metadata: MetaData) -> set[str]:
    """Return every table from which a chain of foreign keys leads to ``person``."""
    referrers: dict[str, set[str]] = defaultdict(set)
    for table in metadata.tables.values():
        for key in table.foreign_keys:
            referrers[key.column.table.name].add(table.name)
    reached: set[str] = set()
    queue = deque([PERSON_TABLE])
    while queue:
        name = queue.popleft()
        for referrer in referrers[name]:
            if referrer not in reached and referrer != PERSON_TABLE:
                reached.add(referrer)
                queue.append(referrer)
    return reached


def uncovered_tables(metadata: MetaData) -> set[str]:
    """Return tables with a foreign key path to ``person`` that export and deletion miss.

    A table is covered when its rows can belong to a person, when it names a person as
    author, or when ``NOT_PERSONAL`` gives the reason it contains no personal data.
    """
    schema = build_schema_map(metadata)
    covered = schema.owned_tables() | schema.authored_tables() | set(NOT_PERSONAL)
    return tables_with_path_to_person(metadata) - covered
