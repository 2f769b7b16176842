"""The demo LMS's roster side: Names and Role Provisioning with paging, roster changes and
a homepage placement of the plan widget.

The memberships endpoint checks bearer tokens with lti1p3platform's
``LTI1P3PlatformConfAbstract.validate_token``; the tokens come from the demo LMS's token
endpoint. lti1p3platform's ``LtiNrps`` builds the launch claim. Switches on the "Roster
service" page make the LMS behave like real ones: a page size of 50 (Canvas) or 100
(Schoology), rejecting ``rlid``, a lower-case ``link`` header, or not granting the service.
"""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template_string,
    request,
    url_for,
)
from lti1p3platform.exceptions import LtiException
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.nrps import LtiNrps
from lti1p3platform.registration import Registration

from .platform import ROLE_INSTITUTION_STUDENT, ROLE_LEARNER
from .store import Course, Member, ResourceLink, User

log = logging.getLogger(__name__)

STATE_NAME = "roster"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
CUSTOM_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/custom"
MEMBERSHIP_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
PAGE_SIZES = (10, 50, 100)
WIDGET_LINK_PREFIX = "ilp-widget-"
MAX_ADDED_STUDENTS = 200

# Sample names for students added from the roster page.
GIVEN_NAMES = (
    "Amara",
    "Bruno",
    "Carmen",
    "Dmitri",
    "Esi",
    "Felix",
    "Grace",
    "Hiro",
    "Ines",
    "Jonah",
    "Kiri",
    "Leila",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tuan",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zara",
)
FAMILY_NAMES = (
    "Adeyemi",
    "Bauer",
    "Castro",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Gupta",
    "Hassan",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
)


@dataclass
class RosterState:
    page_size: int = 50
    # Reject any memberships request that has ``rlid`` with HTTP 400, as some platforms do.
    reject_rlid: bool = False
    # Send the NRPS claim in launches; off means the service was not granted.
    grant_nrps: bool = True
    # Send the paging header as ``link`` instead of ``Link``.
    lower_case_link_header: bool = False
    # Every memberships request URL, in order (for tests and the settings page).
    requests: list[str] = field(default_factory=list)
    next_student_number: int = 1


def roster_state(lms) -> RosterState:
    return lms.store.extension_state(STATE_NAME, RosterState)


def memberships_url(lms, course_id: str) -> str:
    return f"{lms.base_url}/nrps/courses/{course_id}/memberships"


class _PlatformConfig(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: t.Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: t.Any) -> Registration:
        return self._registration


def _lms():
    return current_app.extensions["demo_lms"]


# Launch claims


def nrps_claim(lms) -> t.Callable[[Course, ResourceLink, Member], dict]:
    def claims(course: Course, link: ResourceLink, member: Member) -> dict:
        if not roster_state(lms).grant_nrps:
            return {}
        return LtiNrps(memberships_url(lms, course.course_id)).get_lti_nrps_launch_claim()

    return claims


def widget_claim(course: Course, link: ResourceLink, member: Member) -> dict:
    if not link.link_id.startswith(WIDGET_LINK_PREFIX):
        return {}
    return {CUSTOM_CLAIM: {"ilp_view": "widget"}}


# The memberships endpoint

bp = Blueprint("lms_roster", __name__)


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, description="A bearer access token is required.")
    return token.strip()


def _check_token(lms, token: str) -> None:
    config = _PlatformConfig(registration=lms.platform.registration)
    try:
        allowed = config.validate_token(token, allowed_scopes=[NRPS_SCOPE])
    except (LtiException, ValueError) as exc:
        log.info("demo LMS memberships token rejected reason=%s", type(exc).__name__)
        abort(401, description="The access token is invalid or has expired.")
    if not allowed:
        abort(403, description="The access token does not grant the membership scope.")


def _page_number() -> int:
    value = request.args.get("page", "1")
    if not value.isdigit() or int(value) < 1:
        abort(400, description="page must be a whole number from 1.")
    return int(value)


def _member_json(member: Member) -> dict:
    user = member.user
    body = {
        "status": "Active",
        "user_id": user.user_id,
        "roles": list(member.membership.roles),
        "name": user.name,
        "email": user.email,
    }
    if user.given_name:
        body["given_name"] = user.given_name
    if user.family_name:
        body["family_name"] = user.family_name
    return body


