"""Every rejected login or launch: the right 4xx, a page that states what failed, and
nothing stored. Each case starts from a valid signed launch and breaks one thing, so each
test fails if the check it targets is removed."""

from __future__ import annotations

import time

import jwt
import pytest
from sqlalchemy import func, select

from lti_ilp.demo.platform import ROLE_LEARNER, LaunchRequest, generate_private_key_pem
from lti_ilp.extensions import db
from lti_ilp.lti.state import LaunchState
from lti_ilp.people.models import Person
from lti_ilp.plans.models import Plan
from lti_ilp.platforms.models import Registration
from lti_ilp.web.session import LaunchSession

from .conftest import register
from .harness import Browser, page_text

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
STUDENT = LaunchRequest(
    user_id="student-ana",
    context_id="course-algebra",
    resource_link_id="link-1",
    roles=(ROLE_LEARNER,),
)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def assert_nothing_stored(app):
    assert count(app, Person) == 0
    assert count(app, Plan) == 0
    assert count(app, LaunchSession) == 0


def launch_with(browser, platform, mutate=None, headers=None, key_pem=None):
    """Log in, then post an id_token built from valid claims changed by ``mutate``."""
    pending = browser.start_login(platform, STUDENT)
    body = platform.launch_claims(pending.nonce, STUDENT)
    if mutate:
        mutate(body)
    id_token = platform.sign(body, headers=headers, key_pem=key_pem)
    return browser.post_launch(platform, {"id_token": id_token, "state": pending.state})


def assert_rejected(response, status, phrase):
    text = page_text(response.text)
    assert response.status_code == status, text
    assert phrase.lower() in text.lower(), text
    assert "What to do next" in text


def test_valid_token_is_accepted(app, platform, browser):
    """The baseline every rejection below starts from."""
    response = launch_with(browser, platform)
    assert response.status_code == 303
    assert count(app, Person) == 1
    assert count(app, LaunchState) == 0


def remove(claim):
    return lambda body: body.pop(claim)


def setter(claim, value):
    return lambda body: body.__setitem__(claim, value)


CLAIM_CASES = [
    # (case id, mutation, status, phrase on the page)
    ("wrong_iss", setter("iss", "https://evil.example"), 401, "issuer"),
    ("missing_iss", remove("iss"), 401, "issuer"),
    ("wrong_aud", setter("aud", "someone-else"), 401, "not addressed to this tool"),
    ("missing_aud", remove("aud"), 401, "not addressed to this tool"),
    ("wrong_azp", setter("azp", "someone-else"), 401, "authorized party"),
    (
        "aud_list_without_azp",
        lambda b: (b.__setitem__("aud", [b["aud"], "other"]), b.pop("azp")),
        401,
        "authorized party",
    ),
    (
        "expired",
        lambda b: b.update(exp=int(time.time()) - 3600, iat=int(time.time()) - 4000),
        401,
        "expired",
    ),
    (
        "iat_in_future",
        lambda b: b.update(iat=int(time.time()) + 3600, exp=int(time.time()) + 7200),
        401,
        "future",
    ),
    ("missing_exp", remove("exp"), 400, "'exp'"),
    ("missing_nonce", remove("nonce"), 400, "'nonce'"),
    ("wrong_nonce", setter("nonce", "not-the-login-nonce"), 401, "nonce"),
    (
        "unknown_deployment",
        setter(LTI + "deployment_id", "deployment-unknown"),
        403,
        "not on the plan tool's list",
    ),
    ("missing_deployment", remove(LTI + "deployment_id"), 400, "deployment_id"),
    ("missing_message_type", remove(LTI + "message_type"), 400, "message_type"),
    (
        "unknown_message_type",
        setter(LTI + "message_type", "LtiStartProctoring"),
        400,
        "does not handle",
    ),
    (
        "message_type_list",
        setter(LTI + "message_type", [RESOURCE_LINK_REQUEST]),
        400,
        "does not handle",
    ),
    ("wrong_version", setter(LTI + "version", "1.1"), 400, "version"),
    ("missing_version", remove(LTI + "version"), 400, "version"),
    ("missing_resource_link", remove(LTI + "resource_link"), 400, "resource_link"),
    (
        "resource_link_without_id",
        setter(LTI + "resource_link", {"title": "x"}),
        400,
        "resource_link",
    ),
    ("missing_roles", remove(LTI + "roles"), 400, "roles"),
    ("missing_target_link_uri", remove(LTI + "target_link_uri"), 400, "target_link_uri"),
    ("missing_sub", remove("sub"), 400, "anonymous"),
]


