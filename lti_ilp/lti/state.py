"""OIDC login state and nonces, kept in the database so every worker sees them."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, Text, delete, select
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from ..extensions import UTCDateTime, db, utcnow
from ..platforms.models import Registration


class LaunchState(db.Model):
    """One login in progress. The row is deleted when its launch is accepted, so each
    state and nonce can be used once. ``storage_target`` and ``relaunch_query`` serve a
    launch that arrives without the state cookie (see ``storage``)."""

    __tablename__ = "launch_state"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    target_link_uri: Mapped[str] = mapped_column(Text)
    storage_target: Mapped[str | None] = mapped_column(String(64))
    relaunch_query: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    registration: Mapped[Registration] = relationship()


def create_state(registration_id: int, target_link_uri: str, ttl_seconds: int) -> LaunchState:
    row = LaunchState(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        registration_id=registration_id,
        target_link_uri=target_link_uri,
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
    )
    db.session.add(row)
    return row


def find_state(state: str) -> LaunchState | None:
    """Return the unexpired login state, with its registration and the registration's
    cached JWKS loaded by the same query, because verifying a launch reads all three."""
    row = db.session.execute(
        select(LaunchState)
        .where(LaunchState.state == state)
        .options(joinedload(LaunchState.registration).joinedload(Registration.key_set))
    ).scalar_one_or_none()
    if row is None or row.expires_at <= utcnow():
        return None
    return row


def consume_state(state: str, nonce: str) -> bool:
    """Delete the state row for this nonce. Return False when another request took it first.

    The delete is a single statement, so two workers racing on one id_token cannot both
    see a row count of one.
    """
    result = db.session.execute(
        delete(LaunchState).where(
            LaunchState.state == state,
            LaunchState.nonce == nonce,
            LaunchState.expires_at > utcnow(),
        )
    )
    return result.rowcount == 1


def purge_expired_states() -> int:
    result = db.session.execute(delete(LaunchState).where(LaunchState.expires_at <= utcnow()))
    return result.rowcount
