"""The plan owner's pages: view and edit their own plan."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for

from ..extensions import db
from ..web.guard import session_blueprint
from . import service
from .service import PlanFormError

bp = session_blueprint("plans", __name__, "/plan")


def _own_plan():
    plan = service.load_plan(g.launch_session.person_id)
    if plan is None:
        plan = service.ensure_plan(g.launch_session.person)
        db.session.commit()
    return plan


def _render(plan, errors=None, form=None, status=200):
    return (
        render_template(
            "plans/plan.html",
            plan=plan,
            person=g.launch_session.person,
            errors=errors or {},
            form=form or {},
            editable=True,
        ),
        status,
    )


def _save_or_rerender(plan, change, anchor: str = ""):
    try:
        change()
    except PlanFormError as exc:
        db.session.rollback()
        return _render(_own_plan(), exc.errors, request.form, status=400)
    db.session.commit()
    return redirect(url_for("plans.show") + anchor, code=303)


@bp.get("")
def show():
    return _render(_own_plan())


@bp.post("/profile")
def update_profile():
    plan = _own_plan()
    return _save_or_rerender(plan, lambda: service.update_profile(plan, request.form), "#profile")


@bp.post("/goals")
def add_goal():
    plan = _own_plan()
    return _save_or_rerender(plan, lambda: service.add_goal(plan, request.form), "#goals")


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


@bp.post("/goals/<int:goal_id>")
def update_goal(goal_id: int):
    plan = _own_plan()
    goal = _goal_or_404(plan, goal_id)
    return _save_or_rerender(
        plan, lambda: service.update_goal(plan, goal, request.form), f"#goal-{goal_id}"
    )


@bp.post("/goals/<int:goal_id>/progress")
def set_progress(goal_id: int):
    plan = _own_plan()
    goal = _goal_or_404(plan, goal_id)
    return _save_or_rerender(
        plan, lambda: service.set_progress(plan, goal, request.form), f"#goal-{goal_id}"
    )


@bp.post("/goals/<int:goal_id>/delete")
def delete_goal(goal_id: int):
    plan = _own_plan()
    goal = _goal_or_404(plan, goal_id)
    return _save_or_rerender(plan, lambda: service.delete_goal(plan, goal), "#goals")


@bp.post("/goals/<int:goal_id>/steps")
def add_step(goal_id: int):
    plan = _own_plan()
    goal = _goal_or_404(plan, goal_id)
    return _save_or_rerender(
        plan, lambda: service.add_step(plan, goal, request.form), f"#goal-{goal_id}"
    )


@bp.post("/steps/<int:step_id>/done")
def set_step_done(step_id: int):
    plan = _own_plan()
    step = _step_or_404(plan, step_id)
    done = request.form.get("done") == "1"
    return _save_or_rerender(
        plan, lambda: service.set_step_done(plan, step, done), f"#goal-{step.goal_id}"
    )


@bp.post("/steps/<int:step_id>/delete")
def delete_step(step_id: int):
    plan = _own_plan()
    step = _step_or_404(plan, step_id)
    goal_id = step.goal_id
    return _save_or_rerender(plan, lambda: service.delete_step(plan, step), f"#goal-{goal_id}")
