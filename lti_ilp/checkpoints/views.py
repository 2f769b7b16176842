"""Deep linking (a teacher places a checkpoint) and checkpoint launches."""

from __future__ import annotations

import hashlib
import hmac
import logging

from flask import abort, current_app, g, redirect, render_template, request, url_for

from ..extensions import db
from ..grades.models import OutboxScore
from ..keys.service import SigningKeyError, current_signing_key
from ..lti.claims import VerifiedLaunch
from ..lti.deep_linking import (
    DeepLinkingError,
    DeepLinkingSettings,
    ResourceLinkItem,
    build_response_jwt,
)
from ..lti.roles import CourseRole
from ..lti.routing import LandingRule, register_landing
from ..urls import external_url
from ..web.guard import session_blueprint
from ..widget.views import CUSTOM_PARAMETER as WIDGET_PARAMETER
from ..widget.views import CUSTOM_VALUE as WIDGET_VIEW
from . import service
from .models import Checkpoint, CheckpointKind
from .service import CheckpointFormError, PlacementConflict

log = logging.getLogger(__name__)

bp = session_blueprint("checkpoints", __name__, "/checkpoints")
CUSTOM_PARAMETER = "ilp_checkpoint"
STAFF = {CourseRole.INSTRUCTOR.value}


def _checkpoint_id(launch: VerifiedLaunch) -> str | None:
    value = launch.custom.get(CUSTOM_PARAMETER, "").strip()
    return value if value and len(value) <= 64 else None


def _placement_proof(resource_link_id: str, public_id: str) -> str:
    """Sign that a verified launch of this resource link named this checkpoint.

    Only such a launch may record a placement, so a session from another link cannot tie
    that link's line item to a checkpoint by opening the checkpoint's URL.
    """
    key = current_app.config["SECRET_KEY"].encode()
    message = f"placement:{resource_link_id}:{public_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def _checkpoint_landing(launch: VerifiedLaunch) -> tuple[str, dict]:
    public_id = _checkpoint_id(launch)
    proof = _placement_proof(launch.resource_link_id or "", public_id)
    return "checkpoints.open", {"public_id": public_id, "link": proof}


register_landing(
    LandingRule(
        name="checkpoints.deep_linking",
        matches=lambda launch: launch.is_deep_linking,
        target=lambda launch: ("checkpoints.deep_link", {}),
    )
)
register_landing(
    LandingRule(
        name="checkpoints.launch",
        matches=lambda launch: not launch.is_deep_linking and _checkpoint_id(launch) is not None,
        target=_checkpoint_landing,
    )
)


# Deep linking ------------------------------------------------------------------------


def _deep_linking_settings() -> DeepLinkingSettings:
    session = g.launch_session
    claim = (session.services or {}).get("deep_linking")
    if session.message_type != "LtiDeepLinkingRequest" or not isinstance(claim, dict):
        abort(
            400,
            description="This page belongs to a deep-linking request from the LMS. "
            "Start again from the LMS's 'add content' or assignment dialog.",
        )
    if session.course_role not in STAFF and not session.is_platform_administrator:
        abort(403, description="Only teachers can add plan checkpoints to a course.")
    try:
        return DeepLinkingSettings.from_claim(claim)
    except DeepLinkingError as exc:
        abort(400, description=str(exc))


def _render_picker(settings: DeepLinkingSettings, errors=None, form=None, status=200):
    session = g.launch_session
    return render_template(
        "checkpoints/deep_link.html",
        settings=settings,
        kinds=list(CheckpointKind),
        domains=service.goal_domains(session.deployment_id),
        existing=service.authored_checkpoints(session.deployment_id, session.person_id),
        errors=errors or {},
        form=form or {},
    ), status


@bp.get("/deep-link")
def deep_link():
    return _render_picker(_deep_linking_settings())


@bp.post("/deep-link")
def deep_link_submit():
    settings = _deep_linking_settings()
    if not settings.accepts_resource_links:
        return _render_picker(settings, status=400)
    session = g.launch_session
    existing_id = request.form.get("existing", "").strip()
    if existing_id:
        checkpoint = service.find_checkpoint(session.deployment_id, existing_id)
        if checkpoint is None:
            return _render_picker(
                settings,
                {"existing": "That checkpoint was not found; choose another."},
                request.form,
                status=400,
            )
    else:
        try:
            values = service.checkpoint_values(
                request.form, service.goal_domains(session.deployment_id)
            )
        except CheckpointFormError as exc:
            return _render_picker(settings, exc.errors, request.form, status=400)
        checkpoint = service.create_checkpoint(session.deployment_id, session.person, values)

    item = _content_item(checkpoint)
    message = f"Added the plan checkpoint “{checkpoint.title}” ({checkpoint.points:g} points)."
    if not settings.accept_lineitem:
        message += " This LMS did not accept a grade column with it, so no grades are sent."
    response = _respond(settings, [item], message=message)
    db.session.commit()
    log.info(
        "deep-linking response checkpoint=%s deployment=%s person=%s",
        checkpoint.id,
        session.deployment_id,
        session.person_id,
    )
    return response


