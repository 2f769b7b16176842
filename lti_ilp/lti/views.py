"""LTI endpoints: login initiation, launch, the tool's JWKS and its configuration."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, redirect, request, url_for

from ..extensions import db
from ..keys.service import public_jwks
from ..people.service import record_course, record_enrolment, record_person
from ..platforms.service import is_local_host
from ..plans.service import ensure_plan
from ..urls import external_url
from ..web.session import open_session
from .errors import BadLaunchRequest, LaunchError, LaunchNotAuthentic
from .launch import state_cookie_name, verify_launch
from .login import start_login
from .roles import CourseRole
from .routing import landing_for

log = logging.getLogger(__name__)

bp = Blueprint("lti", __name__)


def _require_secure_transport() -> None:
    """Plain http is accepted only on localhost, for the demo."""
    if request.is_secure or is_local_host(request.host.rsplit(":", 1)[0].strip("[]")):
        return
    raise BadLaunchRequest(
        "The plan tool accepts launches only over HTTPS.",
        "Ask your LMS administrator to use the https:// address of the plan tool.",
        reason="https_required",
    )


@bp.route("/lti/login", methods=["GET", "POST"])
def login():
    _require_secure_transport()
    params = request.form if request.method == "POST" else request.args
    auth_url, state = start_login(params)
    db.session.commit()
    response = redirect(auth_url, code=302)
    settings = current_app.config["ILP_SETTINGS"]
    secure = request.is_secure
    response.set_cookie(
        state_cookie_name(state.state),
        state.state,
        max_age=settings.launch_state_ttl_seconds,
        secure=secure,
        httponly=True,
        samesite="None" if secure else "Lax",
        partitioned=secure,
        path="/lti/",
    )
    return response


@bp.route("/lti/launch", methods=["POST"])
def launch():
    _require_secure_transport()
    if request.form.get("error"):
        # The platform answered the authentication request with an OIDC error.
        raise LaunchNotAuthentic(
            f"The LMS did not sign you in to the plan tool ({request.form['error']}: "
            f"{request.form.get('error_description', 'no description')}).",
            "Sign in to your LMS again, then open the plan from your course.",
            reason=f"oidc_{request.form['error']}"[:64],
        )
    accepted = verify_launch(request.form, request.cookies)
    launch = accepted.launch
    person = record_person(accepted.deployment, launch)
    course = record_course(accepted.deployment, launch)
    if course is not None:
        record_enrolment(course, person, launch)
    role = launch.course_role
    if role is CourseRole.LEARNER:
        ensure_plan(person)
    session = open_session(
        person=person,
        deployment=accepted.deployment,
        course=course,
        course_role=role.value,
        is_platform_administrator=launch.is_platform_administrator,
        message_type=launch.message_type,
        resource_link_id=launch.resource_link_id,
        target_link_uri=launch.target_link_uri,
        services=launch.services,
    )
    db.session.commit()
    log.info(
        "launch accepted registration=%s deployment=%s person=%s course=%s role=%s",
        accepted.registration.id,
        accepted.deployment.id,
        person.id,
        course.id if course else None,
        role.value,
    )
    endpoint, values = landing_for(launch)
    response = redirect(url_for(endpoint, launch_token=session.token, **values), code=303)
    response.delete_cookie(state_cookie_name(request.form["state"]), path="/lti/")
    return response


@bp.get("/lti/launch")
def launch_get():
    if request.args.get("error"):
        raise LaunchNotAuthentic(
            f"The LMS did not sign you in to the plan tool ({request.args['error']}).",
            "Sign in to your LMS again, then open the plan from your course.",
            reason="oidc_error",
        )
    raise LaunchError(
        "This address is where the LMS sends launches; it cannot be opened directly.",
        "Open the plan from your course in the LMS.",
        reason="launch_get",
    )


@bp.get("/.well-known/jwks.json")
@bp.get("/lti/jwks")
def jwks():
    response = jsonify(public_jwks())
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.get("/lti/config")
def config():
    """Return the tool's endpoints, for an admin or a setup script."""
    return jsonify(
        {
            "title": "Individualized Learning Plan",
            "oidc_initiation_url": external_url("lti.login"),
            "target_link_uri": external_url("lti.launch"),
            "redirect_uris": [external_url("lti.launch")],
            "public_jwk_url": external_url("lti.jwks"),
            "jwks_uri": external_url("lti.jwks"),
        }
    )
