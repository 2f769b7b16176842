"""Rate limits through real HTTP requests, with two app instances sharing one database as
two worker processes would."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace

import pytest
import requests
from sqlalchemy import text

from lti_ilp import create_app
from lti_ilp.extensions import db
from lti_ilp.web.ratelimit import WRITE_EVERY

from ..harness import ServerThread, page_text

WINDOW_SECONDS = 3600
LOGIN_PATH = "/lti/login?iss=https://unknown.example"


@pytest.fixture
def limited_servers(app, settings):
    """Start two tool servers, each its own app (and so its own request counter), that
    share the test database and have a small login limit."""
    # A window that ends during the test would reset the counts.
    while time.time() % WINDOW_SECONDS > WINDOW_SECONDS - 30:
        time.sleep(1)
    servers = []

    def start(limit: int) -> ServerThread:
        limited = replace(
            settings, rate_limit_login=limit, rate_limit_window_seconds=WINDOW_SECONDS
        )
        server = ServerThread(create_app(limited))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def login(server: ServerThread) -> requests.Response:
    return requests.get(server.url + LOGIN_PATH, allow_redirects=False, timeout=30)


def test_one_instance_admits_exactly_limit(limited_servers):
    server = limited_servers(10)

    statuses = [login(server).status_code for _ in range(25)]

    assert statuses[:10] == [403] * 10
    assert statuses[10:] == [429] * 15


def test_429_page_and_retry_after(limited_servers):
    server = limited_servers(2)
    for _ in range(2):
        login(server)

    response = login(server)

    assert response.status_code == 429
    assert "Too many sign-in requests" in page_text(response.text)
    assert 1 <= int(response.headers["Retry-After"]) <= WINDOW_SECONDS


def test_two_instances_stay_within_stated_bound(limited_servers):
    limit = 10
    first, second = limited_servers(limit), limited_servers(limit)

    statuses = [login(server).status_code for _ in range(30) for server in (first, second)]

    admitted = statuses.count(403)
    assert admitted >= limit
    assert admitted <= limit + (WRITE_EVERY - 1)
    assert statuses[-2:] == [429, 429]


def test_limit_warning_logged_across_instances(limited_servers, caplog):
    """The first request over the limit is logged, even when another instance's batch of
    requests is what passes it."""
    limit = 10
    first, second = limited_servers(limit), limited_servers(limit)
    caplog.set_level(logging.WARNING, logger="lti_ilp.web.ratelimit")

    # The second instance writes its first request and keeps the next three unwritten,
    # because 4 is below half the limit.
    statuses = [login(second).status_code for _ in range(4)]
    # The first instance brings the shared counter to the limit.
    statuses += [login(first).status_code for _ in range(9)]
    # The second instance writes its batch and passes the limit.
    statuses += [login(second).status_code, login(first).status_code]

    assert statuses[-2:] == [429, 429]
    warnings = [record for record in caplog.records if "rate limit reached" in record.getMessage()]
    assert len(warnings) == 1


@contextmanager
def counter_table_locked(engine):
    """Keep every write to the counter table waiting until the block ends, as a busy
    counter row would."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as blocker:
            blocker.execute(text("LOCK TABLE rate_limit_counter IN EXCLUSIVE MODE"))
            yield
            blocker.rollback()
        return
    # SQLite has one writer at a time, and the app waits for the lock (busy timeout).
    blocker = sqlite3.connect(engine.url.database, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


def test_burst_on_one_instance_admits_limit(app, limited_servers):
    """At most ``limit`` requests are admitted when they arrive together at one threaded
    instance while the counter row is busy."""
    limit, burst = 10, 30
    server = limited_servers(limit)
    with app.app_context():
        engine = db.engine
    barrier = threading.Barrier(burst)

    def send(_):
        barrier.wait(timeout=30)
        return login(server).status_code

    with ThreadPoolExecutor(max_workers=burst) as pool:
        with counter_table_locked(engine):
            futures = [pool.submit(send, index) for index in range(burst)]
            time.sleep(2)
        statuses = [future.result(timeout=60) for future in futures]

    assert statuses.count(403) + statuses.count(429) == burst
    assert statuses.count(403) <= limit


def test_burst_without_lock_admits_limit(limited_servers):
    """Forty requests sent together to one threaded instance, with nothing else holding
    the database."""
    limit, burst = 10, 40
    server = limited_servers(limit)
    barrier = threading.Barrier(burst)

    def send(_):
        barrier.wait(timeout=30)
        return login(server).status_code

    with ThreadPoolExecutor(max_workers=burst) as pool:
        statuses = list(pool.map(send, range(burst)))

    assert statuses.count(403) + statuses.count(429) == burst
    assert statuses.count(403) <= limit
