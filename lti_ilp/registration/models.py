"""Dynamic Registration records: access codes, what each platform granted, approval rule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import UTCDateTime, db, utcnow
from ..platforms.models import Registration


class RegistrationAccessCode(db.Model):
    """A one-time code that opens the registration page; only its SHA-256 hash is stored."""

    __tablename__ = "registration_access_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="SET NULL")
    )


class DynamicRegistration(db.Model):
    """The Dynamic Registration record of a registration: its source and granted scopes."""

    __tablename__ = "dynamic_registration"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), unique=True
    )
    openid_configuration_url: Mapped[str] = mapped_column(Text)
    product_family_code: Mapped[str | None] = mapped_column(String(255))
    platform_version: Mapped[str | None] = mapped_column(String(255))
    requested_scopes: Mapped[list] = mapped_column(JSON, default=list)
    # The scopes in the platform's registration response; None when it sent no "scope".
    granted_scopes: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who approved it: "cli", "rule", "admin:<username>" or "lms-admin:<person id>".
    approved_by: Mapped[str | None] = mapped_column(String(255))

    registration: Mapped[Registration] = relationship()


class ApprovalRule:
    MANUAL = "manual"
    TRUSTED_ISSUERS = "trusted_issuers"

    ALL = (MANUAL, TRUSTED_ISSUERS)


class RegistrationPolicy(db.Model):
    """The approval rule for registrations made through Dynamic Registration (one row).

    ``manual``: every new registration waits for an admin. ``trusted_issuers``: a
    registration from an issuer on ``trusted_issuers`` is active at once; others wait.
    """

    __tablename__ = "registration_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    approval_rule: Mapped[str] = mapped_column(String(32), default=ApprovalRule.MANUAL)
    trusted_issuers: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
