"""Staff growth pages: the cohort view, library, discussion and meetings."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for

from ..extensions import db
from ..plan_templates.service import cohorts_of, find_cohort, list_cohorts
from ..plans import service as plan_service
from ..plans.access import viewer_from_session
from ..plans.forms import PlanFormError
from ..plans.views import editable_plan
from ..web.guard import session_blueprint
from . import service
from .models import RESOURCE_KINDS

bp = session_blueprint("growth", __name__, "/growth")


def _is_coordinator() -> bool:
    return viewer_from_session(g.launch_session).is_coordinator


def _cohort(cohort_id: int):
    """Return the cohort when the viewer is a member or a coordinator of its deployment."""
    person = g.launch_session.person
    cohort = find_cohort(person.deployment_id, cohort_id)
    if cohort is None or not (_is_coordinator() or service.is_member(cohort, person)):
        abort(404, description="That cohort does not exist or you are not a member of it.")
    return cohort


def _coordinator_cohort(cohort_id: int):
    cohort = _cohort(cohort_id)
    if not _is_coordinator():
        abort(403, description="Only coordinators can change the cohort's library and meetings.")
    return cohort


@bp.get("")
def home():
    person = g.launch_session.person
    cohorts = list_cohorts(person.deployment_id) if _is_coordinator() else cohorts_of(person)
    if len(cohorts) == 1:
        return _render_cohort(cohorts[0])
    return render_template("growth/home.html", cohorts=cohorts, coordinator=_is_coordinator())


def _render_cohort(cohort, errors=None, status=200):
    coordinator = _is_coordinator()
    tag = request.args.get("tag", "").strip()[:40]
    return render_template(
        "growth/cohort.html",
        cohort=cohort,
        coordinator=coordinator,
        overview=service.cohort_overview(cohort) if coordinator else [],
        resources=service.resources(cohort, tag or None),
        tag=tag,
        threads=service.threads(cohort),
        meetings=service.meetings(cohort),
        kinds=RESOURCE_KINDS,
        me=g.launch_session.person,
        errors=errors or {},
    ), status


@bp.get("/cohorts/<int:cohort_id>")
def cohort(cohort_id: int):
    return _render_cohort(_cohort(cohort_id))


def _save(cohort, change, target: str):
    try:
        change()
    except PlanFormError as exc:
        db.session.rollback()
        return _render_cohort(cohort, exc.errors, 400)
    db.session.commit()
    return redirect(target, code=303)


@bp.post("/cohorts/<int:cohort_id>/resources")
def add_resource(cohort_id: int):
    cohort = _coordinator_cohort(cohort_id)
    person = g.launch_session.person
    return _save(
        cohort,
        lambda: service.add_resource(cohort, person, request.form),
        url_for("growth.cohort", cohort_id=cohort.id) + "#library",
    )


@bp.post("/cohorts/<int:cohort_id>/meetings")
def add_meeting(cohort_id: int):
    cohort = _coordinator_cohort(cohort_id)
    person = g.launch_session.person
    return _save(
        cohort,
        lambda: service.add_meeting(cohort, person, request.form),
        url_for("growth.cohort", cohort_id=cohort.id) + "#meetings",
    )


@bp.post("/cohorts/<int:cohort_id>/meetings/<int:meeting_id>/signup")
def sign_up(cohort_id: int, meeting_id: int):
    cohort = _cohort(cohort_id)
    meeting = service.find_meeting(cohort, meeting_id)
    if meeting is None:
        abort(404, description="That meeting is not part of this cohort.")
    attend = request.form.get("attend") == "1"
    person = g.launch_session.person
    return _save(
        cohort,
        lambda: service.sign_up(meeting, person, attend),
        url_for("growth.cohort", cohort_id=cohort.id) + "#meetings",
    )


@bp.post("/cohorts/<int:cohort_id>/threads")
def start_thread(cohort_id: int):
    cohort = _cohort(cohort_id)
    person = g.launch_session.person
    try:
        thread = service.start_thread(cohort, person, request.form)
    except PlanFormError as exc:
        db.session.rollback()
        return _render_cohort(cohort, exc.errors, 400)
    db.session.commit()
    return redirect(url_for("growth.thread", cohort_id=cohort.id, thread_id=thread.id), code=303)


def _thread(cohort, thread_id: int):
    thread = service.find_thread(cohort, thread_id)
    if thread is None:
        abort(404, description="That discussion is not part of this cohort.")
    return thread


@bp.get("/cohorts/<int:cohort_id>/threads/<int:thread_id>")
def thread(cohort_id: int, thread_id: int):
    cohort = _cohort(cohort_id)
    return render_template(
        "growth/thread.html", cohort=cohort, thread=_thread(cohort, thread_id), errors={}
    )


@bp.post("/cohorts/<int:cohort_id>/threads/<int:thread_id>/posts")
def add_post(cohort_id: int, thread_id: int):
    cohort = _cohort(cohort_id)
    thread = _thread(cohort, thread_id)
    try:
        service.add_post(thread, g.launch_session.person, request.form)
    except PlanFormError as exc:
        db.session.rollback()
        return render_template(
            "growth/thread.html", cohort=cohort, thread=thread, errors=exc.errors
        ), 400
    db.session.commit()
    return redirect(url_for("growth.thread", cohort_id=cohort.id, thread_id=thread.id), code=303)


def _back_to_plan(plan, change, anchor):
    try:
        change()
    except PlanFormError as exc:
        db.session.rollback()
        abort(400, description=" ".join(exc.errors.values()))
    db.session.commit()
    return redirect(url_for("plans.show") + anchor, code=303)


@bp.post("/goals/<int:goal_id>/resources")
def attach_resource(goal_id: int):
    plan = editable_plan()
    goal = plan_service.find_goal(plan, goal_id)
    if goal is None:
        abort(404, description="That goal is not in your plan.")
    person = g.launch_session.person
    resource_id = request.form.get("resource_id", "")
    return _back_to_plan(
        plan, lambda: service.attach_resource(plan, person, goal, resource_id), f"#goal-{goal.id}"
    )


@bp.post("/goal-resources/<int:row_id>/done")
def set_resource_done(row_id: int):
    plan = editable_plan()
    row = service.find_goal_resource(plan, row_id)
    if row is None:
        abort(404, description="That resource is not attached to a goal in your plan.")
    person = g.launch_session.person
    done = request.form.get("done") == "1"
    return _back_to_plan(
        plan, lambda: service.set_resource_done(plan, person, row, done), f"#goal-{row.goal_id}"
    )
