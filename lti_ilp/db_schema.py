"""Creating and upgrading the schema through the Alembic migrations."""

from __future__ import annotations

from flask_migrate import upgrade


def upgrade_schema() -> None:
    """Apply every migration that the database does not have yet."""
    upgrade()
