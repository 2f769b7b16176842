"""The export and deletion reach every table linked to a person, by construction."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table

from lti_ilp.extensions import db
from lti_ilp.privacy.schema import (
    NOT_PERSONAL,
    LinkRole,
    build_schema_map,
    tables_with_path_to_person,
    uncovered_tables,
)


def _copy_of_models() -> MetaData:
    import lti_ilp.models  # noqa: F401

    copy = MetaData()
    for table in db.metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


def test_every_linked_table_is_covered(app):
    assert uncovered_tables(db.metadata) == set()


def test_every_person_key_is_classified(app):
    schema = build_schema_map(db.metadata)
    assert [f"{c.table.name}.{c.name}" for c in schema.unclassified] == []


def test_not_personal_tables_exist(app):
    linked = tables_with_path_to_person(db.metadata)
    for name in NOT_PERSONAL:
        assert name in db.metadata.tables, name
        assert name in linked, name


def test_forgotten_table_is_reported():
    metadata = _copy_of_models()
    # Linked to a goal without ON DELETE, so no rule makes its rows belong to the person.
    Table(
        "goal_sticker",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("goal_id", ForeignKey("goal.id")),
        Column("label", String(20)),
    )
    assert uncovered_tables(metadata) == {"goal_sticker"}


def test_unclassified_person_key_is_reported():
    metadata = _copy_of_models()
    Table(
        "plan_reviewer",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("reviewer_id", ForeignKey("person.id")),
    )
    schema = build_schema_map(metadata)
    assert [f"{c.table.name}.{c.name}" for c in schema.unclassified] == [
        "plan_reviewer.reviewer_id"
    ]


def test_cascading_child_of_plan_is_owned():
    metadata = _copy_of_models()
    Table(
        "plan_sticker",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("plan_id", ForeignKey("plan.id", ondelete="CASCADE")),
    )
    schema = build_schema_map(metadata)
    assert "plan_sticker" in schema.owned_tables()
    assert uncovered_tables(metadata) == set()


def test_link_roles_of_known_columns(app):
    schema = build_schema_map(db.metadata)
    roles = {(link.table.name, link.column.name): link.role for link in schema.person_links}
    assert roles[("plan", "person_id")] is LinkRole.SUBJECT
    assert roles[("enrolment", "person_id")] is LinkRole.SUBJECT
    assert roles[("launch_session", "person_id")] is LinkRole.SUBJECT
    assert roles[("plan", "signed_by_id")] is LinkRole.AUTHOR
    assert roles[("plan_comment", "author_id")] is LinkRole.AUTHOR
    assert roles[("plan_audit_entry", "actor_id")] is LinkRole.AUTHOR
    owned = schema.owned_tables()
    for name in (
        "goal",
        "action_step",
        "evidence",
        "evidence_goal",
        "reflection",
        "plan_comment",
        "checkin",
        "progress_entry",
    ):
        assert name in owned, name
    assert "plan_template" not in owned
    assert "cycle" not in owned
