"""Security headers on every response, including the Content-Security-Policy.

The policy allows scripts, styles and images from the tool's own origin only, so pages
carry no inline script. ``frame-ancestors`` lists the tool itself, the origins of active
registrations (issuer and OIDC authorization URL) and ILP_FRAME_ANCESTORS.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..platforms.models import Registration
from .sanitize import harden_download

# Each process reads the registered origins from the database at most this often, so a new
# or deactivated registration changes frame-ancestors within this many seconds.
FRAME_ANCESTORS_TTL_SECONDS = 30.0

_cache_lock = threading.Lock()
_cache: dict[str, tuple[float, tuple[str, ...]]] = {}


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    # Characters outside a host:port would break the header or widen the policy.
    if any(char in parts.netloc for char in " ;,'\"*\\"):
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def _registered_origins() -> tuple[str, ...]:
    rows = db.session.execute(
        select(Registration.issuer, Registration.auth_login_url).where(Registration.active)
    ).all()
    origins = {
        origin
        for row in rows
        for origin in (_origin(row.issuer), _origin(row.auth_login_url))
        if origin
    }
    return tuple(sorted(origins))


def frame_ancestor_origins() -> tuple[str, ...]:
    """Return the origins allowed to frame the tool, cached per process and database."""
    cache_key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(cache_key)
    if cached is not None and now - cached[0] < FRAME_ANCESTORS_TTL_SECONDS:
        return cached[1]

    try:
        origins = _registered_origins()
    except SQLAlchemyError:
        db.session.rollback()
        # Keep the last known list; without one, only the tool itself may frame it.
        return cached[1] if cached is not None else ()
    extra = tuple(
        origin
        for origin in (
            _origin(value) for value in current_app.config["ILP_SETTINGS"].frame_ancestors
        )
        if origin
    )
    origins = tuple(sorted(set(origins) | set(extra)))
    with _cache_lock:
        _cache[cache_key] = (now, origins)
    return origins


def clear_frame_ancestor_cache() -> None:
    with _cache_lock:
        _cache.clear()


def content_security_policy() -> str:
    ancestors = " ".join(("'self'",) + frame_ancestor_origins())
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            f"frame-ancestors {ancestors}",
        ]
    )


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def add_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Session tokens live in page URLs, so never send a URL to another site.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        # Static files carry "inline" dispositions from send_file; downloads are attachments.
        if response.headers.get("Content-Disposition", "").lower().startswith("attachment"):
            harden_download(response)
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        if request.path.startswith("/s/") or request.path.startswith("/lti/"):
            response.headers.setdefault("Cache-Control", "no-store")
        if request.is_secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response