@bp.get("/nrps/courses/<course_id>/memberships")
def memberships(course_id: str):
    lms = _lms()
    state = roster_state(lms)
    with lms.store.lock:
        state.requests.append(request.url)
    _check_token(lms, _bearer_token())
    course = lms.store.find_course(course_id)
    if course is None:
        abort(404, description=f"There is no course {course_id!r}.")
    if "rlid" in request.args:
        if state.reject_rlid:
            return {"error": "invalid_request", "error_description": "rlid is not supported"}, 400
        if course.find_link(request.args["rlid"]) is None:
            abort(404, description="The resource link is not in this course.")

    members = lms.store.members(course_id)
    page = _page_number()
    size = state.page_size
    chunk = members[(page - 1) * size : page * size]
    body = {
        "id": request.url,
        "context": {"id": course.course_id, "label": course.label, "title": course.title},
        "members": [_member_json(member) for member in chunk],
    }
    response = current_app.json.response(body)
    response.mimetype = MEMBERSHIP_MEDIA_TYPE
    if page * size < len(members):
        query = {key: value for key, value in request.args.items() if key != "page"}
        query["page"] = str(page + 1)
        next_url = f"{memberships_url(lms, course_id)}?{urlencode(query)}"
        name = "link" if state.lower_case_link_header else "Link"
        response.headers[name] = f'<{next_url}>; rel="next"'
    return response


# Demo pages: roster switches, adding and dropping students, placing the widget

SETTINGS_PAGE = """{% extends "base.html" %}
{% macro switch(name, label) %}
  <p><input type="checkbox" id="{{ name }}" name="{{ name }}" value="1"
    {%- if state[name] %} checked{% endif %}>
  <label for="{{ name }}">{{ label }}</label></p>
{% endmacro %}
{% block title %}Roster service{% endblock %}
{% block content %}
<h1>Roster service (Names and Role Provisioning)</h1>
<form method="post">
  <p><label for="page_size">Members per page</label>
  <select id="page_size" name="page_size">{% for size in sizes %}
    <option value="{{ size }}"{% if size == state.page_size %} selected{% endif %}>
      {{- size }}</option>{% endfor %}
  </select></p>
  {{ switch("grant_nrps", "Grant the roster service to the tool in launches") }}
  {{ switch("reject_rlid", "Reject requests that filter by resource link (rlid)") }}
  {{ switch("lower_case_link_header", "Send the paging header in lower case (link)") }}
  <button type="submit">Save</button>
</form>
<h2>Recent memberships requests</h2>
<ul>{% for url in state.requests[-20:] %}<li><code>{{ url }}</code></li>
{%- else %}<li>None yet.</li>{% endfor %}</ul>
{% endblock %}"""

COURSE_ROSTER_PAGE = """{% extends "base.html" %}
{% block title %}Roster of {{ course.title }}{% endblock %}
{% block content %}
<h1>Roster of {{ course.title }}</h1>
<p><a href="{{ url_for('course', course_id=course.course_id) }}">Back to the course</a></p>
<form method="post" action="{{ url_for('lms_roster.add_students', course_id=course.course_id) }}">
  <p><label for="count">Add this many new students</label>
  <input type="number" id="count" name="count" min="1" max="{{ max_added }}" value="24">
  <button type="submit">Add students</button></p>
</form>
<form method="post" action="{{ url_for('lms_roster.place_widget', course_id=course.course_id) }}">
  <p><button type="submit">Place the plan widget on the course homepage</button>
  {% if has_widget %}<span>(placed)</span>{% endif %}</p>
</form>
<h2>{{ members|length }} members</h2>
<ul>{% for member in members %}
  <li>{{ member.user.name }} ({{ member.role_label }})
  <form method="post" class="inline"
        action="{{ url_for('lms_roster.drop_member', course_id=course.course_id) }}">
    <input type="hidden" name="user" value="{{ member.user.user_id }}">
    <button type="submit">Remove {{ member.user.name }} from the course</button>
  </form></li>{% endfor %}
</ul>
{% endblock %}"""


