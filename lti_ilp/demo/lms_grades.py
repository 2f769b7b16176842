"""The demo LMS's assignments and gradebook: Deep Linking and Assignment and Grade Services.

A teacher adds a plan checkpoint through a deep-linking request. The LMS checks the signed
response, creates the assignment link and, when the item has a ``lineItem``, a gradebook
column. Students launch the assignment with an AGS claim, and the tool posts scores to the
line item URL.

lti1p3platform does the protocol checks: ``LTI1P3PlatformConfAbstract.get_access_token``
checks the tool's client assertion against the tool's JWKS, ``validate_deeplinking_resp``
checks the deep-linking response, and ``AssignmentsGradesService`` checks bearer tokens.
On top of that, this module checks what a strict LMS checks: the assertion's iss, sub, aud
and jti, and the response's aud and echoed ``data``. It keeps the gradebook in the LMS store.
Tests can switch on failures for the next score posts, and launches without a line item
claim.

Line item URLs look like Moodle's, ``.../lineitems/3/lineitem?type_id=3``, so the tool's
handling of a query string in a line item URL is exercised on every score.
"""

from __future__ import annotations

import json
import logging
import time
import typing as t
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import jwt
from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from lti1p3platform.ags import LtiAgs
from lti1p3platform.exceptions import (
    LineItemNotFoundException,
    LtiDeepLinkingResponseException,
    LtiException,
    LtiServiceException,
    MissingRequiredClaim,
    UnsupportedGrantType,
)
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest
from lti1p3platform.response import Response
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService, TPage

from .platform import ROLE_INSTRUCTOR, ROLE_LEARNER, LaunchRequest

log = logging.getLogger(__name__)

