"""Rate limits on the login and launch endpoints, counted in the database in batches."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lti_ilp.extensions import db
from lti_ilp.web import ratelimit
from lti_ilp.web.ratelimit import (
    WRITE_EVERY,
    BatchedCounter,
    RateLimitCounter,
    count_request,
)


@pytest.fixture
def limits(app):
    settings = app.config["ILP_SETTINGS"]
    saved = (
        settings.rate_limit_login,
        settings.rate_limit_launch,
        settings.rate_limit_window_seconds,
    )
    settings.rate_limit_login = 3
    settings.rate_limit_launch = 2
    settings.rate_limit_window_seconds = 3600
    yield settings
    (settings.rate_limit_login, settings.rate_limit_launch, settings.rate_limit_window_seconds) = (
        saved
    )


def test_login_limit_answers_429(app, limits):
    client = app.test_client()
    statuses = [client.get("/lti/login?iss=https://unknown.example").status_code for _ in range(5)]

    assert statuses[:3] == [403, 403, 403]
    assert statuses[3:] == [429, 429]
    last = client.get("/lti/login?iss=https://unknown.example")
    assert "Too many sign-in requests" in last.get_data(as_text=True)
    assert "Wait a minute and try again" in last.get_data(as_text=True)
    assert 1 <= int(last.headers["Retry-After"]) <= 3600


def test_limits_are_per_endpoint(app, limits):
    client = app.test_client()
    for _ in range(3):
        client.get("/lti/login?iss=https://unknown.example")

    assert client.post("/lti/launch", data={}).status_code == 400
    assert client.post("/lti/launch", data={}).status_code == 400
    assert client.post("/lti/launch", data={}).status_code == 429


def test_limits_are_per_client_ip(app, limits):
    first = app.test_client()
    second = app.test_client()
    for _ in range(4):
        first.get("/lti/login?iss=x", environ_base={"REMOTE_ADDR": "10.0.0.1"})

    blocked = first.get("/lti/login?iss=x", environ_base={"REMOTE_ADDR": "10.0.0.1"})
    other = second.get("/lti/login?iss=x", environ_base={"REMOTE_ADDR": "10.0.0.2"})

    assert blocked.status_code == 429
    assert other.status_code == 403


def test_counters_live_in_database(app, limits):
    app.test_client().get("/lti/login?iss=x", environ_base={"REMOTE_ADDR": "10.0.0.9"})

    with app.app_context():
        rows = db.session.scalars(select(RateLimitCounter)).all()
        assert len(rows) == 1
        assert rows[0].key.startswith("lti.login:10.0.0.9:")
        assert rows[0].count == 1


def test_count_request_increments_one_row(app_context):
    counts = [count_request("lti.login", "10.1.1.1", 3600) for _ in range(4)]

    assert counts == [1, 2, 3, 4]
    assert db.session.scalar(select(func.count()).select_from(RateLimitCounter)) == 1


def test_zero_limit_turns_limit_off(app, limits):
    limits.rate_limit_login = 0
    client = app.test_client()
    statuses = {client.get("/lti/login?iss=x").status_code for _ in range(6)}

    assert statuses == {403}


def shared_count(key_prefix: str) -> int:
    return db.session.scalar(
        select(func.sum(RateLimitCounter.count)).where(RateLimitCounter.key.startswith(key_prefix))
    )


def test_far_from_limit_writes_in_batches(app_context):
    counter = BatchedCounter()
    estimates = [
        counter.count("lti.login", "10.2.0.1", 3600, limit=10_000).estimate for _ in range(25)
    ]

    assert estimates == list(range(1, 26))
    # The first request and the WRITE_EVERY-th unwritten one were written.
    assert shared_count("lti.login:10.2.0.1:") == 1 + WRITE_EVERY


def test_near_limit_writes_every_request(app_context):
    counter = BatchedCounter()
    for _ in range(10):
        counter.count("lti.login", "10.2.0.2", 3600, limit=10)

    assert shared_count("lti.login:10.2.0.2:") == 10
    assert counter.count("lti.login", "10.2.0.2", 3600, limit=10).estimate == 11


def test_processes_see_each_others_counts(app_context):
    """Two counters stand for two worker processes sharing the database."""
    first, second = BatchedCounter(), BatchedCounter()
    limit = 40
    for _ in range(15):
        first.count("lti.launch", "10.2.0.3", 3600, limit)
    counts = [second.count("lti.launch", "10.2.0.3", 3600, limit).estimate for _ in range(40)]

    rejected_at = next(index for index, count in enumerate(counts, start=1) if count > limit)
    # The second process rejects once both processes' requests pass the limit, give or
    # take the first process's unwritten requests.
    assert 15 + rejected_at > limit
    assert 15 + rejected_at <= limit + 1 + (WRITE_EVERY - 1)


def test_new_window_starts_from_zero(app_context, monkeypatch):
    counter = BatchedCounter()
    now = [1_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    for _ in range(5):
        counter.count("lti.login", "10.2.0.4", 60, limit=10)
    now[0] += 60

    assert counter.count("lti.login", "10.2.0.4", 60, limit=10).estimate == 1


def test_only_crossing_write_reports_it(app_context):
    counter = BatchedCounter()
    results = [counter.count("lti.login", "10.2.0.5", 3600, limit=6) for _ in range(9)]

    assert [result.estimate for result in results] == list(range(1, 10))
    assert [result.crossed_limit for result in results] == [False] * 6 + [True, False, False]
