"""The tool's own RSA signing keys.

A key moves through four states, always forward:

* ``next``: published in the JWKS, never signs yet. Platforms that cache the JWKS pick it up
  before it is used.
* ``current``: published and signs every token. There is at most one.
* ``previous``: the key that was current before the last rotation. It signs nothing, but
  stays published so that tokens signed just before the rotation still verify.
* ``retired``: removed from the JWKS; its private key is erased.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import UTCDateTime, db, utcnow


class KeyStatus:
    NEXT = "next"
    CURRENT = "current"
    PREVIOUS = "previous"
    RETIRED = "retired"

    PUBLISHED = (NEXT, CURRENT, PREVIOUS)


class ToolKey(db.Model):
    """An RSA key pair. The private half is stored only Fernet-encrypted."""

    __tablename__ = "tool_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    # RFC 7638 thumbprint of the public key.
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    public_jwk: Mapped[dict] = mapped_column(JSON)
    encrypted_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
