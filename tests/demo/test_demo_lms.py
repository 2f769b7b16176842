"""The demo LMS launches the tool over real HTTP, the way a browser does."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import jwt
import pytest
from sqlalchemy import func, select

from lti_ilp.demo import lms as lms_module
from lti_ilp.demo.platform import ROLE_MENTOR, public_key_pem
from lti_ilp.demo.seed import ALGEBRA, ENGLISH, ilp_link_id, seed_store
from lti_ilp.extensions import db
from lti_ilp.people.models import Person
from lti_ilp.plans.models import Goal, Plan

from ..harness import page_text, parse_form
from .conftest import launch_buttons

ANA = "Open the ILP as Ana Lopez (Student)"
BEN = "Open the ILP as Ben Okafor (Student)"
TEACHER = "Open the ILP as Dana Rivera (Teacher)"
MENTOR = "Open the ILP as Sam Kim (Mentor)"
COORDINATOR = "Open the ILP as Pat Morgan (Administrator)"

GOAL = {
    "statement": "Pass Algebra I with a B",
    "measure": "Unit test scores",
    "target_date": "2027-05-30",
    "step_1": "Finish the unit 3 practice set",
    "step_2": "Go to Tuesday tutoring",
}


def test_index_lists_courses(demo, lms_browser):
    response = lms_browser.http.get(demo.url + "/")
    text = page_text(response.text)
    assert response.status_code == 200
    assert "Algebra I (evening)" in text
    assert "English 10 (evening)" in text
    assert f'href="/courses/{ALGEBRA}"' in response.text


def test_course_page_has_tool_frame_and_buttons(lms_browser):
    page = lms_browser.course_page(ALGEBRA).text
    frame = re.search(r"<iframe[^>]*>", page)
    assert frame is not None
    assert 'title="Individualized Learning Plan tool"' in frame.group(0)
    assert 'name="ilp-frame"' in frame.group(0)

    buttons = launch_buttons(page)
    for label in (ANA, BEN, TEACHER, MENTOR, COORDINATOR):
        assert label in buttons
    assert "Open the ILP as Diego Martinez (Student)" not in buttons
    assert buttons[ANA]["target"] == "ilp-frame"
    assert buttons[ANA]["fields"] == {"user": "student-ana", "link": ilp_link_id(ALGEBRA)}


def test_course_page_unknown_course(demo, lms_browser):
    response = lms_browser.http.get(demo.url + "/courses/no-such-course")
    assert response.status_code == 404
    assert "no-such-course" in page_text(response.text)


def test_student_launch_shows_own_plan(app, lms_browser):
    page = lms_browser.open_ilp(ALGEBRA, ANA)
    assert page.status_code == 200, page_text(page.text)
    assert "My learning plan" in page.text
    assert "/plan" in page.url
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.sub == "student-ana"))
        assert person is not None
        assert person.name == "Ana Lopez"


def test_student_goal_survives_second_course(app, lms_browser):
    page = lms_browser.open_ilp(ALGEBRA, ANA)
    page = lms_browser.submit(page, r"/plan/goals$", GOAL)
    assert page.status_code == 200, page_text(page.text)
    assert GOAL["statement"] in page_text(page.text)

    second = lms_browser.open_ilp(ENGLISH, ANA)
    text = page_text(second.text)
    assert second.status_code == 200
    assert GOAL["statement"] in text
    assert GOAL["step_1"] in text
    assert GOAL["step_2"] in text
    with app.app_context():
        ana_plans = (
            select(func.count(Plan.id))
            .join(Person, Plan.person_id == Person.id)
            .where(Person.sub == "student-ana")
        )
        assert db.session.scalar(ana_plans) == 1
        goal = db.session.scalar(select(Goal).where(Goal.statement == GOAL["statement"]))
        assert goal.plan.person.sub == "student-ana"
        assert sorted(step.description for step in goal.steps) == sorted(
            [GOAL["step_1"], GOAL["step_2"]]
        )


def test_other_student_sees_own_plan(lms_browser, demo):
    page = lms_browser.open_ilp(ALGEBRA, ANA)
    lms_browser.submit(page, r"/plan/goals$", GOAL)

    other = type(lms_browser)(demo).open_ilp(ALGEBRA, BEN)
    assert other.status_code == 200
    assert "My learning plan" in other.text
    assert GOAL["statement"] not in page_text(other.text)


def test_teacher_launch_lists_student(lms_browser, demo):
    student = lms_browser.open_ilp(ALGEBRA, ANA)
    lms_browser.submit(student, r"/plan/goals$", {**GOAL, "progress": "40"})

    teacher = type(lms_browser)(demo).open_ilp(ALGEBRA, TEACHER)
    text = page_text(teacher.text)
    assert teacher.status_code == 200, text
    assert "Algebra I (evening)" in text
    assert "Ana Lopez" in text
    assert "40%" in text
    assert "Ben Okafor" not in text


@pytest.mark.parametrize("button", [ANA, TEACHER, MENTOR, COORDINATOR])
def test_every_role_launch_succeeds(lms_browser, button):
    page = lms_browser.open_ilp(ENGLISH, button)
    assert page.status_code == 200, page_text(page.text)


def test_launch_rejects_non_member(demo, lms_browser):
    response = lms_browser.http.get(
        f"{demo.url}/courses/{ALGEBRA}/launch",
        params={"user": "student-diego", "link": ilp_link_id(ALGEBRA)},
        allow_redirects=False,
    )
    assert response.status_code == 400
    assert "student-diego" in page_text(response.text)
    assert "Location" not in response.headers


def test_launch_rejects_unknown_link(demo, lms_browser):
    response = lms_browser.http.get(
        f"{demo.url}/courses/{ALGEBRA}/launch",
        params={"user": "student-ana", "link": ilp_link_id(ENGLISH)},
        allow_redirects=False,
    )
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_launch_redirects_to_tool_login(demo, lms_browser):
    response = lms_browser.start_launch(ALGEBRA, ANA)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    params = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{demo.tool_url}/lti/login"
    )
    assert params["iss"] == [demo.url]
    assert params["login_hint"] == ["student-ana"]
    assert params["client_id"] == [demo.lms.platform.client_id]
    assert params["target_link_uri"] == [f"{demo.tool_url}/lti/launch"]


def test_auth_page_has_visible_submit_button(lms_browser):
    auth_url = lms_browser.reach_auth(ALGEBRA, ANA)
    response = lms_browser.http.get(auth_url)
    assert response.status_code == 200
    assert re.search(r'<button type="submit">[^<]+</button>', response.text)
    assert "data-auto-submit" in response.text
    assert response.headers["Cache-Control"] == "no-store"


def test_auth_accepts_post(lms_browser):
    auth_url = lms_browser.reach_auth(ALGEBRA, ANA)
    parts = urlsplit(auth_url)
    response = lms_browser.http.post(
        parts._replace(query="").geturl(), data=dict(parse_qsl(parts.query))
    )
    assert response.status_code == 200
    action, fields = parse_form(response.text)
    assert action.endswith("/lti/launch")
    assert fields["id_token"]


def test_auth_rejects_wrong_redirect_uri(demo, lms_browser):
    auth_url = lms_browser.reach_auth(ALGEBRA, ANA)
    params = dict(parse_qsl(urlsplit(auth_url).query))
    params["redirect_uri"] = "http://127.0.0.1:9/collect"
    response = lms_browser.http.get(f"{demo.url}/auth?{urlencode(params)}", allow_redirects=False)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "id_token" not in response.text
    assert "redirect_uri is not registered" in page_text(response.text)


def test_auth_error_goes_to_registered_redirect_uri(demo, lms_browser):
    auth_url = lms_browser.reach_auth(ALGEBRA, ANA)
    params = dict(parse_qsl(urlsplit(auth_url).query))
    params["client_id"] = "some-other-client"
    response = lms_browser.http.get(f"{demo.url}/auth?{urlencode(params)}", allow_redirects=False)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    answer = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{demo.tool_url}/lti/launch"
    )
    assert answer["error"] == ["unauthorized_client"]
    assert answer["error_description"] == ["unknown client_id"]
    assert answer["state"] == [params["state"]]

    tool_page = lms_browser.http.get(response.headers["Location"])
    assert 400 <= tool_page.status_code < 500
    assert "unauthorized_client" in page_text(tool_page.text)


def test_auth_missing_parameters(demo, lms_browser):
    response = lms_browser.http.get(f"{demo.url}/auth", allow_redirects=False)
    assert response.status_code == 400
    assert "id_token" not in response.text


def _id_token_claims(demo, lms_browser, course_id: str, button: str) -> dict:
    auth_url = lms_browser.reach_auth(course_id, button)
    _, fields = parse_form(lms_browser.http.get(auth_url).text)
    return jwt.decode(
        fields["id_token"],
        public_key_pem(demo.setup.platform_private_key_pem),
        algorithms=["RS256"],
        audience=demo.lms.platform.client_id,
    )


def test_id_token_carries_course_and_roles(demo, lms_browser):
    claims = _id_token_claims(demo, lms_browser, ALGEBRA, ANA)
    lti = "https://purl.imsglobal.org/spec/lti/claim/"
    assert claims["iss"] == demo.url
    assert claims["sub"] == "student-ana"
    assert claims["name"] == "Ana Lopez"
    assert claims[lti + "context"]["id"] == ALGEBRA
    assert claims[lti + "context"]["title"] == "Algebra I (evening)"
    assert claims[lti + "resource_link"]["id"] == ilp_link_id(ALGEBRA)
    assert "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner" in claims[lti + "roles"]


def test_mentor_launch_lists_mentees(demo, lms_browser):
    claims = _id_token_claims(demo, lms_browser, ALGEBRA, MENTOR)
    lti = "https://purl.imsglobal.org/spec/lti/claim/"
    assert claims[lti + "roles"] == [ROLE_MENTOR]
    assert claims[lti + "role_scope_mentor"] == ["student-ana", "student-chloe", "student-diego"]


def test_coordinator_launch_has_only_institution_role(demo, lms_browser):
    claims = _id_token_claims(demo, lms_browser, ENGLISH, COORDINATOR)
    assert claims["https://purl.imsglobal.org/spec/lti/claim/roles"] == [
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
    ]


def test_extension_launch_claims_are_sent(demo, lms_browser):
    claim = "https://example.edu/claim/sample"
    demo.lms.launch_claims.append(
        lambda course, link, member: {
            claim: {"course": course.course_id, "user": member.user.user_id}
        }
    )
    claims = _id_token_claims(demo, lms_browser, ENGLISH, ANA)
    assert claims[claim] == {"course": ENGLISH, "user": "student-ana"}


def test_jwks_serves_platform_key(demo, lms_browser):
    response = lms_browser.http.get(demo.url + "/jwks")
    keys = response.json()["keys"]
    assert response.status_code == 200
    assert [key["kid"] for key in keys] == [demo.lms.platform.kid]
    assert "d" not in keys[0]


def test_healthz(demo, lms_browser):
    response = lms_browser.http.get(demo.url + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_extensions_add_routes_and_links(monkeypatch, demo, lms_browser):
    monkeypatch.setattr(
        lms_module,
        "LMS_EXTENSIONS",
        ["lti_ilp.demo.no_such_extension", "tests.demo.sample_extension"],
    )
    lms = lms_module.DemoLms(
        platform=demo.lms.platform,
        store=seed_store(),
        base_url=demo.url,
        tool_base_url=demo.tool_url,
    )
    client = lms_module.create_lms_app(lms).test_client()

    course = client.get(f"/courses/{ALGEBRA}").get_data(as_text=True)
    assert f'href="/courses/{ALGEBRA}/sample-report"' in course
    assert ">Sample report<" in course
    assert 'href="/sample-overview"' in course
    assert client.get(f"/courses/{ALGEBRA}/sample-report").status_code == 200


def test_pages_set_security_headers(demo, lms_browser):
    response = lms_browser.course_page(ALGEBRA)
    policy = response.headers["Content-Security-Policy"]
    assert f"frame-src 'self' {demo.tool_url}" in policy
    assert "script-src" not in policy or "'unsafe-inline'" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