@bp.route("/roster-service", methods=["GET", "POST"])
def settings():
    lms = _lms()
    state = roster_state(lms)
    if request.method == "POST":
        size = request.form.get("page_size", "")
        if not size.isdigit() or int(size) not in PAGE_SIZES:
            abort(400, description=f"Choose a page size of {', '.join(map(str, PAGE_SIZES))}.")
        with lms.store.lock:
            state.page_size = int(size)
            state.grant_nrps = request.form.get("grant_nrps") == "1"
            state.reject_rlid = request.form.get("reject_rlid") == "1"
            state.lower_case_link_header = request.form.get("lower_case_link_header") == "1"
        return redirect(url_for("lms_roster.settings"), code=303)
    return render_template_string(SETTINGS_PAGE, state=state, sizes=PAGE_SIZES)


def _course_or_404(course_id: str) -> Course:
    course = _lms().store.find_course(course_id)
    if course is None:
        abort(404, description=f"There is no course with id {course_id!r} in the demo LMS.")
    return course


@bp.get("/courses/<course_id>/roster")
def course_roster(course_id: str):
    course = _course_or_404(course_id)
    return render_template_string(
        COURSE_ROSTER_PAGE,
        course=course,
        members=_lms().store.members(course_id),
        max_added=MAX_ADDED_STUDENTS,
        has_widget=any(link.link_id.startswith(WIDGET_LINK_PREFIX) for link in course.links),
    )


def add_sample_students(lms, course_id: str, count: int) -> list[str]:
    """Create ``count`` new students and enrol them in the course; return their user ids."""
    state = roster_state(lms)
    added = []
    with lms.store.lock:
        for _ in range(count):
            number = state.next_student_number
            state.next_student_number += 1
            given_name = GIVEN_NAMES[number % len(GIVEN_NAMES)]
            family_name = FAMILY_NAMES[number % len(FAMILY_NAMES)]
            user_id = f"student-roster-{number:03d}"
            lms.store.add_user(
                User(
                    user_id=user_id,
                    name=f"{given_name} {family_name}",
                    email=f"{given_name.lower()}.{family_name.lower()}{number}@example.edu",
                    given_name=given_name,
                    family_name=family_name,
                    institution_roles=(ROLE_INSTITUTION_STUDENT,),
                )
            )
            lms.store.enrol(course_id, user_id, [ROLE_LEARNER])
            added.append(user_id)
    return added


@bp.post("/courses/<course_id>/roster/students")
def add_students(course_id: str):
    _course_or_404(course_id)
    count = request.form.get("count", "")
    if not count.isdigit() or not 1 <= int(count) <= MAX_ADDED_STUDENTS:
        abort(400, description=f"Enter a number of students from 1 to {MAX_ADDED_STUDENTS}.")
    add_sample_students(_lms(), course_id, int(count))
    return redirect(url_for("lms_roster.course_roster", course_id=course_id), code=303)


@bp.post("/courses/<course_id>/roster/drop")
def drop_member(course_id: str):
    _course_or_404(course_id)
    if not _lms().store.unenrol(course_id, request.form.get("user", "")):
        abort(400, description="That person is not in this course. Reload the roster.")
    return redirect(url_for("lms_roster.course_roster", course_id=course_id), code=303)


def place_widget_link(lms, course_id: str) -> ResourceLink:
    """Add a homepage placement of the widget to the course, once; return the link."""
    link_id = WIDGET_LINK_PREFIX + course_id
    with lms.store.lock:
        course = lms.store.get_course(course_id)
        existing = course.find_link(link_id)
        if existing is not None:
            return existing
        link = ResourceLink(link_id, "My learning plan (homepage widget)")
        lms.store.add_course(
            Course(course.course_id, course.title, course.label, course.links + (link,))
        )
    return link


@bp.post("/courses/<course_id>/roster/widget")
def place_widget(course_id: str):
    _course_or_404(course_id)
    place_widget_link(_lms(), course_id)
    return redirect(url_for("course", course_id=course_id), code=303)


@bp.get("/tool-outbox")
def tool_outbox():
    """Open the tool's demo email outbox, where the demo clock can also be moved."""
    return redirect(f"{_lms().tool_base_url}/demo/outbox", code=302)


def register(app: Flask, lms) -> None:
    """Add the memberships endpoint, the roster pages and the NRPS launch claim."""
    roster_state(lms)
    app.register_blueprint(bp)
    lms.launch_claims.append(nrps_claim(lms))
    lms.launch_claims.append(widget_claim)
    lms.course_actions.append(("Roster and homepage widget", "lms_roster.course_roster"))
    lms.nav_links.append(("Roster service switches", "lms_roster.settings"))
    lms.nav_links.append(("Email outbox and demo clock", "lms_roster.tool_outbox"))