@bp.post("/deep-link/widget")
def deep_link_widget():
    """Place the homepage widget: a plain resource link that opens in an iframe, no grades."""
    settings = _deep_linking_settings()
    if not settings.accepts_resource_links:
        return _render_picker(settings, status=400)
    item = ResourceLinkItem(
        title="My learning plan",
        url=external_url("lti.launch"),
        text="Your current goals and next step, from your Individualized Learning Plan.",
        custom={WIDGET_PARAMETER: WIDGET_VIEW},
        extra={"iframe": {"width": 480, "height": 360}},
    )
    response = _respond(settings, [item], message="Added the learning plan widget.")
    log.info(
        "deep-linking response widget deployment=%s person=%s",
        g.launch_session.deployment_id,
        g.launch_session.person_id,
    )
    return response


@bp.post("/deep-link/cancel")
def deep_link_cancel():
    settings = _deep_linking_settings()
    return _respond(settings, [], error_message="The teacher cancelled adding a plan checkpoint.")


def _content_item(checkpoint: Checkpoint) -> ResourceLinkItem:
    return ResourceLinkItem(
        title=checkpoint.title,
        url=external_url("lti.launch"),
        text=checkpoint.instructions or f"{checkpoint.kind_label} in your learning plan.",
        custom={CUSTOM_PARAMETER: checkpoint.public_id},
        score_maximum=checkpoint.points,
        label=checkpoint.title,
        resource_id=checkpoint.resource_id,
        tag=checkpoint.tag,
        available_from=checkpoint.opens_at,
        submission_due=checkpoint.due_at,
    )


def _respond(settings: DeepLinkingSettings, items, message=None, error_message=None):
    session = g.launch_session
    registration = session.deployment.registration
    try:
        token = build_response_jwt(
            issuer=registration.issuer,
            client_id=registration.client_id,
            deployment_id=session.deployment.deployment_id,
            settings=settings,
            key=current_signing_key(),
            items=items,
            message=message,
            error_message=error_message,
        )
    except DeepLinkingError as exc:
        db.session.rollback()
        abort(400, description=str(exc))
    except SigningKeyError:
        db.session.rollback()
        abort(
            503,
            description="The plan tool has no signing key, so it cannot sign its "
            "response to the LMS. Ask the administrator to run `lti-ilp keys generate`.",
        )
    return render_template(
        "checkpoints/deep_link_return.html",
        return_url=settings.return_url,
        token=token,
        message=message or error_message,
    )


# Checkpoint launches ------------------------------------------------------------------


def _load_checkpoint(public_id: str) -> Checkpoint:
    session = g.launch_session
    checkpoint = service.find_checkpoint(session.deployment_id, public_id)
    if checkpoint is None:
        abort(
            404,
            description="This plan checkpoint does not exist in this LMS. Ask your "
            "teacher to add it to the course again.",
        )
    return checkpoint


def _record_placement(checkpoint: Checkpoint):
    """Record the placement when this session's launch came from the checkpoint's link."""
    session = g.launch_session
    if not session.resource_link_id:
        return None
    proof = request.args.get("link", "")
    expected = _placement_proof(session.resource_link_id, checkpoint.public_id)
    if not hmac.compare_digest(proof, expected):
        return service.find_placement(checkpoint, session.resource_link_id)
    try:
        placement = service.record_placement(
            checkpoint,
            session.resource_link_id,
            session.course_id,
            (session.services or {}).get("ags"),
        )
    except PlacementConflict:
        db.session.rollback()
        abort(
            409,
            description="This LMS link already belongs to another plan checkpoint. "
            "Ask your teacher to add the checkpoint to the course again.",
        )
    db.session.commit()
    return placement


@bp.get("/<public_id>", endpoint="open")
def open_checkpoint(public_id: str):
    checkpoint = _load_checkpoint(public_id)
    placement = _record_placement(checkpoint)
    session = g.launch_session
    if session.course_role in STAFF or session.is_platform_administrator:
        return _render_completion(checkpoint, placement)
    if session.course_role != CourseRole.LEARNER.value:
        abort(
            403,
            description="Plan checkpoints are done by the course's students, and "
            "teachers see who has completed them. Mentors follow progress in the plans.",
        )
    return _render_student(checkpoint)


