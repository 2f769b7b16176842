"""Blueprint wiring for pages reached after a launch: session lookup, CSRF and roles."""

from __future__ import annotations

import hmac
from functools import wraps

from flask import Blueprint, abort, g, request

from .errors import SessionExpired
from .session import csrf_token_for, find_session

SESSION_PREFIX = "/s/<launch_token>"


def session_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """Create a blueprint whose routes all live under ``/s/<launch_token>``."""
    blueprint = Blueprint(name, import_name, url_prefix=SESSION_PREFIX + url_prefix)

    @blueprint.url_value_preprocessor
    def load_session(endpoint, values):
        token = values.pop("launch_token", None) if values else None
        row = find_session(token or "")
        if row is None:
            raise SessionExpired()
        g.launch_token = token
        g.launch_session = row
        g.csrf_token = csrf_token_for(token)

    @blueprint.url_defaults
    def add_session_token(endpoint, values):
        if "launch_token" not in values and "launch_token" in g:
            values["launch_token"] = g.launch_token

    @blueprint.before_request
    def check_csrf():
        if request.method in {"GET", "HEAD", "OPTIONS"}:
            return
        sent = request.form.get("csrf_token", "")
        if not hmac.compare_digest(sent, g.csrf_token):
            abort(
                400,
                description="The form has expired or did not come from the plan tool. "
                "Reload the page and try again.",
            )

    return blueprint


def require_course_role(*roles: str):
    """Allow a view only to sessions whose course role is one of ``roles``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.launch_session.course_role not in roles:
                abort(403, description="This page is for course staff only.")
            return view(*args, **kwargs)

        return wrapped

    return decorator
