"""The tool's notion of "now", with a demo offset that moves time forward.

Staleness, pace and nudges all take "now" from here, so the demo can show a plan going
quiet without waiting for days. The offset is stored in the database, so the web server
and the worker agree on it. It is ignored unless the ``demo_clock`` setting is on.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import UTCDateTime, db, utcnow
from .config import demo_clock_enabled

CLOCK_ROW_ID = 1


class DemoClock(db.Model):
    __tablename__ = "demo_clock"

    id: Mapped[int] = mapped_column(primary_key=True)
    offset_seconds: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DemoClockDisabled(RuntimeError):
    """The demo clock was moved while the ``demo_clock`` setting is off."""


def clock_offset() -> timedelta:
    if not demo_clock_enabled():
        return timedelta(0)
    row = db.session.get(DemoClock, CLOCK_ROW_ID)
    return timedelta(seconds=row.offset_seconds if row else 0)


def now() -> datetime:
    """Return the current UTC time, moved by the demo offset when the demo clock is on."""
    return utcnow() + clock_offset()


def advance(delta: timedelta) -> timedelta:
    """Move the demo clock forward by ``delta``; return the new total offset."""
    if not demo_clock_enabled():
        raise DemoClockDisabled(
            "The demo clock is off. Set ILP_DEMO_CLOCK=true to move time in a demo."
        )
    row = db.session.get(DemoClock, CLOCK_ROW_ID)
    if row is None:
        row = DemoClock(id=CLOCK_ROW_ID, offset_seconds=0)
        db.session.add(row)
    row.offset_seconds += int(delta.total_seconds())
    row.updated_at = utcnow()
    return timedelta(seconds=row.offset_seconds)


def reset() -> None:
    row = db.session.get(DemoClock, CLOCK_ROW_ID)
    if row is not None:
        row.offset_seconds = 0
        row.updated_at = utcnow()
