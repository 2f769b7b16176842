"""PRIVACY.md lists every stored column, and its generated sections are current."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table

from lti_ilp.extensions import db
from lti_ilp.privacy.inventory import InventoryError, render_inventory, update_document
from lti_ilp.settings import PROJECT_ROOT

PRIVACY_MD = PROJECT_ROOT / "PRIVACY.md"
REGENERATE = "run: python -m lti_ilp.privacy.inventory --write PRIVACY.md"


def _document() -> str:
    return PRIVACY_MD.read_text(encoding="utf-8")


def test_privacy_md_names_every_column(app):
    document = _document()
    missing = [
        f"{table.name}.{column.name}"
        for table in db.metadata.tables.values()
        for column in table.columns
        if f"`{table.name}.{column.name}`" not in document
    ]
    assert missing == [], REGENERATE


def test_privacy_md_generated_sections_current(app):
    document = _document()
    assert update_document(document, db.metadata) == document, REGENERATE


def test_undescribed_column_is_rejected(app):
    metadata = MetaData()
    for table in db.metadata.sorted_tables:
        table.to_metadata(metadata)
    metadata.tables["goal"].append_column(Column("mood", String(20)))
    with pytest.raises(InventoryError, match="column goal.mood"):
        render_inventory(metadata)


def test_undescribed_table_is_rejected(app):
    metadata = MetaData()
    for table in db.metadata.sorted_tables:
        table.to_metadata(metadata)
    Table(
        "goal_sticker",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("goal_id", ForeignKey("goal.id", ondelete="CASCADE")),
    )
    with pytest.raises(InventoryError, match="table goal_sticker"):
        render_inventory(metadata)
