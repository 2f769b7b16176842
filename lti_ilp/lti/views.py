"""LTI endpoints: login initiation, launch, the tool's JWKS and its configuration."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, make_response, redirect, request, url_for

from ..extensions import db
from ..keys.service import public_jwks
from ..nudges import clock
from ..people.service import record_course, record_enrolment, record_person
from ..plans.mentors import sync_lti_mentees
from ..plans.service import ensure_plan
from ..platforms.service import is_local_host
from ..rosters.service import request_sync as request_roster_sync
from ..urls import external_url
from ..web.session import NewSession, open_session
from . import storage
from .errors import BadLaunchRequest, LaunchError, LaunchNotAuthentic
from .launch import AcceptedLaunch, state_cookie_name, verify_launch
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
    settings = current_app.config["ILP_SETTINGS"]
    storage.record_login(state, params)
    # Read these before the commit expires the row, which would cost another query.
    state_value, storage_target = state.state, state.storage_target
    db.session.commit()
    if storage_target and storage.storage_enabled():
        response = make_response(storage.login_storage_page(auth_url, state, storage_target))
        response.headers["Cache-Control"] = "no-store"
    else:
        response = redirect(auth_url, code=302)
    # SameSite=None needs Secure. Browsers treat http://localhost as a secure context and
    # keep Secure cookies from it (the demo and the browser tests); Python's cookie jar
    # does not, so other plain-http loopback hosts keep SameSite=Lax without Secure.
    secure = request.is_secure or request.host.rsplit(":", 1)[0] == "localhost"
    response.set_cookie(
        state_cookie_name(state_value),
        state_value,
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
        # The platform sent an OIDC error instead of an id_token.
        raise LaunchNotAuthentic(
            f"The LMS did not sign you in to the plan tool ({request.form['error']}: "
            f"{request.form.get('error_description', 'no description')}).",
            "Sign in to your LMS again, then open the plan from your course.",
            reason=f"oidc_{request.form['error']}"[:64],
        )

    check_page = storage.browser_check_page(
        request.form, request.cookies, state_cookie_name(request.form.get("state", ""))
    )
    if check_page is not None:
        return check_page
    accepted = verify_launch(request.form, request.cookies)
    session = _record_launch(accepted)
    db.session.commit()

    endpoint, values = landing_for(accepted.launch)
    response = redirect(url_for(endpoint, launch_token=session.token, **values), code=303)
    response.delete_cookie(state_cookie_name(request.form["state"]), path="/lti/")
    return response


def _record_launch(accepted: AcceptedLaunch) -> NewSession:
    """Store the person, course and enrolment of a verified launch and open its session."""
    launch = accepted.launch
    person = record_person(accepted.deployment, launch)
    course = record_course(accepted.deployment, launch)
    if course is not None:
        record_enrolment(course, person, launch)
    if launch.mentee_subs is not None:
        sync_lti_mentees(person, launch.mentee_subs)
    role = launch.course_role
    if course is not None and role is CourseRole.INSTRUCTOR:
        # Only records that a roster sync is due; the worker calls the platform.
        request_roster_sync(course, launch.services, launch.resource_link_id, clock.now())
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
    log.info(
        "launch accepted registration=%s deployment=%s person=%s course=%s role=%s",
        accepted.registration.id,
        accepted.deployment.id,
        person.id,
        course.id if course else None,
        role.value,
    )
    return session


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
            "canvas_config_url": external_url("install.canvas_config"),
            # Opens only with an access code from `lti-ilp registration-link`, or for a
            # signed-in console admin.
            "dynamic_registration_url": external_url("registration.start"),
            "setup_pages_url": external_url("install.index"),
        }
    )
