"""Background jobs of the demo: the roster sync that a production worker would run.

Grade sync runs in the tool's own in-app thread, which the runner starts after set-up.
Nudges run when the visitor moves the demo clock on the outbox page, so the demo shows each
step on request.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask

log = logging.getLogger(__name__)

ROSTER_POLL_SECONDS = 10


def start_roster_sync_thread(app: Flask, stop: threading.Event) -> threading.Thread:
    """Sync due course rosters every few seconds until ``stop`` is set."""
    thread = threading.Thread(
        target=_roster_loop, args=(app, stop), name="demo-roster-sync", daemon=True
    )
    thread.start()
    return thread


def _roster_loop(app: Flask, stop: threading.Event) -> None:
    from ..extensions import db
    from ..nudges.clock import now
    from ..nudges.config import roster_sync_interval_hours
    from ..rosters.service import run_due_syncs

    while not stop.wait(ROSTER_POLL_SECONDS):
        with app.app_context():
            try:
                interval = timedelta(hours=roster_sync_interval_hours())
                for course_id, outcome in run_due_syncs(now(), interval):
                    log.info("demo roster sync course=%s %s", course_id, outcome.split(":")[0])
            except Exception:
                # The demo keeps serving; the next round tries again.
                log.exception("demo roster sync failed")
                db.session.rollback()
