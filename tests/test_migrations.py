"""The Alembic migrations build exactly the schema that the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from flask_migrate import upgrade
from sqlalchemy import text

from lti_ilp import create_app
from lti_ilp.db_schema import upgrade_schema
from lti_ilp.extensions import db
from lti_ilp.settings import Settings


def sqlite_app(tmp_path, name: str):
    """Create the app on an empty SQLite file that only the migrations will build."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / (name + '.sqlite3')}",
        secret_key="x",
        keys_dir=tmp_path,
        key_encryption_key=Fernet.generate_key().decode(),
    )
    return create_app(settings)


def test_migrations_match_models(tmp_path):
    app = sqlite_app(tmp_path, "migrated")
    with app.app_context():
        upgrade_schema()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_upgrade_twice_is_harmless(tmp_path):
    app = sqlite_app(tmp_path, "twice")
    with app.app_context():
        upgrade_schema()
        upgrade_schema()
        tables = set(db.inspect(db.engine).get_table_names())
    assert "plan" in tables
    assert "alembic_version" in tables


def test_upgrade_keeps_logins_in_progress(tmp_path):
    """Logins started before the upgrade that moved their context onto launch_state are
    still there afterwards, with the storage frame and relaunch query they had."""
    app = sqlite_app(tmp_path, "stepwise")
    with app.app_context():
        upgrade(revision="a06970997c57")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO registration (issuer, client_id, auth_login_url, "
                    "auth_token_url, key_set_url, active, created_at) VALUES "
                    "('https://lms.example', 'c1', 'https://lms.example/auth', "
                    "'https://lms.example/token', 'https://lms.example/jwks', 1, "
                    "'2026-01-01 00:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO launch_state (state, nonce, registration_id, "
                    "target_link_uri, created_at, expires_at) VALUES ('s1', 'n1', 1, "
                    "'https://tool.example/lti/launch', '2026-01-01 00:00:00', "
                    "'2026-01-01 00:10:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO launch_state (state, nonce, registration_id, "
                    "target_link_uri, created_at, expires_at) VALUES ('s2', 'n2', 1, "
                    "'https://tool.example/lti/launch', '2026-01-01 00:00:00', "
                    "'2026-01-01 00:10:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO lti_login_context (state, storage_target, relaunch_query, "
                    "expires_at) VALUES ('s2', '_parent', 'iss=https%3A%2F%2Flms.example', "
                    "'2026-01-01 00:10:00')"
                )
            )
        upgrade_schema()
        with db.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT state, storage_target, relaunch_query FROM launch_state ORDER BY state"
                )
            ).all()
            tables = set(db.inspect(connection).get_table_names())

    assert tuple(rows[0]) == ("s1", None, "")
    assert tuple(rows[1]) == ("s2", "_parent", "iss=https%3A%2F%2Flms.example")
    assert "lti_login_context" not in tables