@pytest.mark.parametrize(
    ("mutate", "status", "phrase"),
    [case[1:] for case in CLAIM_CASES],
    ids=[case[0] for case in CLAIM_CASES],
)
def test_bad_claims_rejected(app, platform, browser, mutate, status, phrase):
    response = launch_with(browser, platform, mutate)
    assert_rejected(response, status, phrase)
    assert_nothing_stored(app)
    # The login can still be completed: a rejected launch does not burn its state.
    assert count(app, LaunchState) == 1


def test_missing_kid_rejected(app, platform, browser):
    response = launch_with(browser, platform, headers={})
    assert_rejected(response, 401, "no key id")
    assert_nothing_stored(app)


def test_unknown_kid_rejected(app, platform, browser):
    response = launch_with(browser, platform, headers={"kid": "no-such-key"})
    assert_rejected(response, 401, "no-such-key")
    assert_nothing_stored(app)


def test_wrong_signature_rejected(app, platform, browser):
    response = launch_with(browser, platform, key_pem=generate_private_key_pem())
    assert_rejected(response, 401, "signature")
    assert_nothing_stored(app)


def test_alg_none_rejected(app, platform, browser):
    pending = browser.start_login(platform, STUDENT)
    body = platform.launch_claims(pending.nonce, STUDENT)
    unsigned = jwt.encode(body, None, algorithm="none", headers={"kid": platform.kid})
    response = browser.post_launch(platform, {"id_token": unsigned, "state": pending.state})
    assert_rejected(response, 401, "only RS256")
    assert_nothing_stored(app)


def test_hs256_with_public_key_rejected(app, platform, browser):
    pending = browser.start_login(platform, STUDENT)
    body = platform.launch_claims(pending.nonce, STUDENT)
    forged = jwt.encode(
        body,
        "a-guessed-shared-secret-of-enough-length",
        algorithm="HS256",
        headers={"kid": platform.kid},
    )
    response = browser.post_launch(platform, {"id_token": forged, "state": pending.state})
    assert_rejected(response, 401, "only RS256")
    assert_nothing_stored(app)


def test_replayed_launch_rejected(app, platform, browser):
    pending = browser.start_login(platform, STUDENT)
    fields = browser.authorize(platform, pending)
    first = browser.post_launch(platform, fields)
    assert first.status_code == 303
    replay = browser.post_launch(platform, fields)
    assert_rejected(replay, 401, "already used")
    assert count(app, LaunchSession) == 1


def test_nonce_from_earlier_login_rejected(app, platform, browser):
    """A valid token for one login cannot complete another login."""
    first = browser.start_login(platform, STUDENT)
    second = browser.start_login(platform, STUDENT)
    body = platform.launch_claims(first.nonce, STUDENT)
    response = browser.post_launch(
        platform, {"id_token": platform.sign(body), "state": second.state}
    )
    assert_rejected(response, 401, "nonce")
    assert_nothing_stored(app)


def test_state_cookie_from_other_browser_rejected(app, platform, browser):
    pending = browser.start_login(platform, STUDENT)
    fields = browser.authorize(platform, pending)
    response = Browser().post_launch(platform, fields)
    text = page_text(response.text)
    assert response.status_code == 401, text
    assert "did not start the login" in text
    assert "new window" in text
    assert_nothing_stored(app)


def test_expired_state_rejected(app, platform, browser):
    pending = browser.start_login(platform, STUDENT)
    fields = browser.authorize(platform, pending)
    with app.app_context():
        row = db.session.get(LaunchState, pending.state)
        row.expires_at = row.created_at
        db.session.commit()
    response = browser.post_launch(platform, fields)
    assert_rejected(response, 401, "expired")
    assert_nothing_stored(app)


def test_missing_id_token_rejected(app, platform, browser):
    pending = browser.start_login(platform, STUDENT)
    response = browser.post_launch(platform, {"state": pending.state})
    assert_rejected(response, 400, "no id_token")


def test_malformed_id_token_rejected(app, platform, browser):
    pending = browser.start_login(platform, STUDENT)
    response = browser.post_launch(platform, {"id_token": "not.a.jwt", "state": pending.state})
    assert_rejected(response, 400, "not a valid JWT")
    assert_nothing_stored(app)


