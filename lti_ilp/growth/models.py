"""Staff growth: the cohort's resource library, discussion threads and meetings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import UTCDateTime, db, utcnow
from ..people.models import Person

RESOURCE_KINDS = {"webinar": "Webinar", "mini_course": "Mini-course", "link": "Link"}


class Resource(db.Model):
    __tablename__ = "growth_resource"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GoalResource(db.Model):
    """A library resource attached to a goal, and when its owner marked it done."""

    __tablename__ = "goal_resource"
    __table_args__ = (UniqueConstraint("goal_id", "resource_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"), index=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("growth_resource.id", ondelete="CASCADE"), index=True
    )
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    resource: Mapped[Resource] = relationship()


class DiscussionThread(db.Model):
    __tablename__ = "discussion_thread"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[Person] = relationship()
    posts: Mapped[list[DiscussionPost]] = relationship(
        cascade="all, delete-orphan", order_by="DiscussionPost.id"
    )


class DiscussionPost(db.Model):
    __tablename__ = "discussion_post"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("discussion_thread.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[Person] = relationship()


class Meeting(db.Model):
    """An optional face-to-face meeting that cohort members sign up for."""

    __tablename__ = "growth_meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    signups: Mapped[list[MeetingSignup]] = relationship(
        cascade="all, delete-orphan", order_by="MeetingSignup.id"
    )


class MeetingSignup(db.Model):
    __tablename__ = "growth_meeting_signup"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("growth_meeting.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship()
