"""LTI client-side storage: the browser binding for launches that lose the state cookie.

Safari, and Chrome with third-party cookies blocked, drop the tool's state cookie inside
the LMS iframe. When the platform's login request names an ``lti_storage_target`` frame,
the login page stores the state in that frame with an ``lti.put_data`` postMessage. If the
launch POST then arrives without the cookie, the tool returns a page that reads the
value back with ``lti.get_data`` and posts the launch again with it. The JavaScript side is
``lti_ilp/static/lti_storage.js``.

A posted value alone proves nothing, because anyone can write a form field. The re-post is
accepted only when it comes from the tool's own page (its ``Origin`` header is the tool's
origin), and that page posts only what the platform frame returned to it.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

from flask import current_app, render_template, request, url_for

from ..platforms.models import Registration
from ..urls import tool_base_url
from .errors import LaunchNotAuthentic
from .state import LaunchState, find_state

# Form field of the re-posted launch that carries the value read from platform storage.
STORAGE_VALUE_FIELD = "lti_storage_state"

# A frame name as platforms send it: "_parent", or a window name such as Canvas's
# "post_message_forwarding".
_TARGET_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

# Login parameters that a new-window relaunch repeats. lti_storage_target is left out, so
# the relaunch uses the state cookie, which a top-level window keeps.
_RELAUNCH_PARAMS = (
    "iss",
    "login_hint",
    "target_link_uri",
    "lti_message_hint",
    "client_id",
    "lti_deployment_id",
    "deployment_id",
)


def storage_key(state: str) -> str:
    """Return the platform storage key under which ``state`` is stored."""
    return f"state_{state}"


def valid_storage_target(value: str | None) -> str | None:
    """Return the platform's storage frame name, or None when it is absent or invalid."""
    if not value or not _TARGET_RE.match(value):
        return None
    return value


def storage_enabled() -> bool:
    return bool(current_app.config["ILP_SETTINGS"].lti_storage_enabled)


def record_login(state: LaunchState, params: Mapping[str, str]) -> None:
    """Keep the storage frame and relaunch parameters of a login on its state row."""
    relaunch = [
        (name, params[name])
        for name in _RELAUNCH_PARAMS
        if isinstance(params.get(name), str) and params.get(name)
    ]
    state.storage_target = valid_storage_target(params.get("lti_storage_target"))
    state.relaunch_query = urlencode(relaunch)


def platform_origin(registration: Registration) -> str:
    """Return the origin that the platform's storage frame posts from.

    It is taken from the registration's OIDC authorization URL, because that is the LMS
    page that the login round trip passes through.
    """
    parts = urlsplit(registration.auth_login_url)
    return f"{parts.scheme}://{parts.netloc}"


def tool_origin() -> str:
    parts = urlsplit(tool_base_url())
    return f"{parts.scheme}://{parts.netloc}"


def storage_binding_matches(state_value: str) -> bool:
    """True when this launch POST carries the state read back from platform storage.

    The value must equal the state, and the POST must come from the tool's own page.
    """
    if not storage_enabled():
        return False
    sent = request.form.get(STORAGE_VALUE_FIELD, "")
    if not sent or not hmac.compare_digest(sent.encode(), state_value.encode()):
        return False
    return request.headers.get("Origin", "") == tool_origin()


def relaunch_url(login: LaunchState | None) -> str | None:
    """Return the login URL that starts the same launch again in a top-level window."""
    if login is None or not login.relaunch_query:
        return None
    return url_for("lti.login") + "?" + login.relaunch_query


def browser_check_page(form: Mapping[str, str], cookies: Mapping[str, str], cookie_name: str):
    """Return the page that replaces a launch whose state cookie is missing, or None.

    With a storage frame from the login, the page reads the state from platform storage
    and posts the launch again. Without one, ``BrowserBindingMissing`` is raised. Returns
    None when the launch carries the cookie or a storage value, or when its state is
    unknown, so that ``verify_launch`` checks and rejects it as usual.
    """
    state_value = form.get("state") or ""
    id_token = form.get("id_token") or ""
    if not state_value or not id_token or cookies.get(cookie_name):
        return None
    if form.get(STORAGE_VALUE_FIELD):
        return None
    state = find_state(state_value)
    if state is None:
        return None

    if state.storage_target and storage_enabled():
        page = render_template(
            "lti/launch_storage.html",
            id_token=id_token,
            state=state_value,
            storage_key=storage_key(state_value),
            storage_target=state.storage_target,
            platform_origin=platform_origin(state.registration),
            relaunch_url=relaunch_url(state),
        )
        return page, 200
    raise BrowserBindingMissing(state)


class BrowserBindingMissing(LaunchNotAuthentic):
    """A launch POST without the state cookie and without a value from platform storage.

    Its page offers to open the plan in a new window, where the cookie works.
    """

    def __init__(self, login: LaunchState | None) -> None:
        super().__init__(
            "This browser did not start the login that this launch answers. Your browser "
            "may be blocking the plan tool's cookies inside the LMS page.",
            "Open the plan in a new window, or allow cookies for the plan tool.",
            reason="state_cookie_missing",
        )
        self.relaunch_url = relaunch_url(login)

    def render_page(self):
        page = render_template(
            "lti/new_window.html",
            message=self.message,
            relaunch_url=self.relaunch_url,
            status=self.status,
        )
        return page, self.status


def login_storage_page(auth_url: str, state: LaunchState, storage_target: str) -> str:
    """Render the login page that stores the state in the platform frame, then goes on to
    the platform's authorization URL."""
    return render_template(
        "lti/login_storage.html",
        auth_url=auth_url,
        state=state.state,
        storage_key=storage_key(state.state),
        storage_target=storage_target,
        platform_origin=platform_origin(state.registration),
    )
