"""Assignment and Grade Services (AGS 2.0): access tokens, line items and scores.

This module speaks the protocol only. It signs the client assertion, asks the platform's
token endpoint for an access token, finds and creates line items and posts scores. It
raises ``AgsError`` with the platform's own message and a verdict on whether a retry can
help. Caching tokens and retrying belong to ``lti_ilp.grades``.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt
import requests

from ..keys.service import SigningKey

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
GRADE_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_SCORE)

LINEITEM_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_CONTAINER_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

CLIENT_ASSERTION_LIFETIME_SECONDS = 300
MAX_MESSAGE_LENGTH = 1000
MAX_LINEITEM_PAGES = 50


class AgsError(Exception):
    """A grade service call failed.

    ``status_code`` is the HTTP status (None when no response arrived), ``message`` the
    platform's own error text, ``retryable`` whether the same call may succeed later and
    ``retry_after`` the delay in seconds that the platform asked for, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        unauthorized: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retryable = retryable
        self.retry_after = retry_after
        self.unauthorized = unauthorized


@dataclass(frozen=True)
class TokenEndpoint:
    """Where and as whom the tool asks a platform for access tokens."""

    client_id: str
    token_url: str
    # Brightspace checks the assertion's aud against a value that is not its token URL.
    audience: str | None = None


