"""The grade outbox and the shared cache of platform access tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..checkpoints.models import CheckpointPlacement
from ..extensions import UTCDateTime, db, utcnow
from ..people.models import Person
from ..platforms.models import Registration


class ScoreStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    # The platform rejected the score for good, or retries ran out. A teacher can retry it.
    FAILED = "failed"


class OutboxScore(db.Model):
    """A score on its way to a platform's line item.

    A row is added in the same transaction as the plan change that caused it, so a
    committed change always has its score row. Workers claim rows with a lease
    (``lease_owner``, ``lease_expires_at``): a worker that dies mid-send leaves the row
    pending, and another worker sends it after the lease runs out.
    """

    __tablename__ = "grade_outbox"
    __table_args__ = (
        Index("ix_grade_outbox_due", "status", "next_attempt_at"),
        Index("ix_grade_outbox_target", "placement_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("checkpoint_placement.id", ondelete="CASCADE")
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    score_given: Mapped[float] = mapped_column(Float)
    score_maximum: Mapped[float] = mapped_column(Float)
    activity_progress: Mapped[str] = mapped_column(String(32))
    grading_progress: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    # The score's own timestamp; strictly increasing per person and placement.
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=ScoreStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    # The platform's own message from the last failed attempt.
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    placement: Mapped[CheckpointPlacement] = relationship()
    person: Mapped[Person] = relationship()


class ServiceToken(db.Model):
    """An access token from a platform's token endpoint, shared by every worker.

    The token is stored Fernet-encrypted, like the tool's private keys.
    """

    __tablename__ = "service_token"
    __table_args__ = (UniqueConstraint("registration_id", "scopes"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
    # The requested scopes, sorted and separated by spaces.
    scopes: Mapped[str] = mapped_column(String(1000))
    encrypted_token: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registration: Mapped[Registration] = relationship()