def test_missing_state_rejected(app, platform, browser):
    response = browser.post_launch(platform, {"id_token": "x.y.z"})
    assert_rejected(response, 400, "no state")


def test_oidc_error_response_shown(app, platform, browser):
    response = browser.post_launch(
        platform, {"error": "login_required", "error_description": "Session ended"}
    )
    assert_rejected(response, 401, "login_required")


def test_unknown_issuer_rejected_at_login(app, tool_server, browser):
    response = browser.http.get(
        f"{tool_server.url}/lti/login",
        params={
            "iss": "https://unknown-lms.example",
            "login_hint": "u1",
            "target_link_uri": f"{tool_server.url}/lti/launch",
        },
        allow_redirects=False,
    )
    assert_rejected(response, 403, "https://unknown-lms.example")
    assert count(app, LaunchState) == 0


def test_unknown_client_id_rejected_at_login(app, platform, tool_server, browser):
    response = browser.http.get(
        f"{tool_server.url}/lti/login",
        params={
            "iss": platform.issuer,
            "client_id": "wrong-client",
            "login_hint": "u1",
            "target_link_uri": f"{tool_server.url}/lti/launch",
        },
        allow_redirects=False,
    )
    assert_rejected(response, 403, "wrong-client")
    assert count(app, LaunchState) == 0


def test_missing_iss_rejected_at_login(app, tool_server, browser):
    response = browser.http.get(
        f"{tool_server.url}/lti/login", params={"login_hint": "u1"}, allow_redirects=False
    )
    assert_rejected(response, 400, "no iss")


def test_foreign_target_link_uri_rejected(app, platform, tool_server, browser):
    response = browser.http.get(
        f"{tool_server.url}/lti/login",
        params={
            "iss": platform.issuer,
            "client_id": platform.client_id,
            "login_hint": "u1",
            "target_link_uri": "https://phishing.example/lti",
        },
        allow_redirects=False,
    )
    assert_rejected(response, 400, "not part of the plan tool")
    assert count(app, LaunchState) == 0


def test_login_without_client_id_uses_single_registration(platform, browser, tool_server):
    response = browser.http.get(
        f"{tool_server.url}/lti/login",
        params={
            "iss": platform.issuer,
            "login_hint": "student-ana",
            "target_link_uri": f"{tool_server.url}/lti/launch",
        },
        allow_redirects=False,
    )
    assert response.status_code == 302
    assert f"client_id={platform.client_id}" in response.headers["Location"]


def test_login_without_client_id_ambiguous(app, tool_server, platform_host, tool_key, browser):
    issuer = f"{platform_host.url}/ambiguous"
    for name in ("ambiguous-a", "ambiguous-b"):
        register(
            app,
            platform_host.add(name, tool_server.url, issuer=issuer, client_id=f"client-{name}"),
        )
    response = browser.http.get(
        f"{tool_server.url}/lti/login",
        params={"iss": issuer, "login_hint": "u1"},
        allow_redirects=False,
    )
    assert_rejected(response, 400, "several registrations")


def test_inactive_registration_rejected(app, platform, browser):
    pending = browser.start_login(platform, STUDENT)
    fields = browser.authorize(platform, pending)
    with app.app_context():
        registration = db.session.scalar(
            select(Registration).where(Registration.client_id == platform.client_id)
        )
        registration.active = False
        db.session.commit()
    response = browser.post_launch(platform, fields)
    assert_rejected(response, 403, "not active")
    assert_nothing_stored(app)


def test_plain_http_rejected_off_localhost(app, platform, browser, tool_server):
    response = browser.http.get(
        f"{tool_server.url}/lti/login",
        params={"iss": platform.issuer, "login_hint": "u1"},
        headers={"Host": "ilp.district.example"},
        allow_redirects=False,
    )
    assert_rejected(response, 400, "HTTPS")


def test_launch_get_explains(app, tool_server, browser):
    response = browser.http.get(f"{tool_server.url}/lti/launch")
    assert_rejected(response, 400, "cannot be opened directly")


def test_expired_session_page(app, tool_server, browser):
    response = browser.http.get(f"{tool_server.url}/s/not-a-session/plan")
    assert_rejected(response, 401, "expired")
