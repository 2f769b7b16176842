"""A small LMS for the demo: course pages that launch the tool over LTI 1.3.

Every page lets anyone act as any demo user, so the LMS must only ever listen on
localhost. ``DemoPlatform`` (lti1p3platform) builds the login initiation URL, checks the
tool's authentication request and signs the id_token; this module only renders pages.

Extension contract
------------------
``create_lms_app`` imports every module named in ``LMS_EXTENSIONS`` that exists and calls
its ``register(app, lms)`` once, after the core routes are added. A module that does not
exist is skipped, while an error raised inside an existing module is not caught. In
``register`` an extension may:

- add routes or a blueprint to ``app``. Templates are looked up in
  ``lti_ilp/demo/templates/``, and pages should extend ``base.html``;
- append ``(label, endpoint)`` to ``lms.course_actions``. The course page links each one as
  ``url_for(endpoint, course_id=<course id>)``, so the endpoint takes a ``course_id``;
- append ``(label, endpoint)`` to ``lms.nav_links``. The top navigation links each one as
  ``url_for(endpoint)``;
- append a function ``(course, link, member) -> dict`` to ``lms.launch_claims``. Every launch
  from a course page adds the claims it returns (claim name -> value, JSON-serialisable) to
  the id_token, such as the AGS endpoint of a graded link;
- keep its state in ``lms.store.extension_state(name, factory)`` and lock
  ``lms.store.lock`` while it changes that state.

Inside a request, ``current_lms()`` returns the ``DemoLms``.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import typing as t
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from flask import Flask, abort, current_app, redirect, render_template, request
from werkzeug.exceptions import HTTPException

from .platform import ROLE_MENTOR, AuthRequestError, DemoPlatform, LaunchRequest
from .store import Course, LmsStore, Member, ResourceLink

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent

LMS_EXTENSIONS = [
    "lti_ilp.demo.lms_grades",
    "lti_ilp.demo.lms_roster",
    "lti_ilp.demo.lms_registration",
]

# Name of the iframe that shows the tool on a course page; launch forms target it.
TOOL_FRAME = "ilp-frame"

ROLE_SCOPE_MENTOR_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/role_scope_mentor"

LaunchClaims = t.Callable[[Course, ResourceLink, Member], dict[str, t.Any]]


@dataclass
class DemoLms:
    platform: DemoPlatform
    store: LmsStore
    base_url: str
    tool_base_url: str
    # (label, endpoint) pairs added by extensions; see the module docstring.
    course_actions: list[tuple[str, str]] = field(default_factory=list)
    nav_links: list[tuple[str, str]] = field(default_factory=list)
    launch_claims: list[LaunchClaims] = field(default_factory=list)


def current_lms() -> DemoLms:
    return current_app.extensions["demo_lms"]


def create_lms_app(lms: DemoLms) -> Flask:
    """Build the demo LMS's Flask app. Call it once per ``DemoLms``."""
    app = Flask(
        __name__,
        template_folder=str(HERE / "templates"),
        static_folder=str(HERE / "static"),
    )
    app.extensions["demo_lms"] = lms
    app.add_url_rule("/", "index", index)
    app.add_url_rule("/courses/<course_id>", "course", course_page)
    app.add_url_rule("/courses/<course_id>/launch", "launch", launch)
    app.add_url_rule("/frame-start", "frame_start", frame_start)
    app.add_url_rule("/auth", "auth", auth, methods=["GET", "POST"])
    app.add_url_rule("/jwks", "jwks", jwks)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.register_error_handler(HTTPException, _http_error)
    app.context_processor(lambda: {"lms": current_lms(), "tool_frame": TOOL_FRAME})
    app.after_request(_security_headers)

    _load_extensions(app, lms)
    return app


def _load_extensions(app: Flask, lms: DemoLms) -> None:
    for name in LMS_EXTENSIONS:
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        module.register(app, lms)
        log.info("demo LMS extension loaded module=%s", name)


def _security_headers(response):
    tool_origin = _origin(current_lms().tool_base_url)
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; "
        f"frame-src 'self' {tool_origin}; "
        f"form-action 'self' {tool_origin}; "
        "frame-ancestors 'self'; base-uri 'none'; object-src 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def index():
    return render_template("index.html", courses=current_lms().store.courses())


def _course_or_404(course_id: str) -> Course:
    course = current_lms().store.find_course(course_id)
    if course is None:
        abort(404, description=f"There is no course with id {course_id!r} in the demo LMS.")
    return course