def _render_completion(checkpoint: Checkpoint, placement):
    course = g.launch_session.course
    rows = service.completion_rows(checkpoint, course.id) if course else []
    latest = {}
    if placement is not None:
        for score in db.session.execute(
            db.select(OutboxScore)
            .where(OutboxScore.placement_id == placement.id)
            .order_by(OutboxScore.id)
        ).scalars():
            latest[score.person_id] = score
    return render_template(
        "checkpoints/completion.html",
        checkpoint=checkpoint,
        placement=placement,
        course=course,
        rows=rows,
        latest=latest,
    )


def _render_student(checkpoint: Checkpoint, errors=None, form=None, status=200):
    session = g.launch_session
    work = service.work_for(checkpoint, session.person_id)
    goals = service.candidate_goals(checkpoint, session.person_id)
    goal = None
    if work is not None and work.goal_id is not None:
        goal = service.find_own_goal(session.person_id, work.goal_id)
    if goal is None and len(goals) == 1 and checkpoint.kind == CheckpointKind.GOAL_PROGRESS:
        goal = goals[0]
    return render_template(
        "checkpoints/student.html",
        checkpoint=checkpoint,
        work=work,
        goals=goals,
        goal=goal,
        errors=errors or {},
        form=form or {},
        kinds=CheckpointKind,
        is_open=service.is_open(checkpoint),
    ), status


def _abort_unless_open(checkpoint: Checkpoint) -> None:
    if not service.is_open(checkpoint):
        abort(
            409,
            description="This checkpoint opens on "
            f"{checkpoint.opens_at:%Y-%m-%d}. Come back then to do it.",
        )


def _own_goal_or_400(checkpoint: Checkpoint, errors: dict):
    raw = request.form.get("goal_id", "").strip()
    if not raw:
        if checkpoint.kind == CheckpointKind.GOAL_PROGRESS:
            errors["goal_id"] = "Choose the goal that this checkpoint is about."
        return None
    goal = service.find_own_goal(g.launch_session.person_id, int(raw)) if raw.isdigit() else None
    if goal is None:
        errors["goal_id"] = "That goal is not in your plan; choose one of your goals."
    return goal


@bp.post("/<public_id>/progress")
def update_progress(public_id: str):
    """Tie a goal to the checkpoint and set its progress through the plan service.

    The plan service sends ``goal_progress_changed``, whose receiver queues the score in the
    same transaction.
    """
    from ..plans import service as plan_service
    from ..plans.access import Relation, permissions
    from ..plans.forms import PlanFormError

    checkpoint = _load_checkpoint(public_id)
    if checkpoint.kind != CheckpointKind.GOAL_PROGRESS:
        abort(400, description="This checkpoint does not track goal progress.")
    _abort_unless_open(checkpoint)
    errors: dict[str, str] = {}
    goal = _own_goal_or_400(checkpoint, errors)
    if errors:
        return _render_student(checkpoint, errors, request.form, status=400)
    work = service.ensure_work(checkpoint, g.launch_session.person_id)
    changes_progress = request.form.get("progress", "").strip() not in ("", str(goal.progress))
    # When the progress changes, the event's receiver queues the score, so linking the goal
    # queues none of its own.
    service.link_goal(work, goal, queue_score=not changes_progress)
    if changes_progress:
        if not permissions(goal.plan, Relation.OWNER).edit:
            db.session.rollback()
            abort(
                409,
                description="Your plan is signed or closed, so its goals can no longer "
                "change. Ask your mentor to reopen it.",
            )
        try:
            plan_service.add_progress(goal.plan, g.launch_session.person, goal, request.form)
        except PlanFormError as exc:
            db.session.rollback()
            return _render_student(checkpoint, exc.errors, request.form, status=400)
    db.session.commit()
    return redirect(
        url_for("checkpoints.open", public_id=public_id) + "#checkpoint-goal", code=303
    )


@bp.post("/<public_id>/work")
def submit_work(public_id: str):
    checkpoint = _load_checkpoint(public_id)
    if checkpoint.kind == CheckpointKind.GOAL_PROGRESS:
        abort(400, description="This checkpoint tracks goal progress, so update the goal instead.")
    _abort_unless_open(checkpoint)
    errors: dict[str, str] = {}
    goal = _own_goal_or_400(checkpoint, errors)
    if errors:
        return _render_student(checkpoint, errors, request.form, status=400)
    work = service.ensure_work(checkpoint, g.launch_session.person_id)
    if goal is not None:
        service.link_goal(work, goal)
    try:
        service.submit_work(work, request.form)
    except CheckpointFormError as exc:
        db.session.rollback()
        return _render_student(checkpoint, exc.errors, request.form, status=400)
    db.session.commit()
    return redirect(
        url_for("checkpoints.open", public_id=public_id) + "#checkpoint-work", code=303
    )
