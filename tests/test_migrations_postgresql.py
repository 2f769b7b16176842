"""The migration that moves the login context onto launch_state, on PostgreSQL, with a
login in progress. It runs in its own schema so the suite's tables are untouched."""

from __future__ import annotations

import os

import pytest
from cryptography.fernet import Fernet
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from lti_ilp import create_app
from lti_ilp.extensions import db
from lti_ilp.settings import Settings

SCHEMA = "login_context_migration"
BEFORE = "a06970997c57"
AFTER = "9344e7df1fc6"


@pytest.fixture
def migration_app(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("needs TEST_DATABASE_URL on PostgreSQL")
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    settings = Settings(
        database_url=f"{url}?options=-csearch_path%3D{SCHEMA}",
        secret_key="x",
        keys_dir=tmp_path,
        key_encryption_key=Fernet.generate_key().decode(),
    )
    app = create_app(settings)
    yield app
    with app.app_context():
        db.engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    admin.dispose()


def column_names(connection, table: str) -> set[str]:
    return {column["name"] for column in db.inspect(connection).get_columns(table)}


def add_login_in_progress(connection) -> None:
    connection.execute(
        text(
            "INSERT INTO registration (issuer, client_id, auth_login_url, auth_token_url, "
            "key_set_url, active, created_at) VALUES ('https://lms.example', 'c1', "
            "'https://lms.example/auth', 'https://lms.example/token', "
            "'https://lms.example/jwks', true, now())"
        )
    )
    connection.execute(
        text(
            "INSERT INTO launch_state (state, nonce, registration_id, target_link_uri, "
            "created_at, expires_at) SELECT 's1', 'n1', id, "
            "'https://tool.example/lti/launch', now(), now() + interval '10 minutes' "
            "FROM registration"
        )
    )
    connection.execute(
        text(
            "INSERT INTO lti_login_context (state, storage_target, relaunch_query, "
            "expires_at) VALUES ('s1', '_parent', 'iss=https%3A%2F%2Flms.example', "
            "now() + interval '10 minutes')"
        )
    )


def test_upgrade_keeps_login_in_progress(migration_app):
    with migration_app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            add_login_in_progress(connection)

        upgrade()

        with db.engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            row = connection.execute(
                text("SELECT state, nonce, storage_target, relaunch_query FROM launch_state")
            ).one()
            tables = set(db.inspect(connection).get_table_names())

    assert version == AFTER
    assert row.state == "s1"
    assert row.nonce == "n1"
    # The storage frame and relaunch link of a login in progress are kept.
    assert row.storage_target == "_parent"
    assert row.relaunch_query == "iss=https%3A%2F%2Flms.example"
    assert "lti_login_context" not in tables


def test_downgrade_then_upgrade_again(migration_app):
    with migration_app.app_context():
        upgrade()
        downgrade(revision=BEFORE)
        with db.engine.connect() as connection:
            tables = set(db.inspect(connection).get_table_names())
            columns = column_names(connection, "launch_state")
        upgrade()
        with db.engine.connect() as connection:
            after = column_names(connection, "launch_state")

    assert "lti_login_context" in tables
    assert "relaunch_query" not in columns
    assert {"storage_target", "relaunch_query"} <= after
