"""Meaningful activity on plans: edits, progress updates, evidence, reflections, check-ins.

Viewing a plan never creates a row here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import UTCDateTime, db, utcnow


class PlanActivity(db.Model):
    """One meaningful change to a plan, or to one of its goals when ``goal_id`` is set."""

    __tablename__ = "plan_activity"
    __table_args__ = (
        Index("ix_plan_activity_plan_id_created_at", "plan_id", "created_at"),
        Index("ix_plan_activity_goal_id_created_at", "goal_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goal.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # True when the plan's owner made the change, False for staff.
    by_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    # The event's kind, e.g. "goal_added", "progress", "evidence", "reflection", "checkin".
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaceReset(db.Model):
    """A later start for every goal's pace line in one plan.

    A learner who enrols late in a self-paced program is measured from the day they
    joined, not from the day their goals were written.
    """

    __tablename__ = "pace_reset"

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # "late_enrolment" or "staff".
    reason: Mapped[str] = mapped_column(String(32))
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
