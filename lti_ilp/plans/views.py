"""Plan pages: the owner's own plan under /plan, and any plan the viewer may see under
/plans/<id>. Owner edits always act on the owner's current plan, so a goal or step id from
another plan is not found."""

from __future__ import annotations

from flask import Response, abort, g, redirect, render_template, request, url_for

from ..extensions import db
from ..web.guard import session_blueprint
from . import discussion, evidence, mentors, service
from .access import Relation, find_plan, permissions, viewer_from_session
from .forms import PlanFormError
from .models import Plan, Visibility
from .presenter import plan_context

bp = session_blueprint("plans", __name__)


def _viewer():
    return viewer_from_session(g.launch_session)


def own_plan() -> Plan:
    """Return the session person's current plan, creating and committing it on first use.

    A plan that already exists is returned without a commit, because a commit expires
    every loaded object and the page would then load the session, person, plan and cycle
    again.
    """
    plan = service.ensure_plan(g.launch_session.person)
    # A new plan leaves its first StatusChange pending, so the session shows it as new.
    if db.session.new or db.session.dirty or db.session.deleted:
        db.session.commit()
    return plan


def editable_plan() -> Plan:
    """Return the session person's current plan, or abort with 409 when it is signed or closed."""
    plan = own_plan()
    if not permissions(plan, Relation.OWNER).edit:
        abort(
            409,
            description="This plan is signed or closed, so it can no longer be "
            "changed. Ask your mentor to reopen it if something is missing.",
        )
    return plan


def _render(plan: Plan, relation: Relation, errors=None, form=None, status=200):
    context = plan_context(plan, relation, g.launch_session.person)
    return (
        render_template(
            "plans/plan.html",
            errors=errors or {},
            form=form or {},
            course=g.launch_session.course,
            **context,
        ),
        status,
    )


def _save_or_rerender(plan: Plan, relation: Relation, change, anchor: str = ""):
    try:
        change()
    except PlanFormError as exc:
        db.session.rollback()
        plan = db.session.get(Plan, plan.id)
        return _render(plan, relation, exc.errors, request.form, status=400)
    db.session.commit()
    if relation is Relation.OWNER and plan.cycle.is_current:
        return redirect(url_for("plans.show") + anchor, code=303)
    return redirect(url_for("plans.view", plan_id=plan.id) + anchor, code=303)


@bp.get("/plan")
def show():
    return _render(own_plan(), Relation.OWNER)


@bp.get("/plans/<int:plan_id>")
def view(plan_id: int):
    found = find_plan(_viewer(), plan_id)
    if found is None:
        abort(404, description="That plan does not exist or is not shared with you.")
    return _render(*found)


@bp.post("/plan/profile")
def update_profile():
    plan = editable_plan()
    person = g.launch_session.person
    return _save_or_rerender(
        plan,
        Relation.OWNER,
        lambda: service.update_profile(plan, person, request.form),
        "#profile",
    )


@bp.post("/plan/goals")
def add_goal():
    plan = editable_plan()
    person = g.launch_session.person
    return _save_or_rerender(
        plan, Relation.OWNER, lambda: service.add_goal(plan, person, request.form), "#goals"
    )


def _goal_or_404(plan, goal_id):
    goal = service.find_goal(plan, goal_id)
    if goal is None:
        abort(404, description="That goal is not in your plan.")
    return goal


def _step_or_404(plan, step_id):
    step = service.find_step(plan, step_id)
    if step is None:
        abort(404, description="That action step is not in your plan.")
    return step


@bp.post("/plan/goals/<int:goal_id>")
def update_goal(goal_id: int):
    plan = editable_plan()
    goal = _goal_or_404(plan, goal_id)
    person = g.launch_session.person
    return _save_or_rerender(
        plan,
        Relation.OWNER,
        lambda: service.update_goal(plan, person, goal, request.form),
        f"#goal-{goal_id}",
    )


@bp.post("/plan/goals/<int:goal_id>/progress")
def set_progress(goal_id: int):
    plan = editable_plan()
    goal = _goal_or_404(plan, goal_id)
    person = g.launch_session.person
    return _save_or_rerender(
        plan,
        Relation.OWNER,
        lambda: service.add_progress(plan, person, goal, request.form),
        f"#goal-{goal_id}",
    )


@bp.post("/plan/goals/<int:goal_id>/delete")
def delete_goal(goal_id: int):
    plan = editable_plan()
    goal = _goal_or_404(plan, goal_id)
    person = g.launch_session.person
    return _save_or_rerender(
        plan, Relation.OWNER, lambda: service.delete_goal(plan, person, goal), "#goals"
    )


