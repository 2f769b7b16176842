"""Platform public keys: the JWKS is fetched once, shared in the database, and fetched
again (at most once per refetch interval) when a token names a kid it does not contain."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from functools import lru_cache

import requests
from flask import current_app
from jwcrypto.jwk import JWK

from ..extensions import db, upsert_insert, utcnow
from ..http import http_session
from ..platforms.models import PlatformKeySet, Registration
from .errors import LaunchNotAuthentic

log = logging.getLogger(__name__)


class KeySetUnavailable(LaunchNotAuthentic):
    title = "The LMS's signing keys could not be loaded"


def _match_key(keys: dict, kid: str) -> dict | None:
    for key in keys.get("keys", []):
        if not isinstance(key, dict) or key.get("kid") != kid:
            continue
        if key.get("kty") != "RSA":
            continue
        # Brightspace publishes keys without "alg"; an RSA key then means RS256.
        if key.get("alg", "RS256") != "RS256":
            continue
        return key
    return None


def _fetch(registration: Registration) -> dict:
    url = registration.key_set_url
    try:
        response = http_session().get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        keys = response.json()
    except (requests.RequestException, ValueError) as exc:
        log.warning(
            "platform JWKS fetch failed registration=%s url=%s error=%s",
            registration.id,
            url,
            type(exc).__name__,
        )
        raise KeySetUnavailable(
            f"The LMS's public key set at {url} could not be loaded.",
            "Ask your LMS administrator to check the tool's key set URL, then try again.",
            reason="jwks_unavailable",
        ) from exc
    if not isinstance(keys, dict) or not isinstance(keys.get("keys"), list):
        raise KeySetUnavailable(
            f'The LMS\'s public key set at {url} is not a JWKS (no "keys" list).',
            "Ask your LMS administrator to check the tool's key set URL.",
            reason="jwks_invalid",
        )
    return keys


def _store(registration: Registration, keys: dict) -> None:
    """Insert or replace the cached JWKS in one statement.

    The first launches from a platform often reach several worker processes at the same
    moment, and each of them fetches the JWKS, so a plain insert would fail in all but one.
    """
    statement = upsert_insert(PlatformKeySet).values(
        registration_id=registration.id, keys=keys, fetched_at=utcnow()
    )
    statement = statement.on_conflict_do_update(
        index_elements=[PlatformKeySet.registration_id],
        set_={
            "keys": statement.excluded["keys"],
            "fetched_at": statement.excluded["fetched_at"],
        },
    )
    db.session.execute(statement)
    # The session may hold the row, or its absence, as it was before the statement.
    stale = registration.key_set
    if stale is not None:
        db.session.expire(stale)
    db.session.expire(registration, ["key_set"])


def platform_public_key_pem(registration: Registration, kid: str) -> bytes:
    """Return the PEM of the platform key named ``kid``, fetching the JWKS when needed."""
    settings = current_app.config["ILP_SETTINGS"]
    cached = registration.key_set
    now = utcnow()
    if cached is not None:
        age = now - cached.fetched_at
        fresh = age < timedelta(seconds=settings.jwks_cache_ttl_seconds)
        key = _match_key(cached.keys, kid) if fresh else None
        if key is not None:
            return _to_pem(key)
        may_refetch = age >= timedelta(seconds=settings.jwks_refetch_interval_seconds)
        if fresh and not may_refetch:
            raise _unknown_kid(registration, kid)

    keys = _fetch(registration)
    _store(registration, keys)
    log.info("fetched platform JWKS registration=%s keys=%d", registration.id, len(keys["keys"]))
    key = _match_key(keys, kid)
    if key is None:
        raise _unknown_kid(registration, kid)
    return _to_pem(key)


def _unknown_kid(registration: Registration, kid: str) -> LaunchNotAuthentic:
    return LaunchNotAuthentic(
        f"The launch was signed with key id {kid!r}, which is not in the LMS's key set at "
        f"{registration.key_set_url}.",
        "Ask your LMS administrator to check that the key set URL registered with the plan "
        "tool belongs to this LMS.",
        reason="unknown_kid",
    )


def _to_pem(key: dict) -> bytes:
    try:
        return _jwk_json_to_pem(json.dumps(key, sort_keys=True))
    except (ValueError, TypeError) as exc:
        raise LaunchNotAuthentic(
            "The LMS's signing key could not be read.", reason="bad_platform_key"
        ) from exc


@lru_cache(maxsize=256)
def _jwk_json_to_pem(jwk_json: str) -> bytes:
    """Convert one public JWK to PEM, cached in process memory by the JWK's own content.

    jwcrypto 1.6 took about 0.2 ms per conversion on a 2-core test machine, which every
    launch would pay. The cache key is the whole JWK, so a platform that publishes a new
    key under an old kid gets a new entry. Which keys are valid is still decided by the
    JWKS stored in the database.
    """
    return JWK.from_json(jwk_json).export_to_pem()
