"""AGS protocol details: URLs, score bodies, client assertions and failure verdicts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import jwt
import pytest
import requests

from lti_ilp.grades.service import completion_score, goal_progress_score
from lti_ilp.grades.worker import SyncOptions, retry_delay
from lti_ilp.keys.service import current_signing_key
from lti_ilp.lti.ags import Score, TokenEndpoint, classify_failure, client_assertion, service_url


@pytest.mark.parametrize(
    ("lineitem", "expected"),
    [
        (
            "https://moodle.example/mod/lti/services.php/2/lineitems/7/lineitem?type_id=7",
            "https://moodle.example/mod/lti/services.php/2/lineitems/7/lineitem/scores?type_id=7",
        ),
        (
            "https://canvas.example/api/lti/courses/1/line_items/5",
            "https://canvas.example/api/lti/courses/1/line_items/5/scores",
        ),
        ("https://lms.example/lineitems/5/", "https://lms.example/lineitems/5/scores"),
        ("https://lms.example/li/5?a=1&b=2", "https://lms.example/li/5/scores?a=1&b=2"),
    ],
)
def test_scores_url_keeps_query(lineitem, expected):
    assert service_url(lineitem, "scores") == expected


def test_zero_score_body():
    score = Score(
        user_id="u1",
        score_given=0.0,
        score_maximum=10.0,
        activity_progress="InProgress",
        grading_progress="FullyGraded",
        timestamp=datetime(2026, 12, 4, 16, 0, 0, 123456, tzinfo=UTC),
    )
    body = score.to_json()
    assert body["scoreGiven"] == 0
    assert body["scoreMaximum"] == 10
    assert body["timestamp"] == "2026-12-04T16:00:00.123+00:00"
    assert "comment" not in body


def test_score_timestamp_keeps_offset():
    offset = timezone(timedelta(hours=-5))
    score = Score(
        "u1", 6.0, 10.0, "InProgress", "FullyGraded", datetime(2026, 12, 4, 11, 0, tzinfo=offset)
    )
    assert score.to_json()["timestamp"].endswith("-05:00")


def test_score_without_timezone_rejected():
    score = Score("u1", 6.0, 10.0, "InProgress", "FullyGraded", datetime(2026, 12, 4, 11, 0))
    with pytest.raises(ValueError):
        score.to_json()


@pytest.mark.parametrize(
    ("progress", "given", "activity"),
    [
        (60, 6.0, "InProgress"),
        (80, 8.0, "InProgress"),
        (0, 0.0, "InProgress"),
        (100, 10.0, "Completed"),
        (33, 3.3, "InProgress"),
    ],
)
def test_goal_progress_maps_to_points(progress, given, activity):
    values = goal_progress_score(progress, 10)
    assert values.score_given == given
    assert values.score_maximum == 10
    assert values.activity_progress == activity
    assert values.grading_progress == "FullyGraded"


def test_goal_progress_out_of_range():
    with pytest.raises(ValueError):
        goal_progress_score(101, 10)


def test_completion_earns_full_points():
    values = completion_score(5)
    assert values.score_given == 5
    assert values.activity_progress == "Submitted"


def test_client_assertion_claims(app_context, tool_key):
    key = current_signing_key()
    endpoint = TokenEndpoint(client_id="client-7", token_url="https://lms.example/token")
    first = client_assertion(endpoint, key)
    second = client_assertion(endpoint, key)

    header = jwt.get_unverified_header(first)
    claims = jwt.decode(first, options={"verify_signature": False})
    assert header["kid"] == key.kid
    assert header["alg"] == "RS256"
    assert claims["iss"] == "client-7"
    assert claims["sub"] == "client-7"
    assert claims["aud"] == "https://lms.example/token"
    assert claims["exp"] > claims["iat"]
    other = jwt.decode(second, options={"verify_signature": False})
    assert claims["jti"] != other["jti"]


def test_client_assertion_token_audience(app_context, tool_key):
    endpoint = TokenEndpoint(
        client_id="c",
        token_url="https://d2l.example/token",
        audience="https://api.brightspace.com/auth/token",
    )
    claims = jwt.decode(
        client_assertion(endpoint, current_signing_key()), options={"verify_signature": False}
    )
    assert claims["aud"] == "https://api.brightspace.com/auth/token"


def _response(status: int, body, headers=None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    response.headers.update(headers or {})
    response.url = "https://lms.example/scores"
    return response


@pytest.mark.parametrize(
    ("status", "body", "retryable"),
    [
        (429, "Too Many Requests", True),
        (500, "oops", True),
        (503, "", True),
        (403, "403 Forbidden (Rate Limit Exceeded)", True),
        (403, {"errors": [{"message": "user not authorized"}]}, False),
        (
            422,
            {"errors": [{"message": "The maximum number of allowed attempts has been reached"}]},
            False,
        ),
        (400, {"error": "invalid_scope"}, False),
        (404, "Not Found", False),
    ],
)
def test_failure_verdicts(status, body, retryable):
    error = classify_failure(_response(status, body))
    assert error.retryable is retryable
    assert error.status_code == status
    assert error.message.startswith(f"HTTP {status}")


def test_failure_keeps_platform_message():
    error = classify_failure(
        _response(
            422,
            {"errors": [{"message": "The maximum number of allowed attempts has been reached"}]},
        )
    )
    assert "maximum number of allowed attempts" in error.message


def test_unauthorized_verdict():
    error = classify_failure(_response(401, {"error": "invalid_token"}))
    assert error.unauthorized
    assert not error.retryable


def test_retry_after_is_honoured():
    error = classify_failure(_response(429, "slow down", {"Retry-After": "120"}))
    assert error.retry_after == 120
    delay = retry_delay(1, SyncOptions(retry_base_seconds=1, retry_cap_seconds=600), 120)
    assert delay >= 120


def test_backoff_grows_and_is_capped():
    options = SyncOptions(retry_base_seconds=10, retry_cap_seconds=100)
    for attempt in range(1, 12):
        delay = retry_delay(attempt, options, None)
        assert 0 <= delay <= min(100, 10 * 2 ** (attempt - 1))
