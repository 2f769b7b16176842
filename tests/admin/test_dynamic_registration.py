"""LTI Dynamic Registration end to end: the demo LMS registers the tool over HTTP."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, jsonify, request
from sqlalchemy import select

from lti_ilp.demo.platform import ROLE_INSTITUTION_STUDENT, ROLE_LEARNER, LaunchRequest
from lti_ilp.extensions import db
from lti_ilp.install.tool_profile import SCOPES
from lti_ilp.platforms.models import Registration
from lti_ilp.registration.models import ApprovalRule, DynamicRegistration
from lti_ilp.registration.service import (
    TOOL_CONFIGURATION,
    create_access_code,
    issuer_prefixes_url,
    set_policy,
)

from ..harness import Browser, ServerThread, find_form, page_text
from .conftest import sign_in


def access_code(app, hours: int = 24) -> str:
    with app.app_context():
        code = create_access_code(timedelta(hours=hours))
        db.session.commit()
        return code


def run_registration(browser: Browser, demo_lms, tool_url: str, code: str | None):
    """Open the tool's registration page as the LMS would, and press Register."""
    tool_registration_url = f"{tool_url}/lti/register"
    if code:
        tool_registration_url += f"?code={code}"
    confirm = browser.http.get(demo_lms.frame_url(tool_registration_url))
    assert confirm.status_code == 200, page_text(confirm.text)
    return browser.submit(confirm, r"/lti/register$", {})


def student_launch():
    return LaunchRequest(
        user_id="student-ana",
        context_id="algebra-1-evening",
        resource_link_id="ilp-algebra-1-evening",
        roles=(ROLE_LEARNER, ROLE_INSTITUTION_STUDENT),
    )


def only_registration(app) -> Registration:
    with app.app_context():
        rows = db.session.execute(select(Registration)).scalars().all()
        assert len(rows) == 1
        db.session.expunge_all()
        return rows[0]


def test_registration_waits_for_approval_then_launches(app, tool_server, demo_lms, browser):
    done = run_registration(browser, demo_lms, tool_server.url, access_code(app))

    assert done.status_code == 200, page_text(done.text)
    text = page_text(done.text)
    assert "waits for approval" in text
    assert "/lti/register/close.js" in done.text
    platform = demo_lms.platform
    assert platform.client_id.startswith("dr-")
    with app.app_context():
        registration = db.session.execute(select(Registration)).scalar_one()
        assert registration.issuer == demo_lms.url
        assert registration.client_id == platform.client_id
        assert registration.active is False
        assert [d.deployment_id for d in registration.deployments] == [platform.deployment_id]
        assert registration.auth_login_url == f"{demo_lms.url}/auth"
        assert registration.key_set_url == f"{demo_lms.url}/jwks"
        record = db.session.execute(select(DynamicRegistration)).scalar_one()
        assert record.product_family_code == "lti-ilp-demo"
        assert set(record.granted_scopes) == set(SCOPES)
        assert record.approved_at is None

    blocked = browser.http.get(
        platform.login_initiation_url(student_launch()), allow_redirects=False
    )
    assert blocked.status_code == 403
    assert "not active yet" in page_text(blocked.text)

    with app.app_context():
        from lti_ilp.registration.service import activate_registration

        registration = db.session.execute(select(Registration)).scalar_one()
        activate_registration(registration, "test")
        db.session.commit()

    page = browser.launch(platform, student_launch())
    assert page.status_code == 200, page_text(page.text)
    assert "/plan" in page.url


def test_registration_request_names_placements_scopes_claims(app, tool_server, demo_lms, browser):
    bodies = []
    demo_lms.app.before_request_funcs.setdefault(None, []).append(
        lambda: (
            bodies.append(request.get_json(silent=True))
            if request.path == "/lti/register-tool"
            else None
        )
    )
    done = run_registration(browser, demo_lms, tool_server.url, access_code(app))
    assert done.status_code == 200, page_text(done.text)

    body = bodies[0]
    assert body["initiate_login_uri"] == f"{tool_server.url}/lti/login"
    assert body["redirect_uris"] == [f"{tool_server.url}/lti/launch"]
    assert body["jwks_uri"] == f"{tool_server.url}/lti/jwks"
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    assert set(body["scope"].split()) == set(SCOPES)
    tool = body[TOOL_CONFIGURATION]
    assert tool["domain"] == urlsplit(tool_server.url).netloc
    assert {"sub", "name", "email"} <= set(tool["claims"])
    placements = {p for message in tool["messages"] for p in message["placements"]}
    assert {"course_navigation", "global_navigation", "assignment_selection"} <= placements
    deep_linking = [m for m in tool["messages"] if m["type"] == "LtiDeepLinkingRequest"]
    assert deep_linking, "checkpoint deep linking message is missing"


