"""LMS registrations and their deployments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import UTCDateTime, db, utcnow


class Registration(db.Model):
    """One tool registration in one LMS, keyed by (issuer, client_id).

    Canvas Cloud and Blackboard share one issuer across customers, so the issuer alone never
    identifies a registration.
    """

    __tablename__ = "registration"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(Text)
    auth_token_url: Mapped[str] = mapped_column(Text)
    # Brightspace expects a token audience that differs from its token URL.
    auth_token_audience: Mapped[str | None] = mapped_column(Text)
    key_set_url: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="registration", order_by="Deployment.id"
    )
    key_set: Mapped[PlatformKeySet | None] = relationship(back_populates="registration")

    def __repr__(self) -> str:
        return f"<Registration {self.id} {self.issuer} {self.client_id}>"


class Deployment(db.Model):
    """A deployment id under a registration: the tenant that plans belong to.

    Deployment ids are opaque strings. Canvas makes a new one on each course-level install
    and on course copy.
    """

    __tablename__ = "deployment"
    __table_args__ = (UniqueConstraint("registration_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    deployment_id: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="deployments")


class PlatformKeySet(db.Model):
    """The last JWKS fetched from a platform, shared by every worker process."""

    __tablename__ = "platform_key_set"

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), primary_key=True
    )
    keys: Mapped[dict] = mapped_column(JSON)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="key_set")
