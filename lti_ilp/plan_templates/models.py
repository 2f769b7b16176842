"""Plan templates, school-year cycles and cohorts.

A template decides what a plan asks for: profile prompts, goal domains, how many goals are
required, reflection prompts and the check-in cadence. Editing a template makes a new
version, so plans and cohorts keep the version they were built from.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import UTCDateTime, db, utcnow

AUDIENCE_LEARNER = "learner"
AUDIENCE_STAFF = "staff"


class PlanTemplate(db.Model):
    __tablename__ = "plan_template"
    __table_args__ = (UniqueConstraint("deployment_id", "key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    # Stable across versions; each edit adds a row with the same key and version + 1.
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    name: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(16), default=AUDIENCE_LEARNER)
    # [{"key": ..., "label": ..., "hint": ...}]
    profile_prompts: Mapped[list] = mapped_column(JSON, default=list)
    # [{"key": ..., "label": ...}]
    goal_domains: Mapped[list] = mapped_column(JSON, default=list)
    goals_required: Mapped[int] = mapped_column(Integer, default=2)
    # [{"key": ..., "label": ..., "stage": "mid_year" | "end_of_year"}]
    reflection_prompts: Mapped[list] = mapped_column(JSON, default=list)
    checkin_cadence_days: Mapped[int] = mapped_column(Integer, default=30)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # Only the newest version of a key is offered for new cohorts.
    is_latest: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def domain_label(self, key: str) -> str:
        for domain in self.goal_domains:
            if domain["key"] == key:
                return domain["label"]
        return key.replace("_", " ").capitalize()


class Cycle(db.Model):
    """One school year of a deployment. Exactly one cycle per deployment is current."""

    __tablename__ = "cycle"
    __table_args__ = (UniqueConstraint("deployment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Cohort(db.Model):
    """A group of plan owners that share a template: a program's class or a PD cohort.

    Learners of the linked course join the cohort by launching from it; others are added
    by a coordinator.
    """

    __tablename__ = "cohort"

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    template_id: Mapped[int] = mapped_column(ForeignKey("plan_template.id"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    template: Mapped[PlanTemplate] = relationship()


class CohortMember(db.Model):
    __tablename__ = "cohort_member"
    __table_args__ = (UniqueConstraint("cohort_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
