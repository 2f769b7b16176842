"""The learning plan: profile, goals with progress history, action steps, evidence,
reflections, comments, and the records of who changed what."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..extensions import UTCDateTime, db, utcnow
from ..people.models import Person
from ..plan_templates.models import Cycle, PlanTemplate


class PlanStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    IN_REVIEW = "in_review"
    SIGNED = "signed"
    CLOSED = "closed"


class GoalStatus(StrEnum):
    ACTIVE = "active"
    MET = "met"
    REVISED = "revised"
    DROPPED = "dropped"


class Visibility(StrEnum):
    OWNER_AND_STAFF = "owner_and_staff"
    STAFF_ONLY = "staff_only"


class Plan(db.Model):
    """One plan per person per cycle. A person belongs to one deployment, so the plan is
    reached the same way from every course where the tool is placed."""

    __tablename__ = "plan"
    __table_args__ = (UniqueConstraint("person_id", "cycle_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("plan_template.id"))
    status: Mapped[str] = mapped_column(String(16), default=PlanStatus.DRAFT.value)
    # Answers to the template's profile prompts, keyed by prompt key.
    profile: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last time the plan's owner changed anything in it. Viewing does not count.
    last_touched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    signed_by: Mapped[Person | None] = relationship(foreign_keys=[signed_by_id])
    cycle: Mapped[Cycle] = relationship()
    template: Mapped[PlanTemplate | None] = relationship()
    goals: Mapped[list[Goal]] = relationship(
        back_populates="plan", order_by="Goal.id", cascade="all, delete-orphan"
    )

    @property
    def is_read_only(self) -> bool:
        return self.status in (PlanStatus.SIGNED.value, PlanStatus.CLOSED.value)


class Goal(db.Model):
    """A SMART goal: a statement, why it matters, a measure with baseline and target, a
    target date, a status and a history of progress entries."""

    __tablename__ = "goal"
    __table_args__ = (CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(64), default="academic")
    statement: Mapped[str] = mapped_column(Text)
    why_it_matters: Mapped[str] = mapped_column(Text, default="")
    measure: Mapped[str] = mapped_column(Text, default="")
    baseline: Mapped[float | None] = mapped_column(Float)
    target: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(64), default="")
    target_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=GoalStatus.ACTIVE.value)
    # Percent complete, 0 to 100; the latest progress entry sets it.
    progress: Mapped[int] = mapped_column(Integer, default=0)
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.OWNER_AND_STAFF.value)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    # The goal of an earlier cycle that this one continues.
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("goal.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    plan: Mapped[Plan] = relationship(back_populates="goals")
    steps: Mapped[list[ActionStep]] = relationship(
        back_populates="goal", order_by="ActionStep.id", cascade="all, delete-orphan"
    )
    progress_entries: Mapped[list[ProgressEntry]] = relationship(
        back_populates="goal", order_by="ProgressEntry.id", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status in (GoalStatus.ACTIVE.value, GoalStatus.REVISED.value)


class ProgressEntry(db.Model):
    __tablename__ = "progress_entry"
    __table_args__ = (CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"), index=True)
    progress: Mapped[int] = mapped_column(Integer)
    # The measured value in the goal's unit, when the goal has a numeric measure.
    value: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    goal: Mapped[Goal] = relationship(back_populates="progress_entries")
    author: Mapped[Person | None] = relationship()


class ActionStep(db.Model):
    __tablename__ = "action_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.OWNER_AND_STAFF.value)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    # Set when the step was agreed at a check-in.
    checkin_id: Mapped[int | None] = mapped_column(
        ForeignKey("checkin.id", ondelete="SET NULL", use_alter=True)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    goal: Mapped[Goal] = relationship(back_populates="steps")


evidence_goal = Table(
    "evidence_goal",
    db.metadata,
    Column("evidence_id", ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True),
    Column("goal_id", ForeignKey("goal.id", ondelete="CASCADE"), primary_key=True),
)


class Evidence(db.Model):
    """A link or an uploaded file that shows work towards one or more goals."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "link" or "file"
    url: Mapped[str | None] = mapped_column(Text)
    caption: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str | None] = mapped_column(String(255))
    # Chosen by the tool from the file's extension and signature, never taken from the upload.
    content_type: Mapped[str | None] = mapped_column(String(128))
    size: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.OWNER_AND_STAFF.value)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    goals: Mapped[list[Goal]] = relationship(secondary=evidence_goal, order_by="Goal.id")


class Reflection(db.Model):
    """An answer to one of the template's reflection prompts."""

    __tablename__ = "reflection"
    __table_args__ = (UniqueConstraint("plan_id", "prompt_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    prompt_key: Mapped[str] = mapped_column(String(64))
    prompt: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.OWNER_AND_STAFF.value)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Comment(db.Model):
    """A comment in the thread of one plan item, or of the plan itself."""

    __tablename__ = "plan_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    # "plan", "goal", "step", "evidence", "reflection" or "checkin".
    item_type: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.OWNER_AND_STAFF.value)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[Person] = relationship()


class StatusChange(db.Model):
    __tablename__ = "plan_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[Person | None] = relationship()


class AuditEntry(db.Model):
    """One changed field of one plan item: who changed it, when, and the old and new value."""

    __tablename__ = "plan_audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    item_type: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.OWNER_AND_STAFF.value)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor: Mapped[Person | None] = relationship()


class MentorAssignment(db.Model):
    """A mentor or advisor assigned to a learner, from the LMS's role_scope_mentor claim
    (source "lti") or by a coordinator in the tool (source "tool").

    The mentee is stored by ``sub`` so that an assignment can name a learner who has not
    launched yet; it always means the person with that ``sub`` in the same deployment.
    """

    __tablename__ = "mentor_assignment"
    __table_args__ = (UniqueConstraint("deployment_id", "mentor_id", "mentee_sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    mentee_sub: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(8))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CoordinatorGrant(db.Model):
    """Coordinator rights given in the tool to someone who is not an LMS administrator."""

    __tablename__ = "coordinator_grant"
    __table_args__ = (UniqueConstraint("deployment_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
