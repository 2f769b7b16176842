"""The deep-linking dialog and its signed response, checked as a platform would."""

from __future__ import annotations

from dataclasses import replace

import jwt
import pytest
from jwt import PyJWKClient

from lti_ilp.demo import lms_grades
from lti_ilp.demo.platform import ROLE_LEARNER, LaunchRequest
from lti_ilp.extensions import db
from lti_ilp.people.models import Person
from lti_ilp.plans.service import add_goal, ensure_plan

from ..grades.conftest import ALGEBRA, TEACHER, add_student_goal, launch_assignment
from ..harness import Browser, page_text, parse_form

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
SETTINGS = DL + "deep_linking_settings"


def _dl_request(demo_lms, placement="assignment_selection", **changes) -> LaunchRequest:
    launch = lms_grades.deep_linking_launch_request(demo_lms.lms, ALGEBRA, TEACHER, placement)
    claim = dict(launch.service_claims[SETTINGS])
    claim.update(changes.pop("claim", {}))
    for name in changes.pop("drop", ()):
        claim.pop(name, None)
    return replace(launch, service_claims={SETTINGS: claim}, **changes)


def _open_dialog(demo_lms, launch):
    browser = Browser()
    page = browser.launch(demo_lms.platform, launch)
    return browser, page


def _response_claims(tool_server, answer) -> tuple[str, dict]:
    action, fields = parse_form(answer.text)
    token = fields["JWT"]
    key = PyJWKClient(f"{tool_server.url}/lti/jwks").get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], options={"verify_aud": False})
    return action, claims


CHECKPOINT = {
    "kind": "goal_progress",
    "title": "Goal check",
    "points": "10",
    "goal_domain": "academic",
    "due_on": "2027-01-15",
}


def test_response_is_signed_resource_link(tool_server, demo_lms):
    launch = _dl_request(demo_lms)
    browser, page = _open_dialog(demo_lms, launch)
    answer = browser.submit(page, r"/checkpoints/deep-link$", CHECKPOINT)
    action, claims = _response_claims(tool_server, answer)

    assert action == f"{demo_lms.url}/deep-linking/return"
    assert claims["iss"] == demo_lms.platform.client_id
    assert claims["aud"] == [demo_lms.platform.issuer]
    assert claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == (
        "LtiDeepLinkingResponse"
    )
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == "deployment-1"
    assert claims[DL + "data"] == launch.service_claims[SETTINGS]["data"]
    assert "10 points" in claims[DL + "msg"]
    [item] = claims[DL + "content_items"]
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == f"{tool_server.url}/lti/launch"
    assert item["lineItem"]["scoreMaximum"] == 10
    assert item["lineItem"]["label"] == "Goal check"
    assert item["lineItem"]["resourceId"].startswith("ilp-checkpoint-")
    assert item["lineItem"]["tag"] == "ilp-goal_progress"
    assert set(item["custom"]) == {"ilp_checkpoint"}
    assert item["submission"]["endDateTime"] == "2027-01-15T23:59:59+00:00"


def test_data_echoed_unchanged(tool_server, demo_lms):
    odd = '{"a": [1, 2], "ü": "x y"}'
    launch = _dl_request(demo_lms, claim={"data": odd})
    browser, page = _open_dialog(demo_lms, launch)
    _, claims = _response_claims(
        tool_server, browser.submit(page, r"/checkpoints/deep-link$", CHECKPOINT)
    )
    assert claims[DL + "data"] == odd


def test_no_data_claim_without_request_data(tool_server, demo_lms):
    launch = _dl_request(demo_lms, drop=("data",))
    browser, page = _open_dialog(demo_lms, launch)
    _, claims = _response_claims(
        tool_server, browser.submit(page, r"/checkpoints/deep-link$", CHECKPOINT)
    )
    assert DL + "data" not in claims


def test_cancel_returns_error_message(tool_server, demo_lms):
    launch = _dl_request(demo_lms)
    browser, page = _open_dialog(demo_lms, launch)
    answer = browser.submit(page, r"/checkpoints/deep-link/cancel$", {})
    action, claims = _response_claims(tool_server, answer)

    assert claims[DL + "content_items"] == []
    assert "cancelled" in claims[DL + "errormsg"]
    assert claims[DL + "data"] == launch.service_claims[SETTINGS]["data"]
    returned = browser.http.post(action, data={"JWT": parse_form(answer.text)[1]["JWT"]})
    assert returned.status_code == 200
    assert demo_lms.state.assignments == {}


def test_no_line_item_when_not_accepted(tool_server, demo_lms):
    launch = _dl_request(demo_lms, "editor_button")
    browser, page = _open_dialog(demo_lms, launch)
    assert "does not accept a grade column" in page_text(page.text)
    _, claims = _response_claims(
        tool_server, browser.submit(page, r"/checkpoints/deep-link$", CHECKPOINT)
    )
    [item] = claims[DL + "content_items"]
    assert "lineItem" not in item
    assert item["url"]


def test_resource_links_not_accepted(demo_lms):
    launch = _dl_request(demo_lms, claim={"accept_types": ["link", "html"]})
    browser = Browser()
    pending = browser.start_login(demo_lms.platform, launch)
    response = browser.post_launch(
        demo_lms.platform, browser.authorize(demo_lms.platform, pending)
    )
    assert response.status_code == 400
    assert "resource link" in page_text(response.text)
    assert demo_lms.state.assignments == {}


