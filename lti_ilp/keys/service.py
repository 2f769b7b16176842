"""Generating, encrypting, rotating and publishing the tool's signing keys.

Rotation rule: the JWKS publishes every next, current and previous key, and tokens are
signed with the current key only. ``rotate_keys`` turns the next key into the current one,
keeps the old current key published as previous, and creates a new next key. So a platform
that cached the JWKS before the rotation already holds the new signing key, and tokens
signed just before the rotation still verify against a freshly fetched JWKS. ``retire_key``
removes a previous (or next) key from the JWKS and erases its private half.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from jwcrypto.jwk import JWK
from sqlalchemy import select

from ..extensions import db, utcnow
from .models import KeyStatus, ToolKey

log = logging.getLogger(__name__)

KEY_SIZE_BITS = 2048

# A previous key stays published at least this long after it stopped signing, because
# client assertions and deep-linking responses signed just before a rotation live for up
# to five minutes.
RETIRE_GRACE = timedelta(minutes=10)


class SigningKeyError(RuntimeError):
    """The tool has no usable signing key."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: bytes


def _fernet() -> Fernet:
    return Fernet(current_app.config["ILP_SETTINGS"].key_encryption_key.encode())


def _public_jwk(private_key: rsa.RSAPrivateKey) -> dict:
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwk = JWK.from_pem(public_pem)
    public = json.loads(jwk.export_public())
    public["kid"] = jwk.thumbprint()
    public["alg"] = "RS256"
    public["use"] = "sig"
    return public


def generate_key() -> ToolKey:
    """Create a key. It becomes current when there is none, and next otherwise."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE_BITS)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = _public_jwk(private_key)
    has_current = current_key_row() is not None
    key = ToolKey(
        kid=public["kid"],
        status=KeyStatus.NEXT if has_current else KeyStatus.CURRENT,
        public_jwk=public,
        encrypted_private_key=_fernet().encrypt(private_pem),
        activated_at=None if has_current else utcnow(),
    )
    db.session.add(key)
    db.session.flush()
    log.info("generated tool key kid=%s status=%s", key.kid, key.status)
    return key


def ensure_current_key() -> ToolKey:
    return current_key_row() or generate_key()


def current_key_row() -> ToolKey | None:
    return db.session.execute(
        select(ToolKey).where(ToolKey.status == KeyStatus.CURRENT)
    ).scalar_one_or_none()


def list_keys() -> list[ToolKey]:
    return list(db.session.execute(select(ToolKey).order_by(ToolKey.id)).scalars())


def current_signing_key() -> SigningKey:
    row = current_key_row()
    if row is None:
        raise SigningKeyError("the tool has no signing key; run `lti-ilp keys generate`")
    return SigningKey(kid=row.kid, private_pem=_decrypt(row.encrypted_private_key))


@lru_cache(maxsize=16)
def _decrypt_cached(fernet_key: str, token: bytes) -> bytes:
    return Fernet(fernet_key.encode()).decrypt(token)


def _decrypt(token: bytes) -> bytes:
    fernet_key = current_app.config["ILP_SETTINGS"].key_encryption_key
    try:
        return _decrypt_cached(fernet_key, bytes(token))
    except InvalidToken as exc:
        raise SigningKeyError(
            "a stored private key cannot be decrypted; ILP_KEY_ENCRYPTION_KEY does not "
            "match the key it was encrypted with"
        ) from exc


def public_jwks() -> dict:
    """Return the JWKS that platforms use to check our signatures.

    It contains the next, current and previous keys, never a retired one.
    """
    rows = db.session.execute(
        select(ToolKey).where(ToolKey.status.in_(KeyStatus.PUBLISHED)).order_by(ToolKey.id)
    ).scalars()
    return {"keys": [dict(row.public_jwk) for row in rows]}


@dataclass(frozen=True)
class Rotation:
    previous: ToolKey
    current: ToolKey
    next: ToolKey
    # True when no next key existed, so the new current key was never published before.
    # Platforms that cached the JWKS then see an unknown kid and must fetch it again.
    current_was_unpublished: bool


def _oldest_with_status(status: str) -> ToolKey | None:
    return db.session.execute(
        select(ToolKey).where(ToolKey.status == status).order_by(ToolKey.id).limit(1)
    ).scalar_one_or_none()


def rotate_keys() -> Rotation:
    """Make the next key current, keep the old current key published, add a next key."""
    old_current = current_key_row()
    if old_current is None:
        raise SigningKeyError("the tool has no current key; run `lti-ilp keys generate`")

    promoted = _oldest_with_status(KeyStatus.NEXT)
    current_was_unpublished = promoted is None
    if promoted is None:
        promoted = generate_key()

    now = utcnow()
    old_current.status = KeyStatus.PREVIOUS
    db.session.flush()
    promoted.status = KeyStatus.CURRENT
    promoted.activated_at = now
    db.session.flush()
    new_next = generate_key()
    log.info(
        "rotated tool keys previous=%s current=%s next=%s",
        old_current.kid,
        promoted.kid,
        new_next.kid,
    )
    return Rotation(old_current, promoted, new_next, current_was_unpublished)


def retire_key(kid: str, *, force: bool = False) -> ToolKey:
    """Remove a next or previous key from the JWKS and erase its private key.

    The current key cannot be retired; rotate first. A previous key is kept unless
    ``force`` is set while the current key is younger than ``RETIRE_GRACE``, because every
    previous key stopped signing no later than the current key's activation.
    """
    key = find_key(kid)
    if key is None:
        raise SigningKeyError(f"no tool key has kid {kid!r}; see `lti-ilp keys list`")
    if key.status == KeyStatus.RETIRED:
        return key
    if key.status == KeyStatus.CURRENT:
        raise SigningKeyError(
            f"key {kid} is the current signing key; run `lti-ilp keys rotate` first"
        )
    current = current_key_row()
    superseded_at = current.activated_at if current is not None else None
    if key.status == KeyStatus.PREVIOUS and not force and superseded_at is not None:
        age = utcnow() - superseded_at
        if age < RETIRE_GRACE:
            wait_minutes = int((RETIRE_GRACE - age).total_seconds() // 60) + 1
            raise SigningKeyError(
                f"key {kid} stopped signing less than {RETIRE_GRACE.seconds // 60} minutes "
                f"ago, and tokens it signed may still be in use; retry in {wait_minutes} "
                "minutes, or pass --force"
            )

    key.status = KeyStatus.RETIRED
    key.retired_at = utcnow()
    key.encrypted_private_key = b""
    db.session.flush()
    log.info("retired tool key kid=%s", kid)
    return key


def retire_previous_keys(*, force: bool = False) -> list[ToolKey]:
    """Retire every previous key; see ``retire_key`` for the grace period."""
    rows = db.session.execute(
        select(ToolKey).where(ToolKey.status == KeyStatus.PREVIOUS).order_by(ToolKey.id)
    ).scalars()
    return [retire_key(row.kid, force=force) for row in list(rows)]


def find_key(kid: str) -> ToolKey | None:
    return db.session.execute(select(ToolKey).where(ToolKey.kid == kid)).scalar_one_or_none()


def key_role(key: ToolKey) -> str:
    """Describe what a key does now, for `keys list` and the admin console."""
    return {
        KeyStatus.NEXT: "published, signs after the next rotation",
        KeyStatus.CURRENT: "published, signs every token",
        KeyStatus.PREVIOUS: "published, signs nothing; retire it when no token needs it",
        KeyStatus.RETIRED: "not published, private key erased",
    }.get(key.status, "unknown status")
