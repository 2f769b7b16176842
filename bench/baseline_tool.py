"""The baseline: a minimal LTI 1.3 tool built on pylti1p3's Flask classes.

It validates the launch with ``FlaskMessageLaunch.validate()`` and does nothing after that.
It keeps pylti1p3's defaults (state and nonce in the signed Flask session cookie) and caches
the platform JWKS in process memory through ``set_public_key_caching``, so a launch fetches
no JWKS once a worker has seen one launch.
"""

from __future__ import annotations

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

from .config import RunConfig

JWKS_CACHE_SECONDS = 3600


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


def _tool_conf(config: RunConfig) -> ToolConfDict:
    values = config.platforms["baseline"]
    auth_url = f"{config.platform_url}/baseline/auth"
    return ToolConfDict(
        {
            values.issuer: [
                {
                    "default": True,
                    "client_id": values.client_id,
                    "auth_login_url": auth_url,
                    "auth_token_url": auth_url.replace("/auth", "/token"),
                    "key_set_url": f"{config.platform_url}/baseline/jwks",
                    "deployment_ids": [values.deployment_id],
                }
            ]
        }
    )


def create_baseline_app() -> Flask:
    config = RunConfig.read()
    tool_conf = _tool_conf(config)
    launch_url = config.platforms["baseline"].tool_url + "/lti/launch"
    jwks_cache = FlaskCacheDataStorage(ProcessMemoryCache())
    app = Flask("bench-baseline")
    app.secret_key = config.baseline_session_secret

    @app.route("/lti/login", methods=["GET", "POST"])
    def login():
        oidc_login = FlaskOIDCLogin(FlaskRequest(), tool_conf)
        return oidc_login.redirect(launch_url)

    @app.post("/lti/launch")
    def launch():
        message_launch = FlaskMessageLaunch(FlaskRequest(), tool_conf)
        message_launch.set_public_key_caching(jwks_cache, cache_lifetime=JWKS_CACHE_SECONDS)
        message_launch.validate()
        return "launch valid\n"

    @app.errorhandler(LtiException)
    def rejected(exc: LtiException):
        return f"launch rejected: {exc}\n", 400

    @app.get("/healthz")
    def health():
        return {"status": "ok"}

    return app
