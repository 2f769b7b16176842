"""Fixed-window rate limits on the login and launch endpoints.

Counters live in the database, so every worker counts the same requests. Each counter is
keyed by endpoint, client IP and window start, and is incremented with one upsert
statement, so concurrent requests do not overwrite each other's counts. The client IP is
``request.remote_addr``, which is the browser's address only when ILP_PROXY_HOPS matches
the proxies in front of the tool.

A school behind one NAT address sends every launch from one IP, so a write per request
would make that counter row the busiest row of the database. Each process therefore
counts requests locally and adds them to the shared counter in batches: on the first
request of a window, after ``WRITE_EVERY`` requests or ``WRITE_AFTER_SECONDS`` seconds, and
on every request once the count reaches half the limit. Far from the limit a counter can
lag by up to ``WRITE_EVERY - 1`` requests per process. Near the limit every request is
written, so one process alone enforces the limit exactly, with any number of threads.
The count read back can still miss the unwritten requests of other processes: with N
processes the limit can be passed by at most ``(N - 1) * (WRITE_EVERY - 1)`` requests.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask, abort, current_app, g, request
from sqlalchemy import Integer, String, delete
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import UTCDateTime, db, upsert_insert, utcnow

log = logging.getLogger(__name__)

# Requests a process counts before it writes them to the shared counter, and the longest
# time it keeps unwritten requests, in seconds.
WRITE_EVERY = 20
WRITE_AFTER_SECONDS = 2.0

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


def count_request(endpoint: str, client_ip: str, window_seconds: int, requests: int = 1) -> int:
    """Add ``requests`` to the counter of the current window and return the new count.

    The count is written in its own transaction, so a rejected request still counts.
    """
    start, ends_at = _window(window_seconds)
    key = f"{endpoint}:{client_ip}:{start}"[:255]
    statement = upsert_insert(RateLimitCounter).values(key=key, count=requests, expires_at=ends_at)
    statement = statement.on_conflict_do_update(
        index_elements=[RateLimitCounter.key],
        set_={"count": RateLimitCounter.count + requests},
    ).returning(RateLimitCounter.count)
    with db.engine.begin() as connection:
        count = connection.execute(statement).scalar_one()
        if count == requests:
            # First write of a new window: drop the counters of windows that have ended.
            connection.execute(
                delete(RateLimitCounter).where(
                    RateLimitCounter.expires_at < utcnow() - timedelta(seconds=window_seconds)
                )
            )
    return count


@dataclass
class _WindowCount:
    """One process's view of one counter: the count last read from the database, the
    requests being written by other threads right now, and the requests not written yet."""

    window_start: int
    shared: int = 0
    in_flight: int = 0
    unwritten: int = 0
    written_at: float | None = None

    @property
    def estimate(self) -> int:
        return self.shared + self.in_flight + self.unwritten


@dataclass(frozen=True)
class Counted:
    """The estimated count of a request's window, all processes together, and whether
    this request's write took the shared counter past the limit. Exactly one write
    across all processes crosses a limit in each window."""

    estimate: int
    crossed_limit: bool = False


class BatchedCounter:
    """Counts requests per endpoint and client IP in this process and writes them to the
    shared database counter in batches. One instance lives on each Flask app."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], _WindowCount] = {}

    def count(self, endpoint: str, client_ip: str, window_seconds: int, limit: int) -> Counted:
        """Count one request, and write this process's unwritten requests to the shared
        counter when a batch is due."""
        start, _ = _window(window_seconds)
        now = time.monotonic()
        with self._lock:
            entry = self._windows.get((endpoint, client_ip))
            if entry is None or entry.window_start != start:
                self._drop_ended_windows(start)
                entry = _WindowCount(window_start=start)
                self._windows[(endpoint, client_ip)] = entry
            entry.unwritten += 1
            must_write = (
                entry.written_at is None
                or entry.unwritten >= WRITE_EVERY
                or now - entry.written_at >= WRITE_AFTER_SECONDS
                or entry.estimate * 2 >= limit
            )
            if not must_write:
                return Counted(entry.estimate)
            # Requests being written stay in the estimate until the write returns, so
            # other threads of this process never see a count that is too low.
            requests = entry.unwritten
            entry.unwritten = 0
            entry.in_flight += requests
            entry.written_at = now
        try:
            shared = count_request(endpoint, client_ip, window_seconds, requests)
        except BaseException:
            with self._lock:
                entry.in_flight -= requests
            raise
        # Move the requests from in flight to shared in one step, so no thread sees them
        # in neither.
        with self._lock:
            entry.in_flight -= requests
            entry.shared = max(entry.shared, shared)
            return Counted(
                estimate=shared + entry.in_flight + entry.unwritten,
                crossed_limit=shared - requests <= limit < shared,
            )

    def _drop_ended_windows(self, current_start: int) -> None:
        ended = [key for key, entry in self._windows.items() if entry.window_start < current_start]
        for key in ended:
            del self._windows[key]


def register_rate_limits(app: Flask) -> None:
    counter = BatchedCounter()

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
        counted = counter.count(
            request.endpoint, client_ip, settings.rate_limit_window_seconds, limit
        )
        if counted.estimate > limit:
            if counted.crossed_limit:
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
