"""The Alembic migrations build exactly the schema that the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet

from lti_ilp import create_app
from lti_ilp.db_schema import upgrade_schema
from lti_ilp.extensions import db
from lti_ilp.settings import Settings


def test_migrations_match_models(tmp_path):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'migrated.sqlite3'}",
        secret_key="x",
        keys_dir=tmp_path,
        key_encryption_key=Fernet.generate_key().decode(),
    )
    app = create_app(settings)
    with app.app_context():
        upgrade_schema()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_upgrade_twice_is_harmless(tmp_path):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'twice.sqlite3'}",
        secret_key="x",
        keys_dir=tmp_path,
        key_encryption_key=Fernet.generate_key().decode(),
    )
    app = create_app(settings)
    with app.app_context():
        upgrade_schema()
        upgrade_schema()
        tables = set(db.inspect(db.engine).get_table_names())
    assert "plan" in tables
    assert "alembic_version" in tables