def test_deep_linking_without_context(tool_server, demo_lms):
    launch = _dl_request(demo_lms, context_id=None)
    browser, page = _open_dialog(demo_lms, launch)
    assert page.status_code == 200
    _, claims = _response_claims(
        tool_server, browser.submit(page, r"/checkpoints/deep-link$", CHECKPOINT)
    )
    assert len(claims[DL + "content_items"]) == 1


def test_learner_cannot_deep_link(demo_lms):
    launch = _dl_request(demo_lms, user_id="student-ana", roles=(ROLE_LEARNER,))
    browser, page = _open_dialog(demo_lms, launch)
    assert page.status_code == 403
    assert "Only teachers" in page_text(page.text)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("points", "0", "greater than 0"),
        ("points", "ten", "as a number"),
        ("kind", "quiz", "what kind of checkpoint"),
        ("goal_domain", "astrology", "listed goal domains"),
        ("due_on", "2027-13-01", "YYYY-MM-DD"),
    ],
)
def test_invalid_form_rerenders(demo_lms, field, value, message):
    browser, page = _open_dialog(demo_lms, _dl_request(demo_lms))
    answer = browser.submit(page, r"/checkpoints/deep-link$", {**CHECKPOINT, field: value})
    assert answer.status_code == 400
    assert message in page_text(answer.text)


def test_due_before_open_rejected(demo_lms):
    browser, page = _open_dialog(demo_lms, _dl_request(demo_lms))
    answer = browser.submit(
        page,
        r"/checkpoints/deep-link$",
        {**CHECKPOINT, "opens_on": "2027-02-01", "due_on": "2027-01-01"},
    )
    assert answer.status_code == 400
    assert "must not be before" in page_text(answer.text)


def test_reflection_hand_in_scores_full_points(app, demo_lms):
    from lti_ilp.grades.worker import drain

    browser, page = _open_dialog(demo_lms, _dl_request(demo_lms))
    answer = browser.submit(
        page,
        r"/checkpoints/deep-link$",
        {"kind": "reflection", "title": "Mid-year reflection", "points": "5"},
    )
    action, fields = parse_form(answer.text)
    browser.http.post(action, data={"JWT": fields["JWT"]})
    [assignment] = demo_lms.state.assignments.values()

    student, _ = launch_assignment(demo_lms, assignment.link_id, "student-ana")
    add_student_goal(app, "student-ana")
    page = launch_assignment(demo_lms, assignment.link_id, "student-ana", student)[1]
    empty = student.submit(page, r"/checkpoints/[^/]+/work$", {"text": "  "})
    assert empty.status_code == 400
    done = student.submit(
        page, r"/checkpoints/[^/]+/work$", {"text": "I kept my tutoring schedule."}
    )
    assert done.status_code == 200
    assert "Handed in" in page_text(done.text)
    with app.app_context():
        drain()
    assert (
        lms_grades.gradebook_cell(demo_lms.lms, ALGEBRA, assignment.link_id, "student-ana")
        == "5/5"
    )


def test_evidence_link_must_be_web_address(app, demo_lms):
    browser, page = _open_dialog(demo_lms, _dl_request(demo_lms))
    answer = browser.submit(
        page, r"/checkpoints/deep-link$", {"kind": "evidence", "title": "Evidence", "points": "5"}
    )
    action, fields = parse_form(answer.text)
    browser.http.post(action, data={"JWT": fields["JWT"]})
    [assignment] = demo_lms.state.assignments.values()
    student, page = launch_assignment(demo_lms, assignment.link_id, "student-ana")

    bad = student.submit(
        page, r"/checkpoints/[^/]+/work$", {"evidence_url": "javascript:alert(1)"}
    )
    assert bad.status_code == 400
    assert "https://" in page_text(bad.text)
    good = student.submit(
        page, r"/checkpoints/[^/]+/work$", {"evidence_url": "https://docs.example.edu/essay"}
    )
    assert good.status_code == 200
    assert "Handed in" in page_text(good.text)


def test_widget_placed_through_deep_linking(app, tool_server, demo_lms):
    """The teacher places the homepage widget; a student launch of it shows the next step."""
    launch = _dl_request(demo_lms, placement="link_selection")
    browser, page = _open_dialog(demo_lms, launch)
    answer = browser.submit(page, r"/checkpoints/deep-link/widget$", {})
    _, claims = _response_claims(tool_server, answer)

    [item] = claims[DL + "content_items"]
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == f"{tool_server.url}/lti/launch"
    assert item["custom"] == {"ilp_view": "widget"}
    assert "lineItem" not in item
    assert item["iframe"]["height"] > 0

    widget_launch = LaunchRequest(
        user_id="student-ana",
        context_id=ALGEBRA,
        resource_link_id="home-widget",
        roles=(ROLE_LEARNER,),
        custom=item["custom"],
    )
    student = Browser()
    first = student.launch(demo_lms.platform, widget_launch)
    assert first.status_code == 200
    with app.app_context():
        person = db.session.execute(
            db.select(Person).where(Person.sub == "student-ana")
        ).scalar_one()
        add_goal(
            ensure_plan(person),
            person,
            {"statement": "Finish the algebra unit", "domain": "academic", "step_1": "Do page 12"},
        )
        db.session.commit()

    page = student.launch(demo_lms.platform, widget_launch)
    text = page_text(page.text)
    assert page.status_code == 200
    assert "/widget" in page.url
    assert "Do page 12" in text
