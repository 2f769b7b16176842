"""Pages for templates, cohorts and school-year cycles."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for

from ..extensions import db
from ..lti.roles import CourseRole
from ..plans.access import viewer_from_session
from ..plans.mentors import find_person
from ..web.guard import session_blueprint
from . import service
from .models import Cohort, CohortMember, Cycle
from .rollover import RolloverError, rollover
from .service import TemplateFormError

bp = session_blueprint("plan_templates", __name__, "/setup")


def _is_coordinator() -> bool:
    return viewer_from_session(g.launch_session).is_coordinator


def _require_template_author() -> None:
    if not (_is_coordinator() or g.launch_session.course_role == CourseRole.INSTRUCTOR.value):
        abort(403, description="Only coordinators and teachers can manage plan templates.")


def _require_coordinator() -> None:
    if not _is_coordinator():
        abort(403, description="Only coordinators can manage cohorts and school years.")


def _deployment_id() -> int:
    return g.launch_session.person.deployment_id


def _render(errors=None, form=None, editing=None, status=200):
    deployment_id = _deployment_id()
    cycles = db.session.scalars(
        db.select(Cycle).where(Cycle.deployment_id == deployment_id).order_by(Cycle.id.desc())
    )
    return render_template(
        "plans/setup.html",
        templates=service.list_templates(deployment_id),
        cohorts=service.list_cohorts(deployment_id),
        cycles=list(cycles),
        current_cycle=service.current_cycle(deployment_id),
        coordinator=_is_coordinator(),
        course=g.launch_session.course,
        errors=errors or {},
        form=form or {},
        editing=editing,
    ), status


@bp.get("")
def index():
    _require_template_author()
    editing = None
    if request.args.get("edit", "").isdigit():
        editing = service.find_template(_deployment_id(), int(request.args["edit"]))
    response = _render(editing=editing)
    db.session.commit()
    return response


@bp.post("/templates")
def create_template():
    _require_template_author()
    try:
        service.create_template(_deployment_id(), g.launch_session.person, request.form)
    except TemplateFormError as exc:
        db.session.rollback()
        return _render(exc.errors, request.form, status=400)
    db.session.commit()
    return redirect(url_for("plan_templates.index") + "#templates", code=303)


@bp.post("/templates/<int:template_id>")
def new_version(template_id: int):
    _require_template_author()
    template = service.find_template(_deployment_id(), template_id)
    if template is None or not template.is_latest:
        abort(404, description="That template does not exist or has a newer version.")
    try:
        service.new_version(template, g.launch_session.person, request.form)
    except TemplateFormError as exc:
        db.session.rollback()
        return _render(exc.errors, request.form, template, status=400)
    db.session.commit()
    return redirect(url_for("plan_templates.index") + "#templates", code=303)


@bp.post("/cohorts")
def create_cohort():
    _require_template_author()
    deployment_id = _deployment_id()
    name = (request.form.get("name") or "").strip()[:200]
    raw_template = request.form.get("template_id", "")
    template = (
        service.find_template(deployment_id, int(raw_template)) if raw_template.isdigit() else None
    )
    errors = {}
    if not name:
        errors["cohort_name"] = "Give the cohort a name."
    if template is None:
        errors["template_id"] = "Choose a template from the list."
    if errors:
        return _render(errors, request.form, status=400)
    course = g.launch_session.course
    link_course = request.form.get("link_course") == "1" and course is not None
    if not _is_coordinator() and not link_course:
        abort(
            403,
            description="Teachers can create cohorts only for the course they "
            "launched from. Tick the course box, or ask a coordinator.",
        )
    db.session.add(
        Cohort(
            deployment_id=deployment_id,
            name=name,
            template_id=template.id,
            course_id=course.id if link_course else None,
            created_by_id=g.launch_session.person.id,
        )
    )
    db.session.commit()
    return redirect(url_for("plan_templates.index") + "#cohorts", code=303)


@bp.post("/cohorts/<int:cohort_id>/template")
def assign_template(cohort_id: int):
    _require_coordinator()
    deployment_id = _deployment_id()
    cohort = service.find_cohort(deployment_id, cohort_id)
    raw = request.form.get("template_id", "")
    template = service.find_template(deployment_id, int(raw)) if raw.isdigit() else None
    if cohort is None or template is None:
        abort(404, description="That cohort or template does not exist in this deployment.")
    cohort.template_id = template.id
    db.session.commit()
    return redirect(url_for("plan_templates.index") + "#cohorts", code=303)


@bp.post("/cohorts/<int:cohort_id>/members")
def add_member(cohort_id: int):
    _require_coordinator()
    deployment_id = _deployment_id()
    cohort = service.find_cohort(deployment_id, cohort_id)
    raw = request.form.get("person_id", "")
    person = find_person(deployment_id, int(raw)) if raw.isdigit() else None
    if cohort is None or person is None:
        abort(404, description="That cohort or person does not exist in this deployment.")
    exists = db.session.scalar(
        db.select(CohortMember.id).where(
            CohortMember.cohort_id == cohort.id, CohortMember.person_id == person.id
        )
    )
    if exists is None:
        db.session.add(CohortMember(cohort_id=cohort.id, person_id=person.id))
    db.session.commit()
    return redirect(url_for("plan_templates.index") + "#cohorts", code=303)


@bp.post("/rollover")
def start_rollover():
    _require_coordinator()
    if request.form.get("confirm") != "yes":
        return _render(
            {"confirm": "Tick the box to confirm the rollover."}, request.form, status=400
        )
    try:
        rollover(_deployment_id(), g.launch_session.person, request.form.get("name", ""))
    except RolloverError as exc:
        db.session.rollback()
        return _render({"name": str(exc)}, request.form, status=400)
    db.session.commit()
    return redirect(url_for("plan_templates.index") + "#cycles", code=303)
