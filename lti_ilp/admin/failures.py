"""Recording rejected logins and launches for the admin console.

Each failure keeps its reason and the claims the token carried, with personal fields
masked, so an admin can fix a broken install without reading server logs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from typing import Any

from flask import current_app
from sqlalchemy import delete, select

from ..extensions import db
from ..lti.errors import LaunchError
from ..platforms.service import find_registration
from .models import LaunchFailure

log = logging.getLogger(__name__)

MAX_STORED_FAILURES = 1000
MAX_CLAIMS_CHARS = 20_000
MASK = "[masked]"

LIS = "https://purl.imsglobal.org/spec/lti/claim/lis"
CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"
DEPLOYMENT_ID = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"

# OpenID Connect standard claims that describe a person.
PERSONAL_CLAIMS = frozenset(
    {
        "name",
        "given_name",
        "family_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "email",
        "picture",
        "profile",
        "website",
        "phone_number",
        "address",
        "birthdate",
        "gender",
        LIS,
    }
)
# Custom parameter names that usually carry substituted personal values ($Person.name...).
PERSONAL_CUSTOM_WORDS = ("name", "email", "person", "user", "login", "sourcedid", "sis")

# Login parameters worth keeping; login_hint and lti_message_hint are opaque user data.
LOGIN_PARAMETERS = ("iss", "client_id", "lti_deployment_id", "deployment_id", "target_link_uri")


def masked_subject(sub: object) -> str:
    """Return a stable pseudonym for ``sub``: equal subjects get equal pseudonyms."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, b"sub:" + str(sub).encode(), hashlib.sha256).hexdigest()
    return f"{MASK} #{digest[:10]}"


def mask_claims(claims: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``claims`` with personal values replaced."""
    masked: dict[str, Any] = {}
    for name, value in claims.items():
        if name in PERSONAL_CLAIMS:
            masked[name] = MASK
        elif name == "sub":
            masked[name] = masked_subject(value)
        elif name == CUSTOM and isinstance(value, dict):
            masked[name] = {
                key: MASK
                if any(word in str(key).lower() for word in PERSONAL_CUSTOM_WORDS)
                else custom_value
                for key, custom_value in value.items()
            }
        else:
            masked[name] = value
    text = json.dumps(masked, default=str)
    if len(text) > MAX_CLAIMS_CHARS:
        return {
            "note": f"claims too large to store ({len(text)} characters)",
            "iss": masked.get("iss"),
            "aud": masked.get("aud"),
        }
    return json.loads(text)


def record_launch_failure(
    error: LaunchError, step: str, login_parameters: Mapping[str, str] | None = None
) -> LaunchFailure:
    """Store one failure in the current transaction; the caller commits."""
    claims = getattr(error, "unverified_claims", None)
    context: dict[str, Any] = {}
    if isinstance(claims, Mapping):
        context = mask_claims(claims)
    elif login_parameters is not None:
        context = {
            name: login_parameters[name] for name in LOGIN_PARAMETERS if login_parameters.get(name)
        }

    issuer = _text(context.get("iss"))
    client_id = _client_id(context)
    registration_id = getattr(error, "registration_id", None)
    if registration_id is None and issuer and client_id:
        registration = find_registration(issuer, client_id)
        registration_id = registration.id if registration else None

    failure = LaunchFailure(
        step=step,
        status=error.status,
        reason=error.reason[:64],
        title=error.title[:255],
        message=error.message,
        issuer=issuer,
        client_id=client_id,
        deployment_id=_text(
            context.get(DEPLOYMENT_ID)
            or context.get("lti_deployment_id")
            or context.get("deployment_id")
        ),
        registration_id=registration_id,
        claims=context or None,
    )
    db.session.add(failure)
    db.session.flush()
    _prune()
    return failure


def _text(value: object) -> str | None:
    return value[:255] if isinstance(value, str) and value else None


def _client_id(context: Mapping[str, Any]) -> str | None:
    if context.get("client_id"):
        return _text(context["client_id"])
    if context.get("azp"):
        return _text(context["azp"])
    aud = context.get("aud")
    if isinstance(aud, list):
        return _text(aud[0]) if len(aud) == 1 else None
    return _text(aud)


def _prune() -> None:
    cutoff = db.session.execute(
        select(LaunchFailure.id)
        .order_by(LaunchFailure.id.desc())
        .offset(MAX_STORED_FAILURES)
        .limit(1)
    ).scalar_one_or_none()
    if cutoff is not None:
        db.session.execute(delete(LaunchFailure).where(LaunchFailure.id <= cutoff))


def recent_failures(limit: int = 50, registration_id: int | None = None) -> list[LaunchFailure]:
    query = select(LaunchFailure).order_by(LaunchFailure.id.desc()).limit(limit)
    if registration_id is not None:
        query = query.where(LaunchFailure.registration_id == registration_id)
    return list(db.session.execute(query).scalars())
