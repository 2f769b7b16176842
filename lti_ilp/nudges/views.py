"""Nudge banners inside the tool, and the demo's email outbox page."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from ..extensions import db
from ..rosters.service import run_due_syncs
from ..urls import is_tool_url
from ..web.guard import session_blueprint
from . import clock
from .config import EMAIL_OUTBOX, demo_clock_enabled, mail_settings, roster_sync_interval_hours
from .models import LEVEL_LABELS, OutboxEmail
from .service import banner_nudges, dismiss, run_nudges

bp = session_blueprint("nudges", __name__, "/nudges")
demo_bp = Blueprint("nudges_demo", __name__, url_prefix="/demo")

OUTBOX_PAGE_SIZE = 200


@bp.post("/<int:nudge_id>/dismiss")
def dismiss_banner(nudge_id: int):
    if not dismiss(g.launch_session.person_id, nudge_id, clock.now()):
        abort(404, description="That reminder was already dismissed or is not yours.")
    db.session.commit()
    back = request.form.get("next", "")
    if back.startswith("/s/") or (back and is_tool_url(back)):
        return redirect(back, code=303)
    return redirect(url_for("plans.show"), code=303)


def _banner_items():
    """Return the nudges to show on this page: only inside a launch session."""
    session = g.get("launch_session")
    if session is None:
        return []
    if "nudge_banners" not in g:
        g.nudge_banners = banner_nudges(session.person_id)
    return g.nudge_banners


def register_banner(app: Flask) -> None:
    app.context_processor(
        lambda: {"nudge_banner_items": _banner_items, "nudge_level_labels": LEVEL_LABELS}
    )


def _demo_form_token() -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"demo-controls", hashlib.sha256).hexdigest()


@demo_bp.get("/outbox")
def outbox():
    """List the emails kept in the outbox; only when ILP_EMAIL_MODE is "outbox"."""
    if mail_settings().mode != EMAIL_OUTBOX:
        abort(
            404,
            description="The email outbox page exists only in the demo (ILP_EMAIL_MODE=outbox).",
        )
    emails = (
        db.session.execute(
            select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(OUTBOX_PAGE_SIZE)
        )
        .scalars()
        .all()
    )
    return render_template(
        "nudges/outbox.html",
        emails=emails,
        now=clock.now(),
        offset=clock.clock_offset(),
        clock_enabled=demo_clock_enabled(),
        form_token=_demo_form_token(),
        ran=request.args.get("ran", ""),
    )


@demo_bp.post("/clock")
def advance_clock():
    """Move the demo clock forward and run the worker jobs, as cron would in production."""
    if not demo_clock_enabled():
        abort(404, description="The demo clock is off. Set ILP_DEMO_CLOCK=true for a demo.")
    if not hmac.compare_digest(request.form.get("form_token", ""), _demo_form_token()):
        abort(400, description="The form has expired. Reload the outbox page and try again.")
    days = request.form.get("days", "0")
    if not days.isdigit() or int(days) > 365:
        abort(400, description="Enter a whole number of days from 0 to 365.")

    clock.advance(timedelta(days=int(days)))
    db.session.commit()
    synced = run_due_syncs(clock.now(), timedelta(hours=roster_sync_interval_hours()))
    report = run_nudges(clock.now())
    db.session.commit()
    summary = f"{len(synced)} rosters synced, {len(report.sent)} nudges sent"
    return redirect(url_for("nudges_demo.outbox", ran=summary), code=303)
