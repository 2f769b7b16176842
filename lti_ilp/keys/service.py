"""Generating, encrypting and publishing the tool's signing keys."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
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
    """Return the JWKS that platforms use to check our signatures: next and current keys."""
    rows = db.session.execute(
        select(ToolKey)
        .where(ToolKey.status.in_([KeyStatus.CURRENT, KeyStatus.NEXT]))
        .order_by(ToolKey.id)
    ).scalars()
    return {"keys": [dict(row.public_jwk) for row in rows]}
