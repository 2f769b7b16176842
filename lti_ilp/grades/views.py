"""The grade sync status page for course staff and platform administrators."""

from __future__ import annotations

import logging
import os

from flask import Flask, abort, g, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState

from ..checkpoints.models import CheckpointPlacement
from ..extensions import db
from ..lti.roles import CourseRole
from ..web.guard import session_blueprint
from . import service
from .models import ScoreStatus
from .service import connect_receivers

log = logging.getLogger(__name__)

bp = session_blueprint("grades", __name__, "/grades")
connect_receivers()


def _sync_in_app(app: Flask) -> bool:
    settings = app.config["ILP_SETTINGS"]
    configured = settings.extra.get("sync_in_app")
    if configured is None:
        configured = os.environ.get("ILP_SYNC_IN_APP", "").lower() in {"1", "true", "yes", "on"}
    return bool(configured)


@bp.record_once
def _start_sync(state: BlueprintSetupState) -> None:
    """Start the in-app sync thread when ILP_SYNC_IN_APP or settings.extra["sync_in_app"] is
    set."""
    if not _sync_in_app(state.app):
        return
    from .worker import start_background_sync

    interval = float(state.app.config["ILP_SETTINGS"].extra.get("sync_interval_seconds", 5))
    start_background_sync(state.app, interval=interval)


def _scope():
    """Return the filter on placements that this session may see and retry."""
    session = g.launch_session
    if session.is_platform_administrator:
        return CheckpointPlacement.deployment_id == session.deployment_id
    if session.course_role == CourseRole.INSTRUCTOR.value and session.course_id is not None:
        return CheckpointPlacement.course_id == session.course_id
    abort(
        403,
        description="The grade sync page is for the course's teachers and for LMS administrators.",
    )


@bp.get("/sync")
def sync_status():
    scope = _scope()
    status = request.args.get("status", "")
    if status not in {"", *(s.value for s in ScoreStatus)}:
        abort(400, description="Filter by pending, sent or failed, or show all scores.")
    return render_template(
        "grades/sync_status.html",
        counts=service.status_counts(scope),
        rows=service.outbox_rows(scope, status or None),
        status=status,
        course=g.launch_session.course,
        statuses=list(ScoreStatus),
    )


@bp.post("/sync/retry")
def retry_all():
    count = service.retry_failed(_scope())
    db.session.commit()
    log.info("failed scores queued again count=%s person=%s", count, g.launch_session.person_id)
    return redirect(url_for("grades.sync_status", retried=count), code=303)


@bp.post("/sync/<int:score_id>/retry")
def retry_one(score_id: int):
    count = service.retry_failed(_scope(), score_id)
    db.session.commit()
    if count == 0:
        abort(
            404,
            description="That score is not failed, is not yours to retry, or a newer "
            "score for the same student already replaced it.",
        )
    return redirect(url_for("grades.sync_status", retried=count), code=303)
