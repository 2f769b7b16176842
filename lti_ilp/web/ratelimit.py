"""Fixed-window rate limits on the login and launch endpoints.

Counters live in the database, so every worker counts the same requests. Each counter is
keyed by endpoint, client IP and window start, and is incremented with one upsert
statement, so concurrent requests do not overwrite each other's counts. The client IP is
``request.remote_addr``, which is the browser's address only when ILP_PROXY_HOPS matches
the proxies in front of the tool.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from flask import Flask, abort, current_app, g, request
from sqlalchemy import Integer, String, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import UTCDateTime, db, utcnow

log = logging.getLogger(__name__)

# Endpoint name -> name of the Settings field with its limit per window.
LIMITED_ENDPOINTS = {
    "lti.login": "rate_limit_login",
    "lti.launch": "rate_limit_launch",
}


class RateLimitCounter(db.Model):
    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def _window(window_seconds: int) -> tuple[int, datetime]:
    """Return the start of the current window (epoch seconds) and when it ends."""
    now = int(time.time())
    start = now - now % window_seconds
    return start, datetime.fromtimestamp(start + window_seconds, tz=UTC)


def count_request(endpoint: str, client_ip: str, window_seconds: int) -> int:
    """Add one request to the counter of the current window and return the new count.

    The count is written in its own transaction, so a rejected request still counts.
    """
    start, ends_at = _window(window_seconds)
    key = f"{endpoint}:{client_ip}:{start}"[:255]
    dialect = db.engine.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(RateLimitCounter).values(key=key, count=1, expires_at=ends_at)
    statement = statement.on_conflict_do_update(
        index_elements=[RateLimitCounter.key],
        set_={"count": RateLimitCounter.count + 1},
    ).returning(RateLimitCounter.count)
    with db.engine.begin() as connection:
        count = connection.execute(statement).scalar_one()
        if count == 1:
            # First request of a new window: drop the counters of windows that have ended.
            connection.execute(
                delete(RateLimitCounter).where(
                    RateLimitCounter.expires_at < utcnow() - timedelta(seconds=window_seconds)
                )
            )
    return count


def register_rate_limits(app: Flask) -> None:
    @app.before_request
    def check_rate_limit():
        setting = LIMITED_ENDPOINTS.get(request.endpoint or "")
        if setting is None:
            return
        settings = current_app.config["ILP_SETTINGS"]
        limit = getattr(settings, setting)
        if limit <= 0:
            return
        client_ip = request.remote_addr or "unknown"
        count = count_request(request.endpoint, client_ip, settings.rate_limit_window_seconds)
        if count > limit:
            if count == limit + 1:
                log.warning(
                    "rate limit reached endpoint=%s limit=%s window_seconds=%s",
                    request.endpoint,
                    limit,
                    settings.rate_limit_window_seconds,
                )
            g.retry_after = max(
                1,
                settings.rate_limit_window_seconds
                - int(time.time()) % settings.rate_limit_window_seconds,
            )
            abort(
                429,
                description=(
                    "Too many sign-in requests came from your network in a short time, so "
                    "the plan tool paused them."
                ),
            )

    @app.after_request
    def add_retry_after(response):
        if response.status_code == 429 and "retry_after" in g:
            response.headers["Retry-After"] = str(g.retry_after)
        return response
