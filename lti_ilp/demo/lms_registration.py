"""LTI Dynamic Registration in the demo LMS: the platform side.

The LMS admin pastes the tool's registration URL on the "Register a tool" page. The LMS
issues a one-time registration token and opens the tool's page with
``openid_configuration`` and ``registration_token``. The tool reads the configuration and
posts its registration to ``registration_endpoint``. The LMS checks the bearer token and
the registration body and returns a new ``client_id`` and ``deployment_id``. From then on
it launches the tool with that registration.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, current_app, jsonify, render_template_string, request, url_for

from .platform import ToolEndpoints

log = logging.getLogger(__name__)

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
SUPPORTED_SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
SUPPORTED_MESSAGES = ("LtiResourceLinkRequest", "LtiDeepLinkingRequest")
TOKEN_LIFETIME_SECONDS = 3600

bp = Blueprint("lms_registration", __name__)


@dataclass
class ToolRegistration:
    client_id: str
    deployment_id: str
    client_name: str
    scopes: tuple[str, ...]
    placements: tuple[str, ...]


@dataclass
class RegistrationState:
    """Registration tokens and finished registrations, guarded by ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    # registration token -> expiry (time.time())
    tokens: dict[str, float] = field(default_factory=dict)
    registrations: list[ToolRegistration] = field(default_factory=list)
    # Brightspace may leave the registration token out; tests set this to do the same.
    send_registration_token: bool = True


def _lms():
    return current_app.extensions["demo_lms"]


def _state() -> RegistrationState:
    return current_app.extensions["lms_registration"]


def register(app, lms) -> None:
    """Add Dynamic Registration to the demo LMS app (the LMS extension entry point)."""
    app.extensions["lms_registration"] = RegistrationState()
    app.extensions.setdefault("demo_lms", lms)
    app.register_blueprint(bp)
    lms.nav_links.append(("Register a tool", "lms_registration.tools"))


def openid_configuration_url() -> str:
    return _lms().base_url.rstrip("/") + url_for("lms_registration.openid_configuration")


def _issue_token() -> str | None:
    state = _state()
    if not state.send_registration_token:
        return None
    token = secrets.token_urlsafe(24)
    with state.lock:
        now = time.time()
        state.tokens = {key: expiry for key, expiry in state.tokens.items() if expiry > now}
        state.tokens[token] = now + TOKEN_LIFETIME_SECONDS
    return token


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip()
    return None


def _token_is_valid(token: str | None) -> bool:
    state = _state()
    if not state.send_registration_token:
        return True
    with state.lock:
        expiry = state.tokens.get(token or "")
    return expiry is not None and expiry > time.time()


def _use_token(token: str | None) -> bool:
    state = _state()
    if not state.send_registration_token:
        return True
    with state.lock:
        expiry = state.tokens.pop(token or "", None)
    return expiry is not None and expiry > time.time()