def course_page(course_id: str):
    course = _course_or_404(course_id)
    members = current_lms().store.members(course.course_id)
    return render_template("course.html", course=course, groups=_group_by_role(members))


_ROLE_ORDER = ("Teacher", "Mentor", "Student", "Administrator", "No role")


def _group_by_role(members: list[Member]) -> list[tuple[str, list[Member]]]:
    groups: dict[str, list[Member]] = {label: [] for label in _ROLE_ORDER}
    for member in members:
        groups.setdefault(member.role_label, []).append(member)
    return [(label, people) for label, people in groups.items() if people]


def frame_start():
    return render_template("frame_start.html")


def launch(course_id: str):
    """Start a launch of the tool as a course member: redirect to the tool's login URL."""
    lms = current_lms()
    course = _course_or_404(course_id)
    user_id = request.args.get("user", "")
    link_id = request.args.get("link", "")
    member = lms.store.find_member(course.course_id, user_id)
    if member is None:
        abort(
            400,
            description=f"User {user_id!r} is not a member of {course.title}. "
            "Choose a person from the course page.",
        )
    link = course.find_link(link_id)
    if link is None:
        abort(
            400,
            description=f"The course {course.title} has no tool link {link_id!r}. "
            "Use a button on the course page.",
        )

    launch_request = LaunchRequest(
        user_id=member.user.user_id,
        context_id=course.course_id,
        resource_link_id=link.link_id,
        roles=member.launch_roles,
        context_title=course.title,
        context_label=course.label,
        service_claims=_launch_claims(lms, course, link, member),
    )
    log.info(
        "demo launch started course=%s user=%s link=%s",
        course.course_id,
        member.user.user_id,
        link.link_id,
    )
    login_url = lms.platform.login_initiation_url(launch_request)
    # The course page answers LTI client-side storage messages (lti_storage_platform.js).
    login_url += ("&" if "?" in login_url else "?") + "lti_storage_target=_parent"
    return redirect(login_url, code=302)


def _launch_claims(
    lms: DemoLms, course: Course, link: ResourceLink, member: Member
) -> dict[str, t.Any]:
    claims: dict[str, t.Any] = {}
    if ROLE_MENTOR in member.launch_roles:
        # LTI 1.3 sends a mentor the user ids of the people they mentor.
        claims[ROLE_SCOPE_MENTOR_CLAIM] = list(lms.store.mentees_of(member.user.user_id))
    for provider in lms.launch_claims:
        claims.update(provider(course, link, member))
    return claims


def auth():
    """Check the tool's OIDC authentication request and render the launch form."""
    platform = current_lms().platform
    params = request.values.to_dict()
    try:
        launch_data = platform.authorize(params)
    except AuthRequestError as exc:
        return _reject_auth_request(platform, params, exc)

    response = current_app.make_response(
        render_template(
            "auth_post.html",
            action=launch_data["launch_url"],
            id_token=launch_data["id_token"],
            state=launch_data["state"],
        )
    )
    # The page carries a signed id_token, so no cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


def _reject_auth_request(platform: DemoPlatform, params: dict, exc: AuthRequestError):
    log.warning(
        "auth request rejected error=%s client_id=%s", exc.error, params.get("client_id", "")[:100]
    )
    redirect_uri = params.get("redirect_uri")
    if redirect_uri != platform.tool.launch_url:
        # Sending an error to an unregistered address would let anyone aim the LMS at it.
        return render_template(
            "error.html",
            status=400,
            title="The tool's sign-in request was rejected",
            message=f"{exc.description} ({exc.error}).",
            next_step="Go back to the course page and open the ILP again. If this keeps "
            "happening, check the tool's registration in the demo LMS.",
        ), 400

    answer = {"error": exc.error, "error_description": exc.description}
    if params.get("state"):
        answer["state"] = params["state"]
    return redirect(f"{redirect_uri}?{urlencode(answer)}", code=302)


def jwks():
    response = current_app.json.response(current_lms().platform.jwks())
    response.cache_control.max_age = 300
    return response


def healthz():
    return {"status": "ok"}


def _http_error(error: HTTPException):
    next_step = {
        400: "Go back to the course page and use one of its buttons.",
        404: "Go back to the list of courses and choose one.",
        405: "Open the page from the course list instead of this address.",
    }.get(error.code or 500)
    return render_template(
        "error.html",
        status=error.code,
        title=error.name,
        message=error.description or "",
        next_step=next_step,
    ), error.code
