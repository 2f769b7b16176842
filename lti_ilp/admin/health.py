"""Platform health checks: can the tool read the platform's JWKS and get an access token?"""

from __future__ import annotations

import logging

import requests

from ..extensions import db
from ..http import http_session
from ..install.tool_profile import SCOPES
from ..keys.service import SigningKeyError, current_signing_key
from ..lti.ags import AgsError, TokenEndpoint, request_access_token
from ..platforms.models import Registration
from ..registration.service import find_dynamic_record
from .models import PlatformHealthCheck

log = logging.getLogger(__name__)


def check_platform(registration: Registration) -> PlatformHealthCheck:
    """Check one registration now and store the result; the caller commits."""
    jwks_ok, jwks_detail = _check_jwks(registration)
    token_ok, token_detail, granted = _check_token_endpoint(registration)
    result = PlatformHealthCheck(
        registration_id=registration.id,
        jwks_ok=jwks_ok,
        jwks_detail=jwks_detail,
        token_ok=token_ok,
        token_detail=token_detail,
        granted_scopes=granted,
    )
    db.session.add(result)
    db.session.flush()
    log.info(
        "platform health checked registration=%s jwks_ok=%s token_ok=%s",
        registration.id,
        jwks_ok,
        token_ok,
    )
    return result


def _check_jwks(registration: Registration) -> tuple[bool, str]:
    url = registration.key_set_url
    try:
        response = http_session().get(url, headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        return False, f"Could not reach {url} ({type(exc).__name__})."
    if response.status_code != 200:
        return False, f"{url} answered HTTP {response.status_code}."
    try:
        body = response.json()
    except ValueError:
        return False, f"{url} did not return JSON."
    keys = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(keys, list):
        return False, f'{url} returned JSON without a "keys" list.'
    usable = [
        key for key in keys if isinstance(key, dict) and key.get("kty") == "RSA" and key.get("kid")
    ]
    if not usable:
        return False, f"{url} lists no RSA key with a kid, so no launch can be verified."
    return True, f"{len(usable)} RSA signing key(s) published at {url}."


def _requested_scopes(registration: Registration) -> list[str]:
    record = find_dynamic_record(registration)
    if record is not None and record.granted_scopes:
        return list(record.granted_scopes)
    return list(SCOPES)


def _check_token_endpoint(registration: Registration) -> tuple[bool, str, list | None]:
    """Request a real access token, exactly as grade and roster sync do."""
    requested = _requested_scopes(registration)
    endpoint = TokenEndpoint(
        client_id=registration.client_id,
        token_url=registration.auth_token_url,
        audience=registration.auth_token_audience,
    )
    try:
        token = request_access_token(http_session(), endpoint, current_signing_key(), requested)
    except SigningKeyError as exc:
        return False, f"The tool cannot sign a token request: {exc}.", None
    except AgsError as exc:
        status = f"HTTP {exc.status_code}" if exc.status_code else "no answer"
        return (
            False,
            f"The token endpoint {registration.auth_token_url} refused a token ({status}): "
            f"{exc.message}",
            None,
        )

    granted = list(token.scopes)
    missing = [name for name in requested if name not in granted]
    if missing:
        return (
            True,
            "An access token was issued, but without these scopes: "
            + ", ".join(missing)
            + ". Grade or roster sync that needs them waits until the LMS admin grants "
            "them.",
            granted,
        )
    return True, "An access token was issued with every requested scope.", granted


def latest_checks() -> dict[int, PlatformHealthCheck]:
    """Return the newest health check per registration id."""
    rows = db.session.execute(
        db.select(PlatformHealthCheck).order_by(PlatformHealthCheck.id)
    ).scalars()
    return {row.registration_id: row for row in rows}
