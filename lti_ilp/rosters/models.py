"""Course rosters from Names and Role Provisioning (NRPS): who is in each course, including
learners who have never launched the tool, and what changed between syncs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import UTCDateTime, db, utcnow
from ..people.models import Course, Person


class RosterSource(db.Model):
    """Where and when a course's roster is synced, and how the last sync went."""

    __tablename__ = "roster_source"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), primary_key=True
    )
    # The launch's context_memberships_url; None when the platform did not grant NRPS.
    memberships_url: Mapped[str | None] = mapped_column(Text)
    # The resource link of the launch that asked for the sync, sent as ``rlid``.
    resource_link_id: Mapped[str | None] = mapped_column(String(255))
    # Set by a platform that answered a request with ``rlid`` with an error.
    rlid_rejected: Mapped[bool] = mapped_column(Boolean, default=False)
    nrps_granted: Mapped[bool] = mapped_column(Boolean, default=False)
    sync_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "ok", "failed" or "not_granted".
    last_status: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(Text)
    member_count: Mapped[int | None] = mapped_column(Integer)

    course: Mapped[Course] = relationship()


MEMBER_ACTIVE = "active"
MEMBER_DROPPED = "dropped"


class RosterMember(db.Model):
    """A person on a course's NRPS roster, present or dropped."""

    __tablename__ = "roster_member"
    __table_args__ = (UniqueConstraint("course_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    roles: Mapped[list] = mapped_column(JSON, default=list)
    course_role: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=MEMBER_ACTIVE)
    # True when the roster sync created the Person: they had never launched the tool.
    created_from_roster: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dropped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship()


CHANGE_ADDED = "added"
CHANGE_DROPPED = "dropped"
CHANGE_RETURNED = "returned"
CHANGE_ROLE = "role_changed"


class RosterChange(db.Model):
    """One change seen by a roster sync: who was added, who dropped, who came back."""

    __tablename__ = "roster_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    change: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship()