def test_registration_page_needs_code_or_admin(app, tool_server, demo_lms, browser):
    page = browser.http.get(demo_lms.frame_url(f"{tool_server.url}/lti/register"))
    assert page.status_code == 403
    assert "lti-ilp registration-link" in page_text(page.text)

    bad_code = browser.http.get(demo_lms.frame_url(f"{tool_server.url}/lti/register?code=made-up"))
    assert bad_code.status_code == 403


def test_access_code_works_once(app, tool_server, demo_lms, browser):
    code = access_code(app)
    first = run_registration(browser, demo_lms, tool_server.url, code)
    assert first.status_code == 200, page_text(first.text)

    second = browser.http.get(demo_lms.frame_url(f"{tool_server.url}/lti/register?code={code}"))
    assert second.status_code == 403


def test_expired_access_code_rejected(app, tool_server, demo_lms, browser):
    code = access_code(app, hours=-1)
    page = browser.http.get(demo_lms.frame_url(f"{tool_server.url}/lti/register?code={code}"))
    assert page.status_code == 403


def test_signed_in_admin_registers_without_code(
    app, tool_server, demo_lms, browser, console_admin
):
    signed_in = sign_in(browser, tool_server.url, console_admin)
    assert signed_in.status_code == 200
    done = run_registration(browser, demo_lms, tool_server.url, None)
    assert done.status_code == 200, page_text(done.text)
    assert only_registration(app).client_id == demo_lms.platform.client_id


def test_registration_without_token_like_brightspace(app, tool_server, demo_lms, browser):
    demo_lms.registration_state.send_registration_token = False
    seen_headers = []
    user_agents = []

    def record_headers():
        if request.path.startswith("/lti/"):
            seen_headers.append(request.headers.get("Authorization"))
            user_agents.append(request.headers.get("User-Agent", ""))

    demo_lms.app.before_request_funcs.setdefault(None, []).append(record_headers)
    frame_url = demo_lms.frame_url(f"{tool_server.url}/lti/register")
    assert "registration_token" not in parse_qs(urlsplit(frame_url).query)

    done = run_registration(browser, demo_lms, tool_server.url, access_code(app))
    assert done.status_code == 200, page_text(done.text)
    assert len(seen_headers) == 2
    assert all(header is None for header in seen_headers)
    assert all(agent.startswith("lti-ilp/") for agent in user_agents), user_agents


def test_trusted_issuer_rule_activates_at_once(app, tool_server, demo_lms, browser):
    with app.app_context():
        set_policy(ApprovalRule.TRUSTED_ISSUERS, [demo_lms.url])
        db.session.commit()
    done = run_registration(browser, demo_lms, tool_server.url, access_code(app))
    assert done.status_code == 200, page_text(done.text)
    assert only_registration(app).active is True

    page = browser.launch(demo_lms.platform, student_launch())
    assert page.status_code == 200


def test_untrusted_issuer_waits_under_trusted_rule(app, tool_server, demo_lms, browser):
    with app.app_context():
        set_policy(ApprovalRule.TRUSTED_ISSUERS, ["https://other-lms.example.edu"])
        db.session.commit()
    done = run_registration(browser, demo_lms, tool_server.url, access_code(app))
    assert done.status_code == 200
    assert only_registration(app).active is False


# Platforms that answer with their own errors ---------------------------------------------


class FakePlatform:
    """An OpenID configuration and a registration endpoint with a scripted answer."""

    def __init__(
        self, registration_status: int, registration_body, *, issuer_suffix: str = ""
    ) -> None:
        app = Flask("fake-platform")
        self.issuer_suffix = issuer_suffix

        @app.get("/openid-configuration")
        def configuration():
            base = self.url
            return jsonify(
                {
                    "issuer": base + self.issuer_suffix,
                    "authorization_endpoint": f"{base}/auth",
                    "token_endpoint": f"{base}/token",
                    "jwks_uri": f"{base}/jwks",
                    "registration_endpoint": f"{base}/register",
                }
            )

        @app.post("/register")
        def register():
            if isinstance(registration_body, str):
                return registration_body, registration_status
            return jsonify(registration_body), registration_status

        self.server = ServerThread(app)
        self.url = self.server.url

    def registration_page(self, browser: Browser, tool_url: str, code: str):
        return browser.http.get(
            f"{tool_url}/lti/register",
            params={
                "code": code,
                "openid_configuration": f"{self.url}/openid-configuration",
                "registration_token": "token-1",
            },
        )


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            422,
            {"errors": [{"field": "redirect_uris", "message": "is not a valid URI"}]},
            "redirect_uris: is not a valid URI",
        ),
        (
            422,
            {"errors": {"scopes": ["contains an unknown scope"]}},
            "scopes: contains an unknown scope",
        ),
        (
            500,
            {"error": "Moodle could not save the tool: domain does not match"},
            "Moodle could not save the tool: domain does not match",
        ),
        (
            500,
            "<html><head><style>p {color: red}</style></head>"
            "<body><p>Internal error: database is locked</p></body></html>",
            "The LMS said: Internal error: database is locked What to do next",
        ),
    ],
)
def test_platform_error_shown_in_plain_words(app, tool_server, browser, status, body, expected):
    fake = FakePlatform(status, body)
    try:
        confirm = fake.registration_page(browser, tool_server.url, access_code(app))
        assert confirm.status_code == 200, page_text(confirm.text)
        failed = browser.submit(confirm, r"/lti/register$", {})
    finally:
        fake.server.stop()

    assert failed.status_code == 502
    text = page_text(failed.text)
    assert f"HTTP {status}" in text
    assert expected in text
    with app.app_context():
        assert db.session.execute(select(Registration)).first() is None