@bp.post("/plan/goals/<int:goal_id>/steps")
def add_step(goal_id: int):
    plan = editable_plan()
    goal = _goal_or_404(plan, goal_id)
    person = g.launch_session.person
    return _save_or_rerender(
        plan,
        Relation.OWNER,
        lambda: service.add_step(plan, person, goal, request.form),
        f"#goal-{goal_id}",
    )


@bp.post("/plan/steps/<int:step_id>/done")
def set_step_done(step_id: int):
    plan = editable_plan()
    step = _step_or_404(plan, step_id)
    person = g.launch_session.person
    done = request.form.get("done") == "1"
    return _save_or_rerender(
        plan,
        Relation.OWNER,
        lambda: service.set_step_done(plan, person, step, done),
        f"#goal-{step.goal_id}",
    )


@bp.post("/plan/steps/<int:step_id>/delete")
def delete_step(step_id: int):
    plan = editable_plan()
    step = _step_or_404(plan, step_id)
    goal_id = step.goal_id
    person = g.launch_session.person
    return _save_or_rerender(
        plan, Relation.OWNER, lambda: service.delete_step(plan, person, step), f"#goal-{goal_id}"
    )


@bp.post("/plan/evidence")
def add_evidence():
    plan = editable_plan()
    person = g.launch_session.person
    goal_ids = request.form.getlist("goal_ids")

    def change():
        if request.form.get("kind") == "file":
            return evidence.add_file(
                plan, person, request.form, request.files.get("file"), goal_ids
            )
        return evidence.add_link(plan, person, request.form, goal_ids)

    return _save_or_rerender(plan, Relation.OWNER, change, "#evidence")


@bp.post("/plan/evidence/<int:evidence_id>/delete")
def delete_evidence(evidence_id: int):
    plan = editable_plan()
    item = evidence.find_evidence(plan, evidence_id)
    if item is None:
        abort(404, description="That evidence is not in your plan.")
    person = g.launch_session.person
    return _save_or_rerender(
        plan, Relation.OWNER, lambda: evidence.delete_evidence(plan, person, item), "#evidence"
    )


@bp.get("/plans/<int:plan_id>/evidence/<int:evidence_id>/file")
def download_evidence(plan_id: int, evidence_id: int):
    found = find_plan(_viewer(), plan_id)
    item = evidence.find_evidence(found[0], evidence_id) if found else None
    hidden = (
        item is not None
        and item.visibility == Visibility.STAFF_ONLY.value
        and (found[1] is Relation.OWNER)
    )
    if item is None or hidden or item.kind != "file":
        abort(404, description="That file does not exist or is not shared with you.")
    response = Response(item.data, content_type=item.content_type)
    response.headers["Content-Disposition"] = _attachment(item.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _attachment(filename: str) -> str:
    from urllib.parse import quote

    ascii_name = filename.encode("ascii", "ignore").decode() or "evidence"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


@bp.post("/plan/reflections/<prompt_key>")
def save_reflection(prompt_key: str):
    plan = editable_plan()
    person = g.launch_session.person
    submit = request.form.get("action") == "submit"
    return _save_or_rerender(
        plan,
        Relation.OWNER,
        lambda: discussion.save_reflection(plan, person, prompt_key, request.form, submit),
        "#reflections",
    )


def _plan_for_action(plan_id: int) -> tuple[Plan, Relation]:
    found = find_plan(_viewer(), plan_id)
    if found is None:
        abort(404, description="That plan does not exist or is not shared with you.")
    return found


@bp.post("/plans/<int:plan_id>/comments")
def add_comment(plan_id: int):
    plan, relation = _plan_for_action(plan_id)
    if not permissions(plan, relation).comment:
        abort(409, description="This plan is closed, so it takes no new comments.")
    person = g.launch_session.person
    is_staff = relation is not Relation.OWNER
    anchor = f"#{request.form.get('item_type', 'plan')}-{request.form.get('item_id', '')}"
    return _save_or_rerender(
        plan,
        relation,
        lambda: discussion.add_comment(plan, person, request.form, is_staff=is_staff),
        anchor.rstrip("-"),
    )


@bp.post("/plans/<int:plan_id>/status")
def change_status(plan_id: int):
    plan, relation = _plan_for_action(plan_id)
    person = g.launch_session.person
    return _save_or_rerender(
        plan,
        relation,
        lambda: service.change_status(plan, person, relation, request.form),
        "#status",
    )


@bp.get("/mentees")
def mentees():
    person = g.launch_session.person
    rows = []
    for mentee in mentors.mentees_of(person):
        rows.append((mentee, service.load_plan(mentee.id)))
    response = render_template(
        "plans/mentees.html", rows=rows, status_labels=service.STATUS_LABELS
    )
    db.session.commit()
    return response
