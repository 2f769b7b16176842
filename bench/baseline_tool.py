"""The baselines: minimal LTI 1.3 tools built on pylti1p3's Flask classes.

``create_baseline_app`` validates the launch with ``FlaskMessageLaunch.validate()`` and does
nothing after that. It keeps pylti1p3's defaults (state and nonce in the signed Flask
session cookie) and caches the platform JWKS in process memory through
``set_public_key_caching``, so a launch fetches no JWKS once a worker has seen one launch.

``create_baseline_db_app`` is the same tool with pylti1p3's launch data storage (the nonce
and the validated launch) in a key-value table of the benchmark's database, the way
several processes of one tool share launches. It shows what the shared storage alone
costs, beside lti-ilp, which keeps its login state, nonces and sessions in its database
for the same reason.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

from flask import Flask
from pylti1p3.contrib.flask import (
    FlaskCacheDataStorage,
    FlaskMessageLaunch,
    FlaskOIDCLogin,
    FlaskRequest,
)
from pylti1p3.exception import LtiException
from pylti1p3.tool_config import ToolConfDict
from sqlalchemy import Column, Float, MetaData, String, Table, Text, create_engine, select
from sqlalchemy.dialects import postgresql, sqlite

from .config import RunConfig

JWKS_CACHE_SECONDS = 3600
# The SQLAlchemy URL of the benchmark's database, for create_baseline_db_app.
DATABASE_URL_ENV = "BENCH_DATABASE_URL"


class ProcessMemoryCache:
    """A dict with expiry, offering the ``get`` and ``set`` calls that pylti1p3's cache
    storage makes. Each gunicorn worker has its own."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            expires_at, value = self._values.get(key, (0.0, None))
        return value if expires_at > time.monotonic() else None

    def set(self, key: str, value: Any, exp: int | None = None) -> None:
        expires_at = time.monotonic() + (exp or JWKS_CACHE_SECONDS)
        with self._lock:
            self._values[key] = (expires_at, value)


# The key-value table of ``create_baseline_db_app``, created by the benchmark in its database.
CACHE_METADATA = MetaData()
CACHE_TABLE = Table(
    "bench_baseline_cache",
    CACHE_METADATA,
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
    # Seconds since the epoch.
    Column("expires_at", Float, nullable=False),
)


class DatabaseCache:
    """The ``get`` and ``set`` calls of pylti1p3's cache storage, over ``CACHE_TABLE``.

    Values are stored as JSON, one statement per call, each in its own transaction.
    """

    def __init__(self, database_url: str) -> None:
        self._engine = create_engine(database_url)
        dialect = self._engine.dialect.name
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    def get(self, key: str) -> Any:
        with self._engine.connect() as connection:
            value = connection.execute(
                select(CACHE_TABLE.c.value).where(
                    CACHE_TABLE.c.key == key, CACHE_TABLE.c.expires_at > time.time()
                )
            ).scalar()
        return None if value is None else json.loads(value)

    def set(self, key: str, value: Any, exp: int | None = None) -> None:
        row = {
            "key": key,
            "value": json.dumps(value),
            "expires_at": time.time() + (exp or JWKS_CACHE_SECONDS),
        }
        statement = self._insert(CACHE_TABLE).values(**row)
        statement = statement.on_conflict_do_update(
            index_elements=[CACHE_TABLE.c.key],
            set_={"value": row["value"], "expires_at": row["expires_at"]},
        )
        with self._engine.begin() as connection:
            connection.execute(statement)


def _tool_conf(config: RunConfig, name: str) -> ToolConfDict:
    values = config.platforms[name]
    auth_url = f"{config.platform_url}/{name}/auth"
    return ToolConfDict(
        {
            values.issuer: [
                {
                    "default": True,
                    "client_id": values.client_id,
                    "auth_login_url": auth_url,
                    "auth_token_url": auth_url.replace("/auth", "/token"),
                    "key_set_url": f"{config.platform_url}/{name}/jwks",
                    "deployment_ids": [values.deployment_id],
                }
            ]
        }
    )


def create_baseline_app() -> Flask:
    """Create the baseline that keeps state and nonce in the Flask session cookie."""
    return _create_app("baseline", launch_storage=None)


def create_baseline_db_app() -> Flask:
    """Create the baseline that keeps the nonce and the launch in the benchmark's database."""
    database_url = os.environ[DATABASE_URL_ENV]
    storage = FlaskCacheDataStorage(DatabaseCache(database_url))
    return _create_app("baseline_db", launch_storage=storage)


def _create_app(name: str, launch_storage: FlaskCacheDataStorage | None) -> Flask:
    config = RunConfig.read()
    tool_conf = _tool_conf(config, name)
    launch_url = config.platforms[name].tool_url + "/lti/launch"
    jwks_cache = FlaskCacheDataStorage(ProcessMemoryCache())
    app = Flask(f"bench-{name}")
    app.secret_key = config.baseline_session_secret

    @app.route("/lti/login", methods=["GET", "POST"])
    def login():
        oidc_login = FlaskOIDCLogin(FlaskRequest(), tool_conf, launch_data_storage=launch_storage)
        return oidc_login.redirect(launch_url)

    @app.post("/lti/launch")
    def launch():
        message_launch = FlaskMessageLaunch(
            FlaskRequest(), tool_conf, launch_data_storage=launch_storage
        )
        message_launch.set_public_key_caching(jwks_cache, cache_lifetime=JWKS_CACHE_SECONDS)
        # Validates, then saves the launch under its launch id for later requests: in the
        # session cookie, or in the database with ``launch_storage``.
        message_launch.validate()
        return "launch valid\n"

    @app.errorhandler(LtiException)
    def rejected(exc: LtiException):
        return f"launch rejected: {exc}\n", 400

    @app.get("/healthz")
    def health():
        return {"status": "ok"}

    return app
