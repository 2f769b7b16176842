"""The privacy log: one row per export, deletion or retention purge."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import UTCDateTime, db, utcnow

ACTION_EXPORT = "export"
ACTION_DELETE = "delete"
ACTION_PURGE_PLAN = "purge_plan"

CHANNEL_SELF = "self"
CHANNEL_ADMIN = "lms_admin"
CHANNEL_CLI = "cli"
CHANNEL_RETENTION = "retention"


class PrivacyLogEntry(db.Model):
    """A record of an export or a deletion: who requested it, when, and for which ids.

    The person and plan ids are plain integers, not foreign keys, so the entry outlives the
    rows it describes. The entry stores no name, email or plan text of the subject.
    """

    __tablename__ = "privacy_log_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    subject_person_id: Mapped[int] = mapped_column(Integer, index=True)
    # Set for a retention purge, which removes one plan and keeps its owner.
    plan_id: Mapped[int | None] = mapped_column(Integer)
    # "self", "lms_admin", "cli" or "retention".
    channel: Mapped[str] = mapped_column(String(16))
    # Free text typed on the command line or the delete page (a ticket number, an office).
    requested_by: Mapped[str] = mapped_column(Text, default="")
    # The person who asked through the web pages; None on the command line.
    requested_by_person_id: Mapped[int | None] = mapped_column(Integer)
    # Export format ("json" or "pdf"), or the number of rows removed per table.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
