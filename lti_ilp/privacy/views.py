"""Privacy pages: a person's own export, and export and deletion by an LMS administrator.

Every lookup is scoped to the deployment of the launch, so a person id from another
deployment is never found.
"""

from __future__ import annotations

import logging

from flask import Response, abort, g, render_template, request
from sqlalchemy import func, or_, select

from ..extensions import db
from ..people.models import Person
from ..web.guard import session_blueprint
from .erase import DELETED_USER_SUB, PrivacyError, delete_person, is_deleted_user
from .export import SCOPE_FULL, SCOPE_OWNER
from .models import CHANNEL_ADMIN, CHANNEL_SELF
from .service import FORMATS, export_bytes, export_filename, log_export

log = logging.getLogger(__name__)

bp = session_blueprint("privacy", __name__, "/privacy")

PAGE_SIZE = 50
MAX_QUERY_CHARS = 200
MAX_REQUESTED_BY_CHARS = 500
CONTENT_TYPES = {"json": "application/json", "pdf": "application/pdf"}


def _check_format(output_format: str) -> None:
    if output_format not in FORMATS:
        abort(404, description=f"There is no {output_format!r} export. Choose JSON or PDF.")


def _download(person: Person, output_format: str, scope: str, channel: str) -> Response:
    data = export_bytes(person, output_format, scope)
    log_export(
        person, output_format, scope, channel, requested_by_person_id=g.launch_session.person_id
    )
    db.session.commit()
    log.info(
        "person %s exported person %s as %s (%s)",
        g.launch_session.person_id,
        person.id,
        output_format,
        scope,
    )
    response = Response(data, content_type=CONTENT_TYPES[output_format])
    filename = export_filename(person.id, output_format)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/my-data.<output_format>")
def own_export(output_format: str):
    _check_format(output_format)
    return _download(g.launch_session.person, output_format, SCOPE_OWNER, CHANNEL_SELF)


def _require_administrator() -> None:
    if not g.launch_session.is_platform_administrator:
        abort(
            403,
            description="Exporting or deleting other people's data is for LMS "
            "administrators. Ask your district's LMS administrator to do it.",
        )


def _person_in_deployment(person_id: int) -> Person:
    person = db.session.execute(
        select(Person).where(
            Person.id == person_id, Person.deployment_id == g.launch_session.deployment_id
        )
    ).scalar_one_or_none()
    if person is None or is_deleted_user(person):
        abort(
            404,
            description=f"There is no person {person_id} in this LMS deployment. "
            "Search the list of people again.",
        )
    return person


@bp.get("/people")
def people():
    _require_administrator()
    query = request.args.get("q", "").strip()[:MAX_QUERY_CHARS]
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    statement = select(Person).where(
        Person.deployment_id == g.launch_session.deployment_id,
        Person.sub != DELETED_USER_SUB,
    )
    if query:
        statement = statement.where(_matches(query))
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    rows = db.session.scalars(
        statement.order_by(Person.id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "privacy/people.html",
        people=rows,
        query=query,
        page=page,
        total=total,
        page_size=PAGE_SIZE,
    )


def _matches(query: str):
    lowered = query.lower()
    conditions = [
        func.lower(column).contains(lowered, autoescape=True)
        for column in (Person.name, Person.email, Person.given_name, Person.family_name)
    ]
    conditions.append(Person.sub == query)
    if query.isdigit():
        conditions.append(Person.id == int(query))
    return or_(*conditions)


@bp.get("/people/<int:person_id>/export.<output_format>")
def person_export(person_id: int, output_format: str):
    _require_administrator()
    _check_format(output_format)
    person = _person_in_deployment(person_id)
    return _download(person, output_format, SCOPE_FULL, CHANNEL_ADMIN)


@bp.get("/people/<int:person_id>/delete")
def confirm_delete(person_id: int):
    _require_administrator()
    person = _person_in_deployment(person_id)
    return render_template("privacy/confirm_delete.html", person=person, errors={}, form={})


@bp.post("/people/<int:person_id>/delete")
def delete(person_id: int):
    _require_administrator()
    person = _person_in_deployment(person_id)
    errors = _delete_form_errors(person)
    if person.id == g.launch_session.person_id:
        errors["confirm"] = (
            "You cannot delete yourself while you are signed in. Use the "
            "command line: lti-ilp privacy delete."
        )
    if errors:
        return render_template(
            "privacy/confirm_delete.html", person=person, errors=errors, form=request.form
        ), 400
    try:
        result = delete_person(
            person,
            channel=CHANNEL_ADMIN,
            requested_by=request.form["requested_by"].strip(),
            requested_by_person_id=g.launch_session.person_id,
        )
    except PrivacyError as exc:
        return render_template(
            "privacy/confirm_delete.html",
            person=person,
            errors={"confirm": str(exc)},
            form=request.form,
        ), 409
    return render_template("privacy/deleted.html", person_id=person_id, result=result)


def _delete_form_errors(person: Person) -> dict[str, str]:
    errors = {}
    requested_by = request.form.get("requested_by", "").strip()
    if not requested_by:
        errors["requested_by"] = (
            "Say who asked for the deletion, such as a ticket number or an office."
        )
    elif len(requested_by) > MAX_REQUESTED_BY_CHARS:
        errors["requested_by"] = f"Keep this under {MAX_REQUESTED_BY_CHARS} characters."
    if request.form.get("confirm", "").strip() != str(person.id):
        errors["confirm"] = f"Type the person id, {person.id}, to confirm."
    return errors