def test_issuer_mismatch_rejected(app, tool_server, browser):
    fake = FakePlatform(200, {}, issuer_suffix="/other-tenant")
    try:
        page = fake.registration_page(browser, tool_server.url, access_code(app))
    finally:
        fake.server.stop()
    assert page.status_code == 502
    assert "does not start with the issuer" in page_text(page.text)


def test_tampered_ticket_rejected(app, tool_server, demo_lms, browser):
    confirm = browser.http.get(
        demo_lms.frame_url(f"{tool_server.url}/lti/register?code={access_code(app)}")
    )
    form = find_form(confirm.text, r"/lti/register$")
    ticket = form["hidden"]["ticket"]
    response = browser.http.post(
        f"{tool_server.url}/lti/register", data={"ticket": ticket[:-2] + "xx"}
    )
    assert response.status_code == 400
    assert "changed" in page_text(response.text)


def test_missing_configuration_parameter(app, tool_server, browser):
    page = browser.http.get(f"{tool_server.url}/lti/register", params={"code": access_code(app)})
    assert page.status_code == 400
    assert "openid_configuration" in page_text(page.text)


@pytest.mark.parametrize(
    ("issuer", "url", "expected"),
    [
        ("https://lms.example.edu", "https://lms.example.edu/lti/config", True),
        ("https://lms.example.edu/", "https://lms.example.edu/lti/config", True),
        ("https://lms.example.edu/moodle", "https://lms.example.edu/moodle/lti/x", True),
        ("https://lms.example.edu/moodle", "https://lms.example.edu/moodle2/lti", False),
        ("https://lms.example.edu", "https://lms.example.edu.evil.test/lti", False),
        ("https://lms.example.edu", "http://lms.example.edu/lti", False),
    ],
)
def test_issuer_prefix_rule(issuer, url, expected):
    assert issuer_prefixes_url(issuer, url) is expected


@pytest.fixture
def cli_runner(monkeypatch, settings, tool_server):
    from click.testing import CliRunner

    monkeypatch.setenv("ILP_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ILP_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("ILP_KEY_ENCRYPTION_KEY", settings.key_encryption_key)
    monkeypatch.setenv("ILP_KEYS_DIR", str(settings.keys_dir))
    monkeypatch.setenv("ILP_BASE_URL", tool_server.url)
    return CliRunner()


def test_cli_registration_link_registers(app, tool_server, demo_lms, browser, cli_runner):
    from lti_ilp.cli import main as cli

    result = cli_runner.invoke(cli, ["registration-link", "--valid-hours", "2"])
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert url.startswith(f"{tool_server.url}/lti/register?code=")

    confirm = browser.http.get(demo_lms.frame_url(url))
    assert confirm.status_code == 200, page_text(confirm.text)
    done = browser.submit(confirm, r"/lti/register$", {})
    assert done.status_code == 200
    assert only_registration(app).active is False


def test_cli_approval_rule(app, cli_runner):
    from lti_ilp.cli import main as cli
    from lti_ilp.registration.service import current_policy

    result = cli_runner.invoke(
        cli,
        [
            "platforms",
            "approval-rule",
            "--rule",
            "trusted_issuers",
            "--trusted-issuer",
            "https://district.example.edu",
        ],
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        policy = current_policy()
        assert policy.approval_rule == ApprovalRule.TRUSTED_ISSUERS
        assert policy.trusted_issuers == ["https://district.example.edu"]

    bad = cli_runner.invoke(
        cli,
        [
            "platforms",
            "approval-rule",
            "--rule",
            "trusted_issuers",
            "--trusted-issuer",
            "district.example.edu",
        ],
    )
    assert bad.exit_code != 0
    assert "absolute https URL" in bad.output


def test_registration_without_deployment_id(app, tool_server, browser):
    fake = FakePlatform(200, {"client_id": "client-no-deployment", "scope": ""})
    try:
        confirm = fake.registration_page(browser, tool_server.url, access_code(app))
        done = browser.submit(confirm, r"/lti/register$", {})
    finally:
        fake.server.stop()
    assert done.status_code == 200, page_text(done.text)
    assert "none yet" in page_text(done.text)
    registration = only_registration(app)
    assert registration.client_id == "client-no-deployment"
    with app.app_context():
        stored = db.session.get(Registration, registration.id)
        assert stored.deployments == []
        record = db.session.execute(select(DynamicRegistration)).scalar_one()
        assert record.granted_scopes == []
