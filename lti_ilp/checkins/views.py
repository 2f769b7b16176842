"""Check-in pages: start a check-in from the plan, take notes and next steps, print the
conference packet."""

from __future__ import annotations

from flask import Response, abort, g, redirect, render_template, request, url_for

from ..extensions import db
from ..plans.access import Relation, find_plan, permissions, viewer_from_session
from ..plans.forms import PlanFormError
from ..plans.models import Plan, Visibility
from ..web.guard import session_blueprint
from . import service
from .models import MODES
from .packet import render_packet

bp = session_blueprint("checkins", __name__, "/plans/<int:plan_id>/checkins")


def _plan(plan_id: int) -> tuple[Plan, Relation]:
    found = find_plan(viewer_from_session(g.launch_session), plan_id)
    if found is None:
        abort(404, description="That plan does not exist or is not shared with you.")
    return found


def _staff_plan(plan_id: int) -> tuple[Plan, Relation]:
    plan, relation = _plan(plan_id)
    if not permissions(plan, relation).hold_checkins:
        abort(
            403,
            description="Only the learner's teachers, mentors and coordinators can "
            "hold check-ins on an open plan.",
        )
    return plan, relation


def _checkin(plan: Plan, checkin_id: int):
    checkin = service.find_checkin(plan, checkin_id)
    if checkin is None:
        abort(404, description="That check-in is not part of this plan.")
    return checkin


def _render(plan, relation, checkin, errors=None, status=200):
    from ..plans.discussion import comment_threads

    staff = relation is not Relation.OWNER
    steps = [
        step
        for step in service.steps_from(checkin)
        if staff or step.visibility == Visibility.OWNER_AND_STAFF.value
    ]
    return render_template(
        "checkins/checkin.html",
        plan=plan,
        relation=relation,
        checkin=checkin,
        perms=permissions(plan, relation),
        staff=staff,
        steps=steps,
        errors=errors or {},
        modes=MODES,
        goals=[goal for goal in plan.goals if goal.is_open],
        thread=comment_threads(plan, staff).get(("checkin", checkin.id), []),
    ), status


@bp.post("")
def create(plan_id: int):
    plan, relation = _staff_plan(plan_id)
    try:
        checkin = service.create_checkin(
            plan, g.launch_session.person, request.form, request.form.getlist("participants")
        )
    except PlanFormError as exc:
        db.session.rollback()
        message = " ".join(exc.errors.values())
        abort(400, description=f"The check-in was not created: {message}")
    db.session.commit()
    return redirect(url_for("checkins.show", plan_id=plan.id, checkin_id=checkin.id), code=303)


@bp.get("/<int:checkin_id>")
def show(plan_id: int, checkin_id: int):
    plan, relation = _plan(plan_id)
    return _render(plan, relation, _checkin(plan, checkin_id))


def _save(plan, relation, checkin, change):
    try:
        change()
    except PlanFormError as exc:
        db.session.rollback()
        return _render(plan, relation, checkin, exc.errors, 400)
    db.session.commit()
    return redirect(url_for("checkins.show", plan_id=plan.id, checkin_id=checkin.id), code=303)


@bp.post("/<int:checkin_id>/notes")
def update_notes(plan_id: int, checkin_id: int):
    plan, relation = _staff_plan(plan_id)
    checkin = _checkin(plan, checkin_id)
    person = g.launch_session.person
    return _save(
        plan, relation, checkin, lambda: service.update_notes(plan, person, checkin, request.form)
    )


@bp.post("/<int:checkin_id>/steps")
def add_next_step(plan_id: int, checkin_id: int):
    plan, relation = _staff_plan(plan_id)
    checkin = _checkin(plan, checkin_id)
    person = g.launch_session.person
    return _save(
        plan, relation, checkin, lambda: service.add_next_step(plan, person, checkin, request.form)
    )


def packet_data(plan: Plan, checkin) -> dict:
    template = plan.template
    prompts = template.profile_prompts if template else []
    goals = []
    for goal in plan.goals:
        if goal.visibility != Visibility.OWNER_AND_STAFF.value:
            continue
        goals.append(
            {
                "domain": template.domain_label(goal.domain) if template else goal.domain,
                "statement": goal.statement,
                "status": goal.status.replace("_", " "),
                "progress": goal.progress,
                "target_date": goal.target_date.isoformat() if goal.target_date else None,
                "measure": goal.measure,
                "history": [
                    f"{entry.created_at.date().isoformat()}: {entry.progress}%"
                    + (f" - {entry.note}" if entry.note else "")
                    for entry in goal.progress_entries
                ],
                "steps": [
                    {
                        "description": step.description,
                        "done": step.done,
                        "due": step.due_date.isoformat() if step.due_date else None,
                    }
                    for step in goal.steps
                    if step.visibility == Visibility.OWNER_AND_STAFF.value
                ],
            }
        )
    agenda = checkin.agenda or {}
    lines = [
        f"No progress recorded: {goal['statement']}" for goal in agenda.get("stale_goals", [])
    ]
    lines += [
        f"Overdue: {step['step']} (due {step['due']})" for step in agenda.get("overdue_steps", [])
    ]
    lines.append(f"{len(agenda.get('changes', []))} changes since the last check-in")
    return {
        "profile": [
            (prompt["label"], (plan.profile or {}).get(prompt["key"], "")) for prompt in prompts
        ],
        "goals": goals,
        "agenda_lines": lines,
        "next_steps": [
            step.description
            for step in service.steps_from(checkin)
            if step.visibility == Visibility.OWNER_AND_STAFF.value
        ],
    }


@bp.get("/<int:checkin_id>/packet")
def packet(plan_id: int, checkin_id: int):
    plan, relation = _plan(plan_id)
    checkin = _checkin(plan, checkin_id)
    return render_template(
        "checkins/packet.html",
        plan=plan,
        checkin=checkin,
        packet=packet_data(plan, checkin),
        modes=MODES,
    )


@bp.get("/<int:checkin_id>/packet.pdf")
def packet_pdf(plan_id: int, checkin_id: int):
    plan, relation = _plan(plan_id)
    checkin = _checkin(plan, checkin_id)
    pdf = render_packet(plan, checkin, packet_data(plan, checkin))
    response = Response(pdf, content_type="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="conference-packet-{plan.id}-{checkin.id}.pdf"'
    )
    return response
