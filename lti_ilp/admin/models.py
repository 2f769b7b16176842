"""Admin console records: admin users, launch failures and platform health checks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import UTCDateTime, db, utcnow


class AdminUser(db.Model):
    """A console login created with ``lti-ilp admin create``."""

    __tablename__ = "admin_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    # A werkzeug.security hash (scrypt); never the password itself.
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LaunchFailure(db.Model):
    """A rejected login or launch, with the claims it carried (personal fields masked)."""

    __tablename__ = "launch_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # "login" or "launch"
    step: Mapped[str] = mapped_column(String(16))
    status: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    issuer: Mapped[str | None] = mapped_column(String(255))
    client_id: Mapped[str | None] = mapped_column(String(255))
    deployment_id: Mapped[str | None] = mapped_column(String(255))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="SET NULL"), index=True
    )
    claims: Mapped[dict | None] = mapped_column(JSON)


class PlatformHealthCheck(db.Model):
    """The result of checking one registration's JWKS and token endpoint."""

    __tablename__ = "platform_health_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    jwks_ok: Mapped[bool] = mapped_column(Boolean)
    jwks_detail: Mapped[str] = mapped_column(Text)
    token_ok: Mapped[bool] = mapped_column(Boolean)
    token_detail: Mapped[str] = mapped_column(Text)
    granted_scopes: Mapped[list | None] = mapped_column(JSON)
