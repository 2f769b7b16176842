"""Check-ins that staff scheduled from the triage dashboard."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import UTCDateTime, db, utcnow


class ScheduledCheckIn(db.Model):
    """A check-in planned for a day; the check-in itself is recorded when it is held."""

    __tablename__ = "scheduled_checkin"
    __table_args__ = (UniqueConstraint("plan_id", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    scheduled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
