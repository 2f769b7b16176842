"""Property tests: malformed claims, tokens and login parameters never cause a 500.

Each example runs a real login, signs the mutated claims with the platform's real key and
posts them with the login's state and cookie, so the claims reach every check after the
signature.
"""

from __future__ import annotations

import json
import string

import jwt
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lti_ilp.lti import claims

from ..harness import page_text
from .launches import student

LTI = claims.LTI
CLAIM_NAMES = [
    "iss",
    "aud",
    "azp",
    "sub",
    "nonce",
    "iat",
    "exp",
    "name",
    "email",
    "given_name",
    "family_name",
    "picture",
    "locale",
    claims.MESSAGE_TYPE,
    claims.VERSION,
    claims.DEPLOYMENT_ID,
    claims.TARGET_LINK_URI,
    claims.RESOURCE_LINK,
    claims.ROLES,
    claims.CONTEXT,
    claims.CUSTOM,
    claims.TOOL_PLATFORM,
    claims.ROLE_SCOPE_MENTOR,
    claims.NRPS,
    claims.AGS,
    claims.DEEP_LINKING_SETTINGS,
    LTI + "launch_presentation",
    LTI + "lis",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "<script>alert(1)</script>",
            "a" * 5000,
            "LtiDeepLinkingRequest",
            "1.3.0",
            "http://",
            "javascript:x",
        ]
    ),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(max_size=12) | st.sampled_from(["id", "title", "type"]), children, max_size=4
        )
    ),
    max_leaves=12,
)

claim_changes = st.dictionaries(
    st.sampled_from(CLAIM_NAMES),
    st.none() | json_values | st.just("__remove__"),
    min_size=1,
    max_size=6,
)

FUZZ_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def sign_raw(platform, body: dict) -> str:
    """Sign ``body`` as JSON bytes, because PyJWT's encoder rejects a non-string iss."""
    payload = json.dumps(body).encode()
    return jwt.api_jws.encode(
        payload, platform.private_key_pem, algorithm="RS256", headers={"kid": platform.kid}
    )


def signed_launch(browser, platform, changes: dict) -> tuple[dict, int]:
    pending = browser.start_login(platform, student())
    body = platform.launch_claims(pending.nonce, student())
    for name, value in changes.items():
        if value == "__remove__":
            body.pop(name, None)
        else:
            body[name] = value
    token = sign_raw(platform, body)
    response = browser.post_launch(platform, {"id_token": token, "state": pending.state})
    return body, response.status_code


@FUZZ_SETTINGS
@given(changes=claim_changes)
def test_malformed_claims_never_500(platform, browser, changes):
    _, status = signed_launch(browser, platform, changes)

    assert status < 500, changes
    assert status in {303, 400, 401, 403}, (status, changes)


@FUZZ_SETTINGS
@given(
    id_token=st.text(alphabet=string.printable, max_size=300)
    | st.builds(
        lambda a, b, c: f"{a}.{b}.{c}",
        st.text(max_size=40),
        st.text(max_size=40),
        st.text(max_size=40),
    ),
    state=st.text(max_size=100),
    extra=st.dictionaries(
        st.sampled_from(["lti_storage_state", "error", "error_description"]),
        st.text(max_size=100),
        max_size=2,
    ),
)
@example(id_token="a.b.c", state="\x00", extra={})
def test_malformed_launch_form_never_500(platform, browser, id_token, state, extra):
    response = browser.http.post(
        platform.tool.launch_url,
        data={"id_token": id_token, "state": state, **extra},
        allow_redirects=False,
    )

    assert response.status_code < 500, page_text(response.text)
    assert response.status_code in {400, 401}


@FUZZ_SETTINGS
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "iss",
                "login_hint",
                "target_link_uri",
                "lti_message_hint",
                "client_id",
                "lti_deployment_id",
                "lti_storage_target",
            ]
        ),
        st.text(max_size=200),
        max_size=7,
    ),
    use_post=st.booleans(),
)
@example(params={"iss": "\x00"}, use_post=False)
@example(params={"iss": "x", "client_id": "\x00"}, use_post=True)
def test_malformed_login_never_500(platform, browser, params, use_post):
    login_url = platform.tool.login_url
    if use_post:
        response = browser.http.post(login_url, data=params, allow_redirects=False)
    else:
        response = browser.http.get(login_url, params=params, allow_redirects=False)

    assert response.status_code < 500, page_text(response.text)
    assert response.status_code in {200, 302, 400, 403}


@FUZZ_SETTINGS
@given(
    state=st.text(max_size=80),
    storage_value=st.text(max_size=80),
    origin=st.sampled_from(["", "null", "http://127.0.0.1", "http://evil.example"]),
)
@example(state="\x00", storage_value="", origin="")
def test_malformed_storage_repost_never_500(platform, browser, state, storage_value, origin):
    pending = browser.start_login(platform, student())
    fields = browser.authorize(platform, pending)
    fields["state"] = state or fields["state"]
    fields["lti_storage_state"] = storage_value
    headers = {"Origin": origin} if origin else {}

    response = requests.post(
        platform.tool.launch_url, data=fields, headers=headers, allow_redirects=False, timeout=10
    )

    assert response.status_code < 500, page_text(response.text)