@bp.get("/lti/openid-configuration")
def openid_configuration():
    if not _token_is_valid(_bearer()):
        return jsonify(
            error="invalid_token", error_description="the registration token is missing or expired"
        ), 401
    base = _lms().base_url.rstrip("/")
    return jsonify(
        {
            "issuer": _lms().platform.issuer,
            "authorization_endpoint": f"{base}/auth",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "registration_endpoint": base + url_for("lms_registration.registration_endpoint"),
            "scopes_supported": ["openid", *SUPPORTED_SCOPES],
            "response_types_supported": ["id_token"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
            "claims_supported": [
                "iss",
                "sub",
                "aud",
                "name",
                "given_name",
                "family_name",
                "email",
            ],
            PLATFORM_CONFIGURATION: {
                "product_family_code": "lti-ilp-demo",
                "version": "1.0",
                "messages_supported": [{"type": message} for message in SUPPORTED_MESSAGES],
            },
        }
    )


def _invalid(description: str):
    return jsonify(error="invalid_client_metadata", error_description=description), 400


def _check_registration_body(body: object) -> str | None:
    """Return what is wrong with a registration body, or None when it is acceptable."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    for name in ("initiate_login_uri", "jwks_uri", "client_name"):
        if not isinstance(body.get(name), str) or not body[name]:
            return f"{name} is required"
    redirect_uris = body.get("redirect_uris")
    if not isinstance(redirect_uris, list) or not redirect_uris:
        return "redirect_uris must list at least one URI"
    if set(body.get("grant_types") or []) != {"implicit", "client_credentials"}:
        return "grant_types must be implicit and client_credentials"
    if body.get("response_types") != ["id_token"]:
        return 'response_types must be ["id_token"]'
    if body.get("token_endpoint_auth_method") != "private_key_jwt":
        return "token_endpoint_auth_method must be private_key_jwt"
    tool = body.get(TOOL_CONFIGURATION)
    if not isinstance(tool, dict):
        return f"{TOOL_CONFIGURATION} is required"
    target = tool.get("target_link_uri")
    if not isinstance(target, str) or not target:
        return "target_link_uri is required"
    if urlsplit(target).netloc != tool.get("domain"):
        return "domain must match the host of target_link_uri"
    if target not in redirect_uris:
        return "target_link_uri must be one of redirect_uris"
    messages = tool.get("messages") or []
    if not isinstance(messages, list):
        return "messages must be a list"
    for message in messages:
        if not isinstance(message, dict) or message.get("type") not in SUPPORTED_MESSAGES:
            return "every message must have a supported type"
    return None


@bp.post("/lti/register-tool")
def registration_endpoint():
    token = _bearer()
    if not _token_is_valid(token):
        return jsonify(
            error="invalid_token", error_description="the registration token is missing or expired"
        ), 401
    body = request.get_json(silent=True)
    problem = _check_registration_body(body)
    if problem:
        log.warning("tool registration rejected problem=%s", problem)
        return _invalid(problem)
    if not _use_token(token):
        return jsonify(
            error="invalid_token", error_description="the registration token was already used"
        ), 401

    tool = body[TOOL_CONFIGURATION]
    requested = str(body.get("scope", "")).split()
    granted = tuple(scope for scope in requested if scope in SUPPORTED_SCOPES)
    registration = ToolRegistration(
        client_id="dr-" + secrets.token_hex(6),
        deployment_id="dr-deployment-" + secrets.token_hex(4),
        client_name=body["client_name"][:200],
        scopes=granted,
        placements=tuple(
            placement
            for message in tool.get("messages") or []
            for placement in message.get("placements") or []
            if isinstance(placement, str)
        ),
    )
    _adopt(registration, body)
    log.info(
        "tool registered client_id=%s deployment=%s",
        registration.client_id,
        registration.deployment_id,
    )
    answer = dict(body)
    answer["client_id"] = registration.client_id
    answer["scope"] = " ".join(granted)
    answer[TOOL_CONFIGURATION] = {**tool, "deployment_id": registration.deployment_id}
    return jsonify(answer), 200


def _adopt(registration: ToolRegistration, body: dict) -> None:
    """Launch the tool with the new registration from now on."""
    platform = _lms().platform
    launch_url = body[TOOL_CONFIGURATION]["target_link_uri"]
    with _state().lock:
        platform.client_id = registration.client_id
        platform.deployment_id = registration.deployment_id
        platform.tool = ToolEndpoints(
            login_url=body["initiate_login_uri"],
            launch_url=launch_url,
            jwks_url=body["jwks_uri"],
        )
        (
            platform.registration.set_client_id(registration.client_id)
            .set_deployment_id(registration.deployment_id)
            .set_oidc_login_url(body["initiate_login_uri"])
            .set_launch_url(launch_url)
            .set_tool_key_set_url(body["jwks_uri"])
        )
        _state().registrations.append(registration)


TOOLS_PAGE = """{% extends "base.html" %}
{% block title %}Register a tool{% endblock %}
{% block content %}
<h1>Register an LTI tool</h1>
{% if registrations %}
<h2>Registered tools</h2>
<table>
  <thead><tr><th scope="col">Tool</th><th scope="col">Client ID</th>
    <th scope="col">Deployment ID</th><th scope="col">Scopes</th></tr></thead>
  <tbody>{% for item in registrations %}
    <tr><td>{{ item.client_name }}</td><td>{{ item.client_id }}</td>
      <td>{{ item.deployment_id }}</td><td>{{ item.scopes | join(", ") }}</td></tr>
  {% endfor %}</tbody>
</table>
<p>The newest registration is the one this LMS launches. The tool may keep it inactive
  until its admin approves it.</p>
{% endif %}
<form method="post" action="{{ url_for('lms_registration.start') }}">
  <p><label for="registration-url">Tool registration URL</label><br>
    <input type="url" id="registration-url" name="registration_url" required size="60"></p>
  <button type="submit">Start registration</button>
</form>
{% endblock %}"""

FRAME_PAGE = """{% extends "base.html" %}
{% block title %}Registering a tool{% endblock %}
{% block content %}
<h1>Registering the tool</h1>
<p>The tool's registration page is below. When it finishes, this page returns to the list
  of tools.</p>
<iframe id="registration-frame" title="Tool registration" src="{{ frame_url }}"
  width="100%" height="520" data-tool-origin="{{ tool_origin }}"
  data-done-url="{{ url_for('lms_registration.tools') }}"></iframe>
<script src="{{ url_for('lms_registration.frame_script') }}"></script>
{% endblock %}"""

FRAME_SCRIPT = """(function () {
  var frame = document.getElementById("registration-frame");
  window.addEventListener("message", function (event) {
    if (event.origin !== frame.dataset.toolOrigin) { return; }
    if (event.data && event.data.subject === "org.imsglobal.lti.close") {
      window.location.assign(frame.dataset.doneUrl);
    }
  });
})();
"""


@bp.get("/admin/tools")
def tools():
    with _state().lock:
        registrations = list(_state().registrations)
    return render_template_string(TOOLS_PAGE, registrations=registrations)


@bp.post("/admin/tools/register")
def start():
    url = request.form.get("registration_url", "").strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        abort(400, description="Paste the tool's registration URL, starting with https://.")
    return render_template_string(
        FRAME_PAGE,
        frame_url=registration_frame_url(url),
        tool_origin=f"{parts.scheme}://{parts.netloc}",
    )


@bp.get("/admin/tools/registration.js")
def frame_script():
    response = current_app.make_response(FRAME_SCRIPT)
    response.mimetype = "text/javascript"
    return response


def registration_frame_url(tool_registration_url: str) -> str:
    """Return the URL the LMS opens for a registration, with a new registration token."""
    params = {"openid_configuration": openid_configuration_url()}
    token = _issue_token()
    if token:
        params["registration_token"] = token
    separator = "&" if urlsplit(tool_registration_url).query else "?"
    return f"{tool_registration_url}{separator}{urlencode(params)}"
