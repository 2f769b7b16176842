"""Rate limits on the login and launch endpoints, counted in the database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lti_ilp.extensions import db
from lti_ilp.web.ratelimit import RateLimitCounter, count_request


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
