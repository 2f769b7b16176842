"""People and courses as the LMS reports them at launch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import UTCDateTime, db, utcnow
from ..platforms.models import Deployment


class Person(db.Model):
    """A user of one deployment, keyed by the platform's ``sub``.

    The same ``sub`` under another deployment or platform is a different person, so one
    tenant never sees another's data.
    """

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("deployment_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    sub: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(Text)
    given_name: Mapped[str | None] = mapped_column(Text)
    family_name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_launch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    deployment: Mapped[Deployment] = relationship()

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        parts = [part for part in (self.given_name, self.family_name) if part]
        if parts:
            return " ".join(parts)
        return f"Learner {self.id}"


class Course(db.Model):
    """An LMS context (usually a course section) under one deployment."""

    __tablename__ = "course"
    __table_args__ = (UniqueConstraint("deployment_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Enrolment(db.Model):
    """A person's membership in a course, with the roles of their latest launch."""

    __tablename__ = "enrolment"
    __table_args__ = (UniqueConstraint("course_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    # "learner", "instructor" or "none"; decided from membership roles only.
    course_role: Mapped[str] = mapped_column(String(32))
    roles: Mapped[list] = mapped_column(JSON, default=list)
    first_launch_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_launch_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship()
    person: Mapped[Person] = relationship()
