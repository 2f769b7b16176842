"""Plan checkpoints: plan work that a teacher places in a course as a graded LMS link."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import UTCDateTime, db, utcnow
from ..people.models import Course, Person
from ..platforms.models import Deployment


class CheckpointKind(StrEnum):
    GOAL_PROGRESS = "goal_progress"
    REFLECTION = "reflection"
    EVIDENCE = "evidence"
    CHECKIN_PREPARATION = "checkin_preparation"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    CheckpointKind.GOAL_PROGRESS: "Goal progress check",
    CheckpointKind.REFLECTION: "Reflection",
    CheckpointKind.EVIDENCE: "Evidence due",
    CheckpointKind.CHECKIN_PREPARATION: "Check-in preparation",
}


class Checkpoint(db.Model):
    """A teacher's choice in the deep-linking dialog: kind, goal domain, points, window.

    ``public_id`` goes into the link's custom parameters and the line item's resourceId, so
    the internal id never leaves the tool.
    """

    __tablename__ = "checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    instructions: Mapped[str] = mapped_column(Text, default="")
    # A goal domain key such as "academic"; empty means any goal.
    goal_domain: Mapped[str] = mapped_column(String(64), default="")
    points: Mapped[float] = mapped_column(Float)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deployment: Mapped[Deployment] = relationship()
    created_by: Mapped[Person | None] = relationship()
    placements: Mapped[list[CheckpointPlacement]] = relationship(
        back_populates="checkpoint", order_by="CheckpointPlacement.id"
    )

    @property
    def kind_label(self) -> str:
        return CheckpointKind(self.kind).label

    @property
    def resource_id(self) -> str:
        """The line item's resourceId, which finds the line item when a launch has none."""
        return f"ilp-checkpoint-{self.public_id}"

    @property
    def tag(self) -> str:
        return f"ilp-{self.kind}"


class CheckpointPlacement(db.Model):
    """One LMS link to a checkpoint, with the line item that its scores go to.

    A checkpoint placed in two courses has two placements and two line items. The line item
    URL comes from the launch's AGS claim, or is found or created through the line items
    URL when the platform launches without one.
    """

    __tablename__ = "checkpoint_placement"
    __table_args__ = (UniqueConstraint("deployment_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(
        ForeignKey("checkpoint.id", ondelete="CASCADE"), index=True
    )
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"), index=True)
    lineitem_url: Mapped[str | None] = mapped_column(Text)
    lineitems_url: Mapped[str | None] = mapped_column(Text)
    # The AGS scopes the platform listed in the launch.
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    checkpoint: Mapped[Checkpoint] = relationship(back_populates="placements")
    deployment: Mapped[Deployment] = relationship()
    course: Mapped[Course | None] = relationship()


class CheckpointWork(db.Model):
    """A student's work on one checkpoint: the goal it tracks and what they handed in.

    The work belongs to the checkpoint, not to one placement, so a student who meets the
    same checkpoint in two courses does it once and is scored in both.
    """

    __tablename__ = "checkpoint_work"
    __table_args__ = (UniqueConstraint("checkpoint_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(
        ForeignKey("checkpoint.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    goal_id: Mapped[int | None] = mapped_column(
        ForeignKey("goal.id", ondelete="SET NULL"), index=True
    )
    # The reflection or check-in preparation text, or the evidence description.
    text: Mapped[str] = mapped_column(Text, default="")
    evidence_url: Mapped[str | None] = mapped_column(Text)
    # Percent progress of the goal at the last score, for goal progress checks.
    last_progress: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    checkpoint: Mapped[Checkpoint] = relationship()
    person: Mapped[Person] = relationship()
