"""The admin console's two entrances: a password login, and an LMS Administrator launch."""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from ..extensions import db
from ..install.tool_profile import ADMIN_VIEW, VIEW_PARAMETER
from ..lti.claims import VerifiedLaunch
from ..lti.routing import LandingRule, register_landing
from ..web.guard import session_blueprint
from .auth import (
    check_login,
    configure_session_cookie,
    current_admin,
    end_admin_session,
    session_csrf_token,
    start_admin_session,
)
from .console import add_console_routes

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")
lti_bp = session_blueprint("lti_admin", __name__, "/admin")

PUBLIC_ENDPOINTS = {"admin.login"}


@bp.record_once
def _configure(state) -> None:
    configure_session_cookie(state.app)


@bp.before_request
def require_admin_login():
    g.csrf_token = session_csrf_token()
    if request.method not in {"GET", "HEAD", "OPTIONS"}:
        sent = request.form.get("csrf_token", "")
        if not hmac.compare_digest(sent, g.csrf_token):
            abort(
                400,
                description="The form has expired or did not come from the plan tool. "
                "Reload the page and try again.",
            )
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    g.console_admin = current_admin()
    if g.console_admin is None:
        return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
    return None


@bp.after_request
def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@lti_bp.before_request
def require_lms_administrator():
    if not g.launch_session.is_platform_administrator:
        abort(
            403,
            description="The admin console is for LMS administrators. Open it from "
            "an account with the Administrator role in your LMS.",
        )
    g.console_admin = None


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    status = 200
    next_url = request.values.get("next") or url_for("admin.overview")
    if not next_url.startswith("/") or next_url.startswith("//"):
        next_url = url_for("admin.overview")
    if request.method == "POST":
        user = check_login(request.form.get("username", ""), request.form.get("password", ""))
        db.session.commit()
        if user is not None:
            start_admin_session(user)
            log.info("admin signed in admin=%s", user.id)
            return redirect(next_url, code=303)
        error = (
            "The username or password is wrong, or the account is locked for 15 minutes "
            "after five failed attempts. Check both and try again."
        )
        status = 401
    return render_template("admin/login.html", error=error, next_url=next_url), status


@bp.post("/logout")
def logout():
    end_admin_session()
    return redirect(url_for("admin.login"), code=303)


add_console_routes(bp)
add_console_routes(lti_bp)


def is_admin_console_launch(launch: VerifiedLaunch) -> bool:
    return (
        not launch.is_deep_linking
        and launch.is_platform_administrator
        and launch.custom.get(VIEW_PARAMETER, "").strip().lower() == ADMIN_VIEW
    )


# Registered at import, before the app factory adds the coordinator rule, which would
# otherwise take every administrator launch.
register_landing(
    LandingRule(
        name="admin-console",
        matches=is_admin_console_launch,
        target=lambda launch: ("lti_admin.overview", {}),
    )
)
