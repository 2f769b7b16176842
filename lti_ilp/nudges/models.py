"""Nudge rules, the nudge log and the email outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import UTCDateTime, db, utcnow
from ..people.models import Person

LEVEL_STUDENT = "student"
LEVEL_STAFF = "staff"
LEVEL_COORDINATOR = "coordinator"
LEVEL_MANUAL = "manual"
LEVEL_LABELS = {
    LEVEL_STUDENT: "Plan owner",
    LEVEL_STAFF: "Teacher or mentor",
    LEVEL_COORDINATOR: "Coordinator",
    LEVEL_MANUAL: "Sent by staff",
}


class NudgeRule(db.Model):
    """When to nudge about a quiet plan, for a deployment, a template key or a cohort.

    The most specific active rule wins: cohort, then template key, then the deployment's
    rule with neither set. Days count from the plan's last meaningful activity.
    """

    __tablename__ = "nudge_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    template_key: Mapped[str | None] = mapped_column(String(64))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"))
    student_after_days: Mapped[int] = mapped_column(Integer, default=7)
    staff_after_days: Mapped[int] = mapped_column(Integer, default=14)
    coordinator_after_days: Mapped[int] = mapped_column(Integer, default=21)
    # Local hours [start, end) in which nothing is sent; equal values mean no quiet hours.
    quiet_start_hour: Mapped[int] = mapped_column(Integer, default=20)
    quiet_end_hour: Mapped[int] = mapped_column(Integer, default=7)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Nudge(db.Model):
    """One nudge sent to one person: the nudge log.

    ``window_key`` names the quiet period the nudge belongs to (the plan's last activity
    time for automatic nudges, the day for nudges sent by staff). The unique constraint
    makes each level go to each person at most once per window, even with two workers.
    """

    __tablename__ = "nudge"
    __table_args__ = (
        UniqueConstraint("plan_id", "level", "recipient_id", "window_key"),
        Index("ix_nudge_recipient_id_dismissed_at", "recipient_id", "dismissed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    # None for a nudge to someone who has no plan yet (a learner who never launched).
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan.id", ondelete="CASCADE"), index=True
    )
    # The person the nudge is about: the plan owner.
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    recipient_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(16))
    window_key: Mapped[str] = mapped_column(String(64))
    stale_days: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    emailed: Mapped[bool] = mapped_column(Boolean, default=False)
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the recipient next made a meaningful change to the plan.
    acted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipient: Mapped[Person] = relationship(foreign_keys=[recipient_id])
    subject: Mapped[Person] = relationship(foreign_keys=[subject_id])


EMAIL_PENDING = "pending"
EMAIL_SENT = "sent"
EMAIL_FAILED = "failed"
EMAIL_KEPT = "kept_in_outbox"


class OutboxEmail(db.Model):
    """An email waiting for the worker, or kept in the outbox when SMTP is not used."""

    __tablename__ = "outbox_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    nudge_id: Mapped[int | None] = mapped_column(ForeignKey("nudge.id", ondelete="SET NULL"))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    to_address: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=EMAIL_PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