@dataclass(frozen=True)
class AccessToken:
    access_token: str
    expires_in: int
    # The scopes the platform granted, which may be fewer than the scopes requested.
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class Score:
    user_id: str
    score_given: float
    score_maximum: float
    activity_progress: str
    grading_progress: str
    timestamp: datetime
    comment: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the score body. A score of 0 is sent as 0, never dropped."""
        if self.timestamp.tzinfo is None:
            raise ValueError("a score timestamp needs a timezone offset")
        body: dict[str, Any] = {
            "userId": self.user_id,
            "scoreGiven": self.score_given,
            "scoreMaximum": self.score_maximum,
            "activityProgress": self.activity_progress,
            "gradingProgress": self.grading_progress,
            "timestamp": self.timestamp.isoformat(timespec="milliseconds"),
        }
        if self.comment:
            body["comment"] = self.comment
        return body


def service_url(lineitem_url: str, ending: str) -> str:
    """Append ``ending`` to a line item URL's path, keeping its query string.

    Moodle's line item URLs look like ``.../lineitem?type_id=7``, so the scores URL is
    ``.../lineitem/scores?type_id=7``, not the plain concatenation.
    """
    parts = urlsplit(lineitem_url)
    path = parts.path.rstrip("/") + "/" + ending
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def client_assertion(endpoint: TokenEndpoint, key: SigningKey) -> str:
    """Sign the JWT that authenticates the tool at the token endpoint."""
    now = int(time.time())
    claims = {
        "iss": endpoint.client_id,
        "sub": endpoint.client_id,
        "aud": endpoint.audience or endpoint.token_url,
        "iat": now,
        "exp": now + CLIENT_ASSERTION_LIFETIME_SECONDS,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": key.kid})


def request_access_token(
    http: requests.Session, endpoint: TokenEndpoint, key: SigningKey, scopes: list[str]
) -> AccessToken:
    """Run the OAuth 2 client-credentials grant with a signed client assertion."""
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": client_assertion(endpoint, key),
        "scope": " ".join(sorted(scopes)),
    }
    response = _send(
        http, "POST", endpoint.token_url, data=form, headers={"Accept": "application/json"}
    )
    body = _json_body(response)
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise AgsError(
            f"The token endpoint {endpoint.token_url} returned no access_token.",
            status_code=response.status_code,
        )
    expires_in = body.get("expires_in")
    if not isinstance(expires_in, int | float) or expires_in <= 0:
        # RFC 6749 makes expires_in optional; the LTI security framework recommends 3600.
        expires_in = 3600
    granted = body.get("scope")
    granted_scopes = tuple(granted.split()) if isinstance(granted, str) else tuple(scopes)
    return AccessToken(token, int(expires_in), granted_scopes)


def post_score(http: requests.Session, access_token: str, lineitem_url: str, score: Score) -> None:
    _send(
        http,
        "POST",
        service_url(lineitem_url, "scores"),
        data=json.dumps(score.to_json()),
        headers=_bearer(access_token, content_type=SCORE_MEDIA_TYPE),
    )


def list_line_items(
    http: requests.Session, access_token: str, lineitems_url: str, **filters: str
) -> list[dict[str, Any]]:
    """Return every line item of the container, following ``Link: rel="next"`` pages.

    ``filters`` become query parameters (``resource_id``, ``resource_link_id``, ``tag``).
    Platforms may ignore them, so callers check the returned items again.
    """
    request_url = lineitems_url
    params: dict[str, str] | None = {name: value for name, value in filters.items() if value}
    items: list[dict[str, Any]] = []
    for _ in range(MAX_LINEITEM_PAGES):
        response = _send(
            http,
            "GET",
            request_url,
            params=params,
            headers=_bearer(access_token, accept=LINEITEM_CONTAINER_MEDIA_TYPE),
        )
        body = _json_body(response)
        if not isinstance(body, list):
            raise AgsError(
                f"The line item container {lineitems_url} did not return a JSON list.",
                status_code=response.status_code,
            )
        items.extend(item for item in body if isinstance(item, dict))
        next_url = response.links.get("next", {}).get("url")
        if not next_url:
            return items
        # The next URL already carries the query, so the filters are not added again.
        request_url, params = next_url, None
    return items


def create_line_item(
    http: requests.Session, access_token: str, lineitems_url: str, line_item: dict[str, Any]
) -> dict[str, Any]:
    response = _send(
        http,
        "POST",
        lineitems_url,
        data=json.dumps(line_item),
        headers=_bearer(
            access_token, content_type=LINEITEM_MEDIA_TYPE, accept=LINEITEM_MEDIA_TYPE
        ),
    )
    body = _json_body(response)
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        raise AgsError(
            f"The platform created a line item at {lineitems_url} but returned no id.",
            status_code=response.status_code,
        )
    return body


def _bearer(
    access_token: str, *, content_type: str | None = None, accept: str | None = None
) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {access_token}"}
    if content_type:
        headers["Content-Type"] = content_type
    if accept:
        headers["Accept"] = accept
    return headers


def _send(http: requests.Session, method: str, url: str, **kwargs: Any) -> requests.Response:
    try:
        response = http.request(method, url, allow_redirects=False, **kwargs)
    except requests.Timeout as exc:
        raise AgsError(f"The request to {url} timed out.", retryable=True) from exc
    except requests.RequestException as exc:
        raise AgsError(
            f"The request to {url} failed: {type(exc).__name__}.", retryable=True
        ) from exc
    if response.status_code < 300:
        return response
    raise classify_failure(response)


def classify_failure(response: requests.Response) -> AgsError:
    """Decide whether a failed response is worth retrying, and keep the platform's message."""
    status = response.status_code
    message = platform_message(response)
    retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
    # Canvas signals throttling with 403 and "Rate Limit Exceeded", not with 429.
    rate_limited = status == 429 or (status == 403 and "rate limit" in message.lower())
    if rate_limited or status >= 500:
        return AgsError(message, status_code=status, retryable=True, retry_after=retry_after)
    if status == 401:
        return AgsError(message, status_code=status, unauthorized=True)
    return AgsError(message, status_code=status)


def platform_message(response: requests.Response) -> str:
    """Return the error text the platform sent, shortened, or the HTTP reason."""
    body = _json_or_none(response)
    text = None
    if isinstance(body, dict):
        for name in ("error_description", "message", "error", "errors", "reason"):
            value = body.get(name)
            if value:
                text = value if isinstance(value, str) else json.dumps(value)
                break
    if text is None:
        text = (response.text or "").strip() or (response.reason or "")
    text = " ".join(text.split())
    if len(text) > MAX_MESSAGE_LENGTH:
        text = text[: MAX_MESSAGE_LENGTH - 1] + "…"
    return f"HTTP {response.status_code}: {text}" if text else f"HTTP {response.status_code}"


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _json_body(response: requests.Response) -> Any:
    body = _json_or_none(response)
    if body is None:
        raise AgsError(
            f"The platform's answer from {response.url} is not JSON.",
            status_code=response.status_code,
        )
    return body
