"""Launch sessions: what a browser may do after one verified launch.

Every page after a launch carries the session token in its path (``/s/<token>/...``)
instead of a cookie, because browsers that block third-party cookies drop cookies inside
the LMS iframe. A new launch makes a new session, so a session is bound to one person in
one launch context. Only a SHA-256 hash of the token is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, g
from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from ..extensions import UTCDateTime, db, utcnow
from ..people.models import Course, Person
from ..platforms.models import Deployment


class LaunchSession(db.Model):
    __tablename__ = "launch_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"))
    course_role: Mapped[str] = mapped_column(String(32))
    is_platform_administrator: Mapped[bool] = mapped_column(Boolean, default=False)
    message_type: Mapped[str] = mapped_column(String(64))
    resource_link_id: Mapped[str | None] = mapped_column(String(255))
    target_link_uri: Mapped[str] = mapped_column(Text)
    services: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    person: Mapped[Person] = relationship()
    deployment: Mapped[Deployment] = relationship()
    course: Mapped[Course | None] = relationship()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class NewSession:
    token: str
    row: LaunchSession


def open_session(**fields) -> NewSession:
    settings = current_app.config["ILP_SETTINGS"]
    token = secrets.token_urlsafe(32)
    row = LaunchSession(
        token_hash=_hash(token),
        expires_at=utcnow() + timedelta(seconds=settings.launch_session_ttl_seconds),
        **fields,
    )
    db.session.add(row)
    return NewSession(token=token, row=row)


def find_session(token: str) -> LaunchSession | None:
    if not token or len(token) > 100:
        return None
    # Every page reads the session's person, and course pages its course, so one statement
    # loads all three.
    row = db.session.execute(
        db.select(LaunchSession)
        .where(LaunchSession.token_hash == _hash(token))
        .options(joinedload(LaunchSession.person), joinedload(LaunchSession.course))
    ).scalar_one_or_none()
    if row is None or row.expires_at <= utcnow():
        return None
    return row


def csrf_token_for(token: str) -> str:
    """Return the form token for a session: an HMAC of the session token."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


def current_session() -> LaunchSession:
    return g.launch_session
