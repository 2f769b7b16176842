"""The compact homepage widget: current goals, the next action step and a one-click
progress update. A launch with the custom parameter ``ilp_view=widget`` lands here."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for

from ..extensions import db
from ..lti.claims import VerifiedLaunch
from ..lti.roles import CourseRole
from ..lti.routing import LandingRule, register_landing
from ..plans import service as plan_service
from ..plans.access import Relation, permissions
from ..plans.forms import PlanFormError
from ..plans.views import editable_plan, own_plan
from ..web.guard import session_blueprint
from .service import widget_view

bp = session_blueprint("widget", __name__, "/widget")

CUSTOM_PARAMETER = "ilp_view"
CUSTOM_VALUE = "widget"


def is_widget_launch(launch: VerifiedLaunch) -> bool:
    return (
        not launch.is_deep_linking
        and launch.custom.get(CUSTOM_PARAMETER, "").strip().lower() == CUSTOM_VALUE
    )


def register_widget_landing() -> None:
    register_landing(
        LandingRule(
            name="widget",
            matches=is_widget_launch,
            target=lambda launch: ("widget.show", {}),
        )
    )


def _is_staff() -> bool:
    return g.launch_session.course_role in (CourseRole.INSTRUCTOR.value, CourseRole.MENTOR.value)


@bp.get("")
def show():
    if _is_staff():
        return render_template("widget/staff.html")
    plan = own_plan()
    return render_template(
        "widget/widget.html",
        plan=plan,
        view=widget_view(plan),
        editable=permissions(plan, Relation.OWNER).edit,
    )


@bp.post("/goals/<int:goal_id>/progress")
def add_progress(goal_id: int):
    plan = editable_plan()
    goal = plan_service.find_goal(plan, goal_id)
    if goal is None:
        abort(404, description="That goal is not in your plan. Reload the widget.")
    try:
        plan_service.add_progress(plan, g.launch_session.person, goal, _progress_form())
    except PlanFormError as exc:
        db.session.rollback()
        abort(400, description=" ".join(exc.errors.values()))
    db.session.commit()
    return redirect(url_for("widget.show"), code=303)


def _progress_form() -> dict[str, str]:
    return {"progress": request.form.get("progress", ""), "note": request.form.get("note", "")}


@bp.post("/steps/<int:step_id>/done")
def step_done(step_id: int):
    plan = editable_plan()
    step = plan_service.find_step(plan, step_id)
    if step is None:
        abort(404, description="That action step is not in your plan. Reload the widget.")
    plan_service.set_step_done(plan, g.launch_session.person, step, True)
    db.session.commit()
    return redirect(url_for("widget.show"), code=303)
