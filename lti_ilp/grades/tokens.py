"""Access tokens for platform services, cached in the database for every worker."""

from __future__ import annotations

import logging
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db, utcnow
from ..http import http_session
from ..keys.service import current_signing_key
from ..lti.ags import AgsError, TokenEndpoint, request_access_token
from ..platforms.models import Registration
from .models import ServiceToken

log = logging.getLogger(__name__)

# A cached token is used only while it stays valid for at least this long, so a request
# never starts with a token that expires on the way.
EXPIRY_MARGIN = timedelta(seconds=60)


def _fernet() -> Fernet:
    return Fernet(current_app.config["ILP_SETTINGS"].key_encryption_key.encode())


def _scope_key(scopes: list[str]) -> str:
    return " ".join(sorted(set(scopes)))


def access_token(registration: Registration, scopes: list[str]) -> str:
    """Return a valid access token for ``scopes``, from the cache or the token endpoint.

    Commits the session when it stores a new token. Raises ``AgsError`` when the token
    endpoint rejects the request.
    """
    key = _scope_key(scopes)
    row = db.session.execute(
        select(ServiceToken).where(
            ServiceToken.registration_id == registration.id, ServiceToken.scopes == key
        )
    ).scalar_one_or_none()
    if row is not None and row.expires_at - EXPIRY_MARGIN > utcnow():
        try:
            return _fernet().decrypt(bytes(row.encrypted_token)).decode()
        except InvalidToken:
            log.warning("cached access token cannot be decrypted registration=%s", registration.id)

    endpoint = TokenEndpoint(
        client_id=registration.client_id,
        token_url=registration.auth_token_url,
        audience=registration.auth_token_audience,
    )
    try:
        granted = request_access_token(
            http_session(), endpoint, current_signing_key(), key.split()
        )
    except AgsError as exc:
        # A rejected token request (such as invalid_scope while an admin has not granted a
        # scope yet) is retried later, so scores wait instead of failing for good.
        log.warning(
            "token request failed registration=%s client_id=%s status=%s",
            registration.id,
            registration.client_id,
            exc.status_code,
        )
        raise AgsError(
            f"The LMS rejected the plan tool's access token request ({exc.message}). Check "
            "that the plan tool's registration grants the Assignment and Grade Services "
            "scopes.",
            status_code=exc.status_code,
            retryable=True,
            retry_after=exc.retry_after,
        ) from exc
    log.info(
        "fetched access token registration=%s client_id=%s expires_in=%s",
        registration.id,
        registration.client_id,
        granted.expires_in,
    )
    _store(registration, key, granted.access_token, granted.expires_in)
    return granted.access_token


def _store(registration: Registration, key: str, token: str, expires_in: int) -> None:
    # Two workers may fetch a token at the same moment; the later one replaces the row.
    db.session.execute(
        delete(ServiceToken).where(
            ServiceToken.registration_id == registration.id, ServiceToken.scopes == key
        )
    )
    db.session.add(
        ServiceToken(
            registration_id=registration.id,
            scopes=key,
            encrypted_token=_fernet().encrypt(token.encode()),
            expires_at=utcnow() + timedelta(seconds=expires_in),
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        # Another worker stored the same key between our delete and insert; its token is
        # as good as ours, so drop ours.
        db.session.rollback()
        log.info("access token stored by another worker registration=%s", registration.id)


def forget_access_token(registration: Registration, scopes: list[str]) -> None:
    """Drop a cached token that the platform rejected (HTTP 401)."""
    db.session.execute(
        delete(ServiceToken).where(
            ServiceToken.registration_id == registration.id,
            ServiceToken.scopes == _scope_key(scopes),
        )
    )
    db.session.commit()
