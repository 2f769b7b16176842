"""Check-ins and conferences about one plan."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import UTCDateTime, db, utcnow
from ..people.models import Person

MODE_IN_PERSON = "in_person"
MODE_ONLINE = "online"
MODES = {MODE_IN_PERSON: "Face to face", MODE_ONLINE: "Online"}


class CheckIn(db.Model):
    __tablename__ = "checkin"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(16), default=MODE_IN_PERSON)
    meeting_link: Mapped[str | None] = mapped_column(Text)
    # Seen by the plan owner and staff.
    shared_notes: Mapped[str] = mapped_column(Text, default="")
    # Seen by staff only.
    staff_notes: Mapped[str] = mapped_column(Text, default="")
    # The agenda as generated when the check-in was created, so the record does not shift
    # when the plan changes later.
    agenda: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[Person] = relationship()
    participants: Mapped[list[CheckInParticipant]] = relationship(
        cascade="all, delete-orphan", order_by="CheckInParticipant.id"
    )


class CheckInParticipant(db.Model):
    __tablename__ = "checkin_participant"
    __table_args__ = (UniqueConstraint("checkin_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(
        ForeignKey("checkin.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))

    person: Mapped[Person] = relationship()
