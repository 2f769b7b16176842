"""The tool's Dynamic Registration page.

Registration URLs get shared, so the page opens only with a one-time access code (from
``lti-ilp registration-link`` or the console) or for a signed-in console admin. The LMS
shows the page in an iframe or popup, so it carries its state in a signed form field
instead of a cookie.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, current_app, make_response, render_template, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..admin.auth import current_admin
from ..extensions import db
from ..install.tool_profile import PLACEMENTS, TOOL_TITLE
from ..platforms.service import RegistrationError, check_url
from ..urls import external_url
from ..web.headers import content_security_policy
from .service import (
    PlatformConfiguration,
    RegistrationFailed,
    consume_access_code,
    fetch_platform_configuration,
    find_usable_code,
    register_with_platform,
    requested_scopes,
)

log = logging.getLogger(__name__)

bp = Blueprint("registration", __name__)

# The confirmation form must be sent within this time after the page was shown.
TICKET_MAX_AGE_SECONDS = 3600


def registration_url(code: str | None = None) -> str:
    """Return the URL an admin pastes into the LMS, with an access code when given."""
    url = external_url("registration.start")
    return f"{url}?{urlencode({'code': code})}" if code else url


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt="lti-dynamic-registration"
    )


def _framed_by(response: Response, platform_url: str | None) -> Response:
    """Let the registering LMS show this page in an iframe.

    The app-wide frame-ancestors list names only active registrations, and this LMS has
    none yet. So the origin of its openid_configuration URL is added here.
    """
    origin = _origin(platform_url)
    policy = content_security_policy()
    if origin:
        policy = "; ".join(
            f"{part} {origin}" if part.startswith("frame-ancestors") else part
            for part in policy.split("; ")
        )
    response.headers["Content-Security-Policy"] = policy
    response.headers["Cache-Control"] = "no-store"
    return response


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    try:
        check_url("openid_configuration", url)
    except RegistrationError:
        return None
    parts = urlsplit(url)
    if any(char in parts.netloc for char in " ;,'\"*\\"):
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def _page(template: str, status: int, platform_url: str | None, **context) -> Response:
    response = make_response(render_template(template, **context), status)
    return _framed_by(response, platform_url)


def _failure_page(failure: RegistrationFailed, platform_url: str | None = None) -> Response:
    return _page("registration/failed.html", failure.status, platform_url, failure=failure)


def _access_denied(platform_url: str | None) -> Response:
    failure = RegistrationFailed(
        "This registration link has no valid access code. Links work once and expire; "
        "registration links get shared, so the plan tool asks for a code.",
        "Run `lti-ilp registration-link` on the plan tool's server, or make a link in the "
        "admin console, and paste the new URL into the LMS. A signed-in console admin can "
        "also use the plain URL, but only when the LMS opens it in a new window: browsers "
        "send no console cookie to a page inside another site's frame.",
        status=403,
    )
    return _failure_page(failure, platform_url)


def _has_access(code: str | None) -> bool:
    return find_usable_code(code) is not None or current_admin() is not None


@bp.get("/lti/register")
def start():
    code = request.args.get("code")
    config_url = request.args.get("openid_configuration")
    if not _has_access(code):
        return _access_denied(config_url)
    if not config_url:
        return _failure_page(
            RegistrationFailed(
                "This page was opened without the LMS's openid_configuration parameter.",
                f"Paste {registration_url(code) if code else registration_url()} into the LMS's "
                "LTI Dynamic Registration page; the LMS then opens this page with its "
                "configuration.",
                status=400,
            ),
            config_url,
        )
    registration_token = request.args.get("registration_token") or None
    try:
        config = fetch_platform_configuration(config_url, registration_token)
    except RegistrationFailed as failure:
        return _failure_page(failure, config_url)

    ticket = _serializer().dumps(
        {
            "config": config.as_dict(),
            "registration_token": registration_token,
            "code": code,
        }
    )
    return _page(
        "registration/confirm.html",
        200,
        config_url,
        config=config,
        tool_title=TOOL_TITLE,
        placements=PLACEMENTS,
        scopes=requested_scopes(config),
        ticket=ticket,
    )


@bp.post("/lti/register")
def finish():
    try:
        ticket = _serializer().loads(
            request.form.get("ticket", ""), max_age=TICKET_MAX_AGE_SECONDS
        )
    except SignatureExpired:
        return _failure_page(
            RegistrationFailed(
                "This registration page was open for more than an hour.",
                "Start the registration again from the LMS.",
                status=400,
            )
        )
    except BadSignature:
        return _failure_page(
            RegistrationFailed(
                "The registration form did not come from the plan tool, or it was changed.",
                "Start the registration again from the LMS.",
                status=400,
            )
        )
    code = ticket.get("code")
    if not _has_access(code):
        return _access_denied(ticket.get("config", {}).get("url"))

    config = PlatformConfiguration.from_dict(ticket["config"])
    try:
        registration = register_with_platform(config, ticket.get("registration_token"))
    except RegistrationFailed as failure:
        db.session.rollback()
        return _failure_page(failure, config.url)
    if code:
        consume_access_code(code, registration)
    db.session.commit()
    return _page(
        "registration/done.html", 200, config.url, registration=registration, config=config
    )


CLOSE_SCRIPT = """(function () {
  // LTI Dynamic Registration: ask the LMS window that opened this page to close it.
  // The message carries no secret, so any origin may receive it.
  function closeRegistration() {
    var target = window.opener || window.parent;
    if (target && target !== window) {
      target.postMessage({subject: "org.imsglobal.lti.close"}, "*");
    }
  }
  var button = document.getElementById("close-registration");
  if (button) { button.addEventListener("click", closeRegistration); }
  closeRegistration();
})();
"""


@bp.get("/lti/register/close.js")
def close_script():
    """Serve the close-message script as a file, because the CSP allows no inline script."""
    response = make_response(CLOSE_SCRIPT)
    response.mimetype = "text/javascript"
    response.cache_control.max_age = 3600
    return response