STATE_NAME = "grades"
CUSTOM_PARAMETER = "ilp_checkpoint"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
ACTIVITY_PROGRESS = {"Initialized", "Started", "InProgress", "Submitted", "Completed"}
GRADING_PROGRESS = {"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}
LINE_ITEMS_PAGE_SIZE = 10
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

# Deep-linking placements a teacher can start from, and the content each one accepts,
# modelled on Canvas's assignment selection, link selection and rich-text editor placements.
PLACEMENTS = {
    "assignment_selection": {
        "label": "Assignment (graded)",
        "accept_types": ["ltiResourceLink"],
        "accept_multiple": False,
        "accept_lineitem": True,
    },
    "link_selection": {
        "label": "Module link",
        "accept_types": ["ltiResourceLink", "link"],
        "accept_multiple": True,
        "accept_lineitem": True,
    },
    "editor_button": {
        "label": "Rich-text editor",
        "accept_types": ["ltiResourceLink", "link", "html", "image"],
        "accept_multiple": True,
        "accept_lineitem": False,
    },
}

FAILURES = {
    "server_error": (500, "Internal Server Error"),
    "rate_limit": (403, "403 Forbidden (Rate Limit Exceeded)"),
    "attempt_limit": (422, "The maximum number of allowed attempts has been reached."),
    "too_many_requests": (429, "Too Many Requests"),
}


@dataclass(frozen=True)
class Assignment:
    link_id: str
    course_id: str
    title: str
    url: str
    custom: dict[str, str]
    text: str = ""
    lineitem_number: int | None = None
    due: str | None = None


@dataclass(frozen=True)
class LineItemRecord:
    number: int
    course_id: str
    label: str
    score_maximum: float
    resource_id: str | None = None
    tag: str | None = None
    resource_link_id: str | None = None
    start: str | None = None
    end: str | None = None


@dataclass(frozen=True)
class ScoreRecord:
    user_id: str
    score_given: float | None
    score_maximum: float | None
    activity_progress: str
    grading_progress: str
    timestamp: datetime
    comment: str | None


@dataclass
class GradesState:
    assignments: dict[str, Assignment] = field(default_factory=dict)
    line_items: dict[int, LineItemRecord] = field(default_factory=dict)
    # (line item number, user_id) -> the latest score.
    scores: dict[tuple[int, str], ScoreRecord] = field(default_factory=dict)
    # Every accepted score post, in arrival order: (line item number, user_id, timestamp).
    received: list[tuple[int, str, str]] = field(default_factory=list)
    # Failures for the next score posts, consumed in order (keys of FAILURES).
    planned_failures: list[str] = field(default_factory=list)
    failed_posts: int = 0
    # Every score post that reached the gradebook, accepted or not: (line item, userId).
    score_posts: list[tuple[int, str]] = field(default_factory=list)
    # When True, assignment launches carry the line items URL but no line item, as
    # Brightspace can.
    omit_lineitem_claim: bool = False
    token_requests: int = 0
    used_jtis: dict[str, float] = field(default_factory=dict)
    next_number: int = 1
    last_deep_link_message: str | None = None


def grades_state(lms) -> GradesState:
    return lms.store.extension_state(STATE_NAME, GradesState)


def set_score_failures(lms, failures: list[str]) -> None:
    """Make the next score posts fail in this order (keys of ``FAILURES``)."""
    unknown = [name for name in failures if name not in FAILURES]
    if unknown:
        raise ValueError(f"unknown failure kinds: {', '.join(unknown)}")
    state = grades_state(lms)
    with lms.store.lock:
        state.planned_failures = list(failures)


def gradebook_cell(lms, course_id: str, link_id: str, user_id: str) -> str | None:
    """Return a student's grade for an assignment as the gradebook shows it, e.g. "6/10"."""
    state = grades_state(lms)
    with lms.store.lock:
        assignment = state.assignments.get(link_id)
        if assignment is None or assignment.lineitem_number is None:
            return None
        line_item = state.line_items[assignment.lineitem_number]
        score = state.scores.get((line_item.number, user_id))
    if score is None or score.score_given is None:
        return None
    return f"{_number(score.score_given)}/{_number(line_item.score_maximum)}"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


# URLs ----------------------------------------------------------------------------------


def lineitems_url(lms, course_id: str) -> str:
    return f"{lms.base_url}/ags/courses/{course_id}/lineitems"


def lineitem_url(lms, record: LineItemRecord) -> str:
    return (
        f"{lms.base_url}/ags/courses/{record.course_id}/lineitems/{record.number}"
        f"/lineitem?type_id={record.number}"
    )


def token_url(lms) -> str:
    return f"{lms.base_url}/token"


# Platform configuration ----------------------------------------------------------------


class _PlatformConfig(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: t.Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: t.Any) -> Registration:
        return self._registration


def _config(lms) -> _PlatformConfig:
    return _PlatformConfig(registration=lms.platform.registration)


def _with_fresh_tool_keys(lms, check: t.Callable[[_PlatformConfig], t.Any]) -> t.Any:
    """Run ``check``; on an unknown tool key, fetch the tool's JWKS again and retry once."""
    try:
        return check(_config(lms))
    except LtiException as exc:
        if "public key" not in str(exc):
            raise
    lms.platform.registration.set_tool_key_set(None)
    return check(_config(lms))


class _FlaskRequest(Request):
    def build_metadata(self, flask_request: t.Any) -> TRequest:
        query: dict[str, t.Any] = {}
        for name in ("page", "limit"):
            value = flask_request.args.get(name, "")
            if value.isdigit() and int(value) > 0:
                query[name] = int(value)
        for name in ("resource_link_id", "resource_id", "tag", "user_id"):
            if flask_request.args.get(name):
                query[name] = flask_request.args[name]
        return {
            "method": flask_request.method,
            "form_data": flask_request.form.to_dict(),
            "get_data": query,
            "headers": flask_request.headers,
            "content_type": flask_request.content_type,
            "path": flask_request.path,
            "json": flask_request.get_json(silent=True),
        }


# The gradebook as an AGS service ----------------------------------------------------------


class _Gradebook(AssignmentsGradesService):
    def __init__(self, lms, course_id: str) -> None:
        self.lms = lms
        self.course_id = course_id
        self.state = grades_state(lms)
        super().__init__(
            _FlaskRequest(request),
            _config(lms),
            lineitems_url(lms, course_id),
            allow_creating_lineitems=True,
        )

    def _record(self, line_item_id: str) -> LineItemRecord:
        number = int(line_item_id) if str(line_item_id).isdigit() else -1
        record = self.state.line_items.get(number)
        if record is None or record.course_id != self.course_id:
            raise LineItemNotFoundException(line_item_id)
        return record

    def _as_json(self, record: LineItemRecord) -> dict[str, t.Any]:
        body = {
            "id": lineitem_url(self.lms, record),
            "label": record.label,
            "scoreMaximum": record.score_maximum,
        }
        for name, value in (
            ("resourceId", record.resource_id),
            ("tag", record.tag),
            ("resourceLinkId", record.resource_link_id),
            ("startDateTime", record.start),
            ("endDateTime", record.end),
        ):
            if value:
                body[name] = value
        return body

    def find_lineitems(
        self,
        page: int = 1,
        limit: int | None = None,
        line_item_id: str | None = None,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        **ignored: t.Any,
    ) -> TPage:
        limit = limit or LINE_ITEMS_PAGE_SIZE
        with self.lms.store.lock:
            records = [
                record
                for record in self.state.line_items.values()
                if record.course_id == self.course_id
                and (resource_link_id is None or record.resource_link_id == resource_link_id)
                and (resource_id is None or record.resource_id == resource_id)
                and (tag is None or record.tag == tag)
            ]
        start = (page - 1) * limit
        chosen = records[start : start + limit]
        return {
            "content": [self._as_json(record) for record in chosen],
            "has_next": start + limit < len(records),
        }

    def find_lineitem(self, line_item_id: str):
        with self.lms.store.lock:
            return self._as_json(self._record(line_item_id))

    def create_lineitem(self, creation_data):
        if not isinstance(creation_data, dict):
            raise LtiServiceException("The line item must be a JSON object.", 400)
        maximum = creation_data.get("scoreMaximum")
        label = creation_data.get("label")
        if not isinstance(maximum, int | float) or maximum <= 0:
            raise LtiServiceException("scoreMaximum must be a number greater than 0.", 400)
        if not isinstance(label, str) or not label.strip():
            raise LtiServiceException("label is required.", 400)
        record = add_line_item(
            self.lms,
            self.course_id,
            label=label,
            score_maximum=float(maximum),
            resource_id=creation_data.get("resourceId"),
            tag=creation_data.get("tag"),
            resource_link_id=creation_data.get("resourceLinkId"),
            start=creation_data.get("startDateTime"),
            end=creation_data.get("endDateTime"),
        )
        return self._as_json(record)

    def update_lineitem(self, update_data):
        raise LtiServiceException("The demo LMS does not change line items.", 405)

    def delete_lineitem(self, line_item_id: str) -> None:
        raise LtiServiceException("The demo LMS does not delete line items.", 405)

    def update_score(self, line_item_id: str, score) -> UpdateScoreStatus:
        with self.lms.store.lock:
            record = self._record(line_item_id)
            new = _checked_score(self.lms, record, score)
            key = (record.number, new.user_id)
            old = self.state.scores.get(key)
            if old is not None and new.timestamp <= old.timestamp:
                return UpdateScoreStatus.OLD_TIMESTAMP
            self.state.scores[key] = new
            self.state.received.append((record.number, new.user_id, score["timestamp"]))
        log.info("demo LMS score received line_item=%s", record.number)
        return UpdateScoreStatus.SUCCESS if old else UpdateScoreStatus.CREATED

    def get_results(
        self,
        line_item_id: str,
        page: int = 1,
        limit: int | None = None,
        user_id: str | None = None,
        **ignored: t.Any,
    ) -> TPage:
        with self.lms.store.lock:
            record = self._record(line_item_id)
            results = [
                {
                    "id": f"{lineitem_url(self.lms, record)}/results/{score.user_id}",
                    "scoreOf": lineitem_url(self.lms, record),
                    "userId": score.user_id,
                    "resultScore": score.score_given,
                    "resultMaximum": score.score_maximum,
                    "comment": score.comment,
                }
                for (number, member), score in self.state.scores.items()
                if number == record.number and (user_id is None or member == user_id)
            ]
        return {"content": results, "has_next": False}


def _checked_score(lms, record: LineItemRecord, score: t.Any) -> ScoreRecord:
    if not isinstance(score, dict):
        raise LtiServiceException("The score must be a JSON object.", 400)
    user_id = score.get("userId")
    if not isinstance(user_id, str) or lms.store.find_member(record.course_id, user_id) is None:
        raise LtiServiceException("userId is not a member of this course.", 400)
    raw_time = score.get("timestamp")
    try:
        timestamp = datetime.fromisoformat(raw_time) if isinstance(raw_time, str) else None
    except ValueError:
        timestamp = None
    if timestamp is None or timestamp.tzinfo is None:
        raise LtiServiceException("timestamp must be an ISO 8601 time with an offset.", 400)
    if score.get("activityProgress") not in ACTIVITY_PROGRESS:
        raise LtiServiceException("activityProgress is missing or invalid.", 400)
    if score.get("gradingProgress") not in GRADING_PROGRESS:
        raise LtiServiceException("gradingProgress is missing or invalid.", 400)
    given = score.get("scoreGiven")
    maximum = score.get("scoreMaximum")
    if given is not None:
        if not isinstance(given, int | float) or given < 0:
            raise LtiServiceException("scoreGiven must be a number of at least 0.", 400)
        if not isinstance(maximum, int | float) or maximum <= 0:
            raise LtiServiceException("scoreMaximum is required with scoreGiven.", 400)
    # The gradebook shows the score scaled to the line item's maximum, as Canvas does.
    scaled = None if given is None else round(given / maximum * record.score_maximum, 2)
    return ScoreRecord(
        user_id,
        scaled,
        record.score_maximum,
        score["activityProgress"],
        score["gradingProgress"],
        timestamp,
        score.get("comment"),
    )


def add_line_item(
    lms,
    course_id: str,
    *,
    label: str,
    score_maximum: float,
    resource_id: str | None = None,
    tag: str | None = None,
    resource_link_id: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> LineItemRecord:
    state = grades_state(lms)
    with lms.store.lock:
        record = LineItemRecord(
            number=state.next_number,
            course_id=course_id,
            label=label[:200],
            score_maximum=score_maximum,
            resource_id=resource_id if isinstance(resource_id, str) else None,
            tag=tag if isinstance(tag, str) else None,
            resource_link_id=resource_link_id if isinstance(resource_link_id, str) else None,
            start=start if isinstance(start, str) else None,
            end=end if isinstance(end, str) else None,
        )
        state.line_items[record.number] = record
        state.next_number += 1
    return record


def _to_flask(response: Response, link: str | None = None):
    if response.code >= 400:
        body = {"error": response.message}
        return current_app.response_class(
            json.dumps(body), status=response.code, mimetype="application/json"
        )
    result = response.result
    headers = {}
    if isinstance(result, dict) and "content" in result:
        if result.get("next"):
            headers["Link"] = f'<{result["next"]}>; rel="next"'
        result = result["content"]
    body = "" if result is None else json.dumps(result)
    return current_app.response_class(
        body, status=response.code, mimetype=response.media_type, headers=headers
    )


# Routes ------------------------------------------------------------------------------------


bp = Blueprint("lms_grades", __name__)


def _lms():
    return current_app.extensions["demo_lms"]


def _course_or_404(course_id: str):
    course = _lms().store.find_course(course_id)
    if course is None:
        abort(404, description=f"There is no course with id {course_id!r} in the demo LMS.")
    return course


@bp.post("/token")
def token():
    """Issue an access token for the client-credentials grant with a signed assertion."""
    lms = _lms()
    form = request.form.to_dict()
    with lms.store.lock:
        grades_state(lms).token_requests += 1
    try:
        _check_assertion_claims(lms, form)
        granted = _with_fresh_tool_keys(lms, lambda config: config.get_access_token(form))
    except (
        MissingRequiredClaim,
        UnsupportedGrantType,
        LtiException,
        jwt.InvalidTokenError,
        ValueError,
    ) as exc:
        log.warning("demo LMS token request rejected reason=%s", type(exc).__name__)
        return {
            "error": "invalid_client"
            if not isinstance(exc, MissingRequiredClaim)
            else "invalid_request",
            "error_description": str(exc) or type(exc).__name__,
        }, 400
    return granted


def _check_assertion_claims(lms, form: dict) -> None:
    """Check what lti1p3platform leaves out: iss, sub, aud, exp and a fresh jti."""
    if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
        raise ValueError("client_assertion_type must be the JWT bearer type")
    assertion = form.get("client_assertion", "")
    header = jwt.get_unverified_header(assertion)
    if not header.get("kid"):
        raise ValueError("the client assertion has no kid header")
    claims = jwt.decode(assertion, options={"verify_signature": False})
    client_id = lms.platform.client_id
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise ValueError("the client assertion's iss and sub must both be the client_id")
    if claims.get("aud") != token_url(lms) and claims.get("aud") != [token_url(lms)]:
        raise ValueError("the client assertion's aud must be the token URL")
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] < time.time():
        raise ValueError("the client assertion has expired")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise ValueError("the client assertion has no jti")
    state = grades_state(lms)
    with lms.store.lock:
        now = time.time()
        state.used_jtis = {key: exp for key, exp in state.used_jtis.items() if exp > now}
        if jti in state.used_jtis:
            raise ValueError("the client assertion's jti was already used")
        state.used_jtis[jti] = float(claims["exp"])


@bp.route("/ags/courses/<course_id>/lineitems", methods=["GET", "POST"])
def line_items(course_id: str):
    _course_or_404(course_id)
    service = _Gradebook(_lms(), course_id)
    if request.method == "POST":
        return _to_flask(service.handle_resp(service.handle_create_lineitem))
    return _to_flask(service.handle_resp(service.handle_get_lineitems))


@bp.route("/ags/courses/<course_id>/lineitems/<int:number>/lineitem", methods=["GET"])
def line_item(course_id: str, number: int):
    _course_or_404(course_id)
    service = _Gradebook(_lms(), course_id)
    return _to_flask(service.handle_resp(service.handle_get_lineitem, line_item_id=str(number)))


@bp.post("/ags/courses/<course_id>/lineitems/<int:number>/lineitem/scores")
def scores(course_id: str, number: int):
    _course_or_404(course_id)
    lms = _lms()
    state = grades_state(lms)
    service = _Gradebook(lms, course_id)
    if request.args.get("type_id") != str(number):
        # Moodle needs the query string of the line item URL on the scores URL too.
        return {"error": "type_id is missing from the scores URL"}, 400
    with lms.store.lock:
        failure = state.planned_failures.pop(0) if state.planned_failures else None
        if failure:
            state.failed_posts += 1
        else:
            body = request.get_json(silent=True)
            user_id = body.get("userId") if isinstance(body, dict) else None
            state.score_posts.append((number, str(user_id)))
    if failure:
        status, message = FAILURES[failure]
        log.info("demo LMS score post failed on purpose status=%s", status)
        if failure == "rate_limit":
            return current_app.response_class(message, status=status, mimetype="text/plain")
        return {"errors": [{"message": message}]}, status
    return _to_flask(service.handle_resp(service.handle_update_score, line_item_id=str(number)))


@bp.get("/ags/courses/<course_id>/lineitems/<int:number>/lineitem/results")
def results(course_id: str, number: int):
    _course_or_404(course_id)
    service = _Gradebook(_lms(), course_id)
    return _to_flask(service.handle_resp(service.handle_get_results, line_item_id=str(number)))


# Deep linking ---------------------------------------------------------------------------


def _data_serializer(lms) -> URLSafeSerializer:
    return URLSafeSerializer(
        lms.platform.client_id + lms.platform.private_key_pem[-64:],
        salt="demo-lms-deep-linking-data",
    )


def deep_linking_launch_request(
    lms, course_id: str, user_id: str, placement: str
) -> LaunchRequest:
    """Build the deep-linking request that a teacher starts from ``placement``."""
    settings = PLACEMENTS[placement]
    member = lms.store.find_member(course_id, user_id)
    if member is None:
        raise ValueError(f"user {user_id!r} is not in course {course_id!r}")
    data = _data_serializer(lms).dumps(
        {"course": course_id, "placement": placement, "nonce": uuid.uuid4().hex}
    )
    claim = {
        "deep_link_return_url": f"{lms.base_url}/deep-linking/return",
        "accept_types": settings["accept_types"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_multiple": settings["accept_multiple"],
        "accept_lineitem": settings["accept_lineitem"],
        "auto_create": True,
        "title": "Plan checkpoint",
        "data": data,
    }
    course = lms.store.get_course(course_id)
    return LaunchRequest(
        user_id=user_id,
        context_id=course_id,
        resource_link_id=f"dl-{uuid.uuid4().hex[:12]}",
        roles=member.launch_roles,
        message_type="LtiDeepLinkingRequest",
        context_title=course.title,
        context_label=course.label,
        service_claims={DEEP_LINKING_SETTINGS: claim},
    )


def receive_deep_linking_response(lms, token: str) -> tuple[list[Assignment], str | None]:
    """Check a deep-linking response and create its assignments; return them and the
    message for the teacher. Raises ``ValueError`` with the reason when it is invalid."""
    placement_types = {"ltiResourceLink", "link", "html", "image", "file"}
    config = _config(lms).set_accepted_deeplinking_types(list(placement_types))
    try:
        items = _with_fresh_tool_keys(
            lms, lambda _: config.validate_deeplinking_resp({"JWT": token})
        )
    except (LtiDeepLinkingResponseException, LtiException, jwt.InvalidTokenError) as exc:
        raise ValueError(f"the response is invalid: {exc}") from exc
    claims = jwt.decode(token, options={"verify_signature": False})
    if claims.get("iss") != lms.platform.client_id:
        raise ValueError("the response's iss is not the tool's client_id")
    audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
    if lms.platform.issuer not in audiences:
        raise ValueError("the response is not addressed to this LMS (aud)")
    if claims.get("https://purl.imsglobal.org/spec/lti/claim/deployment_id") != (
        lms.platform.deployment_id
    ):
        raise ValueError("the response names another deployment")
    try:
        data = _data_serializer(lms).loads(claims.get(DL_CLAIM + "data") or "")
    except BadSignature as exc:
        raise ValueError("the response does not echo the request's data value") from exc
    settings = PLACEMENTS[data["placement"]]
    if len(items) > 1 and not settings["accept_multiple"]:
        raise ValueError("the response has several items, but one was accepted")
    created = [_create_assignment(lms, data["course"], item, settings) for item in items]
    message = claims.get(DL_CLAIM + "errormsg") or claims.get(DL_CLAIM + "msg")
    with lms.store.lock:
        grades_state(lms).last_deep_link_message = message
    return created, message


def _create_assignment(lms, course_id: str, item: dict, settings: dict) -> Assignment:
    if item.get("type") != "ltiResourceLink":
        raise ValueError(f"the demo LMS stores only ltiResourceLink items, got {item.get('type')}")
    if item.get("type") not in settings["accept_types"]:
        raise ValueError("the response has an item type that this placement did not accept")
    url = item.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError("an ltiResourceLink item has no url")
    custom = item.get("custom") if isinstance(item.get("custom"), dict) else {}
    link_id = f"link-{uuid.uuid4().hex[:12]}"

    number = None
    line_item = item.get("lineItem")
    if isinstance(line_item, dict) and settings["accept_lineitem"]:
        maximum = line_item.get("scoreMaximum")
        if not isinstance(maximum, int | float) or maximum <= 0:
            raise ValueError("the lineItem has no valid scoreMaximum")
        record = add_line_item(
            lms,
            course_id,
            label=str(line_item.get("label") or item.get("title") or "Tool"),
            score_maximum=float(maximum),
            resource_id=line_item.get("resourceId"),
            tag=line_item.get("tag"),
            resource_link_id=link_id,
            end=(item.get("submission") or {}).get("endDateTime"),
        )
        number = record.number

    assignment = Assignment(
        link_id=link_id,
        course_id=course_id,
        title=str(item.get("title") or "Plan checkpoint"),
        url=url,
        custom={str(k): str(v) for k, v in custom.items()},
        text=str(item.get("text") or ""),
        lineitem_number=number,
        due=(item.get("submission") or {}).get("endDateTime"),
    )
    with lms.store.lock:
        grades_state(lms).assignments[link_id] = assignment
    log.info(
        "demo LMS assignment created course=%s link=%s graded=%s",
        course_id,
        link_id,
        number is not None,
    )
    return assignment


def assignment_launch_request(lms, link_id: str, user_id: str) -> LaunchRequest:
    """Build the launch of an assignment link, with its AGS claim and custom parameters."""
    state = grades_state(lms)
    with lms.store.lock:
        assignment = state.assignments.get(link_id)
        omit = state.omit_lineitem_claim
        record = (
            state.line_items.get(assignment.lineitem_number)
            if assignment and (assignment.lineitem_number)
            else None
        )
    if assignment is None:
        raise ValueError(f"there is no assignment link {link_id!r}")
    member = lms.store.find_member(assignment.course_id, user_id)
    if member is None:
        raise ValueError(f"user {user_id!r} is not in course {assignment.course_id!r}")
    ags = LtiAgs(
        lineitems_url=lineitems_url(lms, assignment.course_id),
        lineitem_url=lineitem_url(lms, record) if record and not omit else None,
        allow_creating_lineitems=True,
    )
    course = lms.store.get_course(assignment.course_id)
    return LaunchRequest(
        user_id=user_id,
        context_id=assignment.course_id,
        resource_link_id=link_id,
        roles=member.launch_roles,
        target_link_uri=assignment.url,
        custom=dict(assignment.custom),
        context_title=course.title,
        context_label=course.label,
        service_claims=ags.get_lti_ags_launch_claim(),
    )


def _redirect_to_login(lms, launch_request: LaunchRequest):
    login_url = lms.platform.login_initiation_url(launch_request)
    login_url += ("&" if "?" in login_url else "?") + "lti_storage_target=_parent"
    return redirect(login_url, code=302)


@bp.get("/courses/<course_id>/checkpoints/new")
def deep_link_start(course_id: str):
    course = _course_or_404(course_id)
    teachers = [
        member
        for member in _lms().store.members(course_id)
        if ROLE_INSTRUCTOR in member.launch_roles
    ]
    return render_template(
        "lms_grades_add.html", course=course, teachers=teachers, placements=PLACEMENTS
    )


@bp.get("/courses/<course_id>/checkpoints/launch")
def deep_link_launch(course_id: str):
    _course_or_404(course_id)
    placement = request.args.get("placement", "")
    if placement not in PLACEMENTS:
        abort(400, description="Choose where in the course the checkpoint goes.")
    try:
        launch_request = deep_linking_launch_request(
            _lms(), course_id, request.args.get("user", ""), placement
        )
    except ValueError as exc:
        abort(400, description=str(exc))
    return _redirect_to_login(_lms(), launch_request)


@bp.post("/deep-linking/return")
def deep_link_return():
    lms = _lms()
    token = request.form.get("JWT", "")
    try:
        created, message = receive_deep_linking_response(lms, token)
    except ValueError as exc:
        log.warning("demo LMS rejected a deep-linking response")
        return render_template(
            "error.html",
            status=400,
            title="The tool's answer was rejected",
            message=f"The deep-linking response was rejected: {exc}.",
            next_step="Start adding the checkpoint again.",
        ), 400
    return render_template("lms_grades_added.html", created=created, message=message)


@bp.get("/courses/<course_id>/gradebook")
def gradebook(course_id: str):
    course = _course_or_404(course_id)
    lms = _lms()
    state = grades_state(lms)
    members = lms.store.members(course_id)
    students = [member for member in members if ROLE_LEARNER in member.launch_roles]
    with lms.store.lock:
        assignments = [a for a in state.assignments.values() if a.course_id == course_id]
        line_items = {n: r for n, r in state.line_items.items() if r.course_id == course_id}
        cells = {
            (number, member.user.user_id): score
            for (number, user_id), score in state.scores.items()
            for member in students
            if member.user.user_id == user_id
        }
    return render_template(
        "lms_grades_gradebook.html",
        course=course,
        assignments=assignments,
        line_items=line_items,
        students=students,
        members=members,
        cells=cells,
        number=_number,
    )


@bp.get("/courses/<course_id>/assignments/<link_id>/launch")
def assignment_launch(course_id: str, link_id: str):
    _course_or_404(course_id)
    try:
        launch_request = assignment_launch_request(_lms(), link_id, request.args.get("user", ""))
    except ValueError as exc:
        abort(400, description=str(exc))
    if launch_request.context_id != course_id:
        abort(404, description="That assignment is not in this course.")
    return _redirect_to_login(_lms(), launch_request)


@bp.route("/grade-service", methods=["GET", "POST"])
def grade_service_settings():
    """Switches for trying the tool's grade sync against a misbehaving LMS."""
    lms = _lms()
    state = grades_state(lms)
    if request.method == "POST":
        failures: list[str] = []
        for name in FAILURES:
            raw = request.form.get(name, "0").strip() or "0"
            if not raw.isdigit() or int(raw) > 50:
                abort(400, description=f"Enter a whole number from 0 to 50 for {name}.")
            failures.extend([name] * int(raw))
        set_score_failures(lms, failures)
        with lms.store.lock:
            state.omit_lineitem_claim = request.form.get("omit_lineitem_claim") == "1"
        return redirect(url_for("lms_grades.grade_service_settings"), code=303)
    with lms.store.lock:
        snapshot = _state_summary(state)
    return render_template("lms_grades_settings.html", state=snapshot, failures=FAILURES)


def _state_summary(state: GradesState) -> dict:
    return {
        "planned_failures": list(state.planned_failures),
        "omit_lineitem_claim": state.omit_lineitem_claim,
        "token_requests": state.token_requests,
        "received": len(state.received),
        "failed_posts": state.failed_posts,
    }


def register(app: Flask, lms) -> None:
    """Add the assignments, gradebook and grade service endpoints to the demo LMS."""
    grades_state(lms)
    app.register_blueprint(bp)
    lms.course_actions.append(("Add a plan checkpoint", "lms_grades.deep_link_start"))
    lms.course_actions.append(("Assignments and gradebook", "lms_grades.gradebook"))
    lms.nav_links.append(("Grade service switches", "lms_grades.grade_service_settings"))
