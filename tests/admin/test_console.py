"""The admin console: logins, LMS Administrator launches, registrations, failures, health."""

from __future__ import annotations

import re
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from lti_ilp.admin.auth import MAX_FAILED_LOGINS, check_login
from lti_ilp.admin.models import AdminUser, LaunchFailure, PlatformHealthCheck
from lti_ilp.cli import main as cli
from lti_ilp.demo.platform import (
    ROLE_ADMINISTRATOR,
    ROLE_INSTITUTION_STUDENT,
    ROLE_INSTRUCTOR,
    ROLE_LEARNER,
    LaunchRequest,
)
from lti_ilp.extensions import db
from lti_ilp.platforms.models import Registration

from ..harness import Browser, find_form, page_text
from .conftest import ADMIN_PASSWORD, sign_in


def student_launch(user="student-ana"):
    return LaunchRequest(
        user_id=user,
        context_id="course-algebra",
        resource_link_id="link-1",
        roles=(ROLE_LEARNER, ROLE_INSTITUTION_STUDENT),
    )


def admin_launch():
    return LaunchRequest(
        user_id="teacher-rivera",
        context_id=None,
        resource_link_id="admin",
        roles=(ROLE_ADMINISTRATOR,),
    )


def session_prefix(page) -> str:
    match = re.search(r"(/s/[^/]+)/", page.url)
    assert match, page.url
    return match.group(1)


def console_url(tool_url: str) -> str:
    return f"{tool_url}/admin/"


# Logins ---------------------------------------------------------------------------------


def test_console_requires_login(tool_server, browser):
    response = browser.http.get(console_url(tool_server.url), allow_redirects=False)
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


def test_login_and_overview(tool_server, browser, platform, console_admin):
    page = sign_in(browser, tool_server.url, console_admin)
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Admin console" in text
    assert platform.issuer in text
    assert platform.client_id in text
    cookie = next(c for c in browser.http.cookies if c.name == "session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    raw = browser.http.get(console_url(tool_server.url))
    assert raw.headers["Cache-Control"] == "no-store"


def test_session_cookie_is_samesite_lax(tool_server, console_admin):
    http = Browser().http
    login_page = http.get(f"{tool_server.url}/admin/login")
    form = find_form(login_page.text, r"/admin/login$")
    response = http.post(
        f"{tool_server.url}/admin/login",
        allow_redirects=False,
        data={**form["hidden"], "username": console_admin, "password": ADMIN_PASSWORD},
    )
    assert response.status_code == 303
    set_cookie = response.headers["Set-Cookie"]
    assert "SameSite=Lax" in set_cookie
    assert "HttpOnly" in set_cookie


def test_wrong_password_rejected(tool_server, browser, console_admin):
    page = sign_in(browser, tool_server.url, console_admin, "not the password")
    assert page.status_code == 401
    assert "wrong" in page_text(page.text)
    assert browser.http.get(console_url(tool_server.url), allow_redirects=False).status_code == 302


def test_lockout_after_failed_logins(app, console_admin):
    with app.app_context():
        for _ in range(MAX_FAILED_LOGINS):
            assert check_login(console_admin, "wrong password!") is None
        db.session.commit()
        assert check_login(console_admin, ADMIN_PASSWORD) is None
        user = db.session.execute(select(AdminUser)).scalar_one()
        assert user.locked_until is not None


def test_login_without_csrf_rejected(tool_server, console_admin):
    http = Browser().http
    response = http.post(
        f"{tool_server.url}/admin/login",
        data={"username": console_admin, "password": ADMIN_PASSWORD},
    )
    assert response.status_code == 400


def test_console_post_without_csrf_rejected(app, tool_server, browser, platform, console_admin):
    sign_in(browser, tool_server.url, console_admin)
    with app.app_context():
        registration_id = db.session.execute(select(Registration.id)).scalar_one()
    response = browser.http.post(
        f"{tool_server.url}/admin/registrations/{registration_id}/deactivate", data={}
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Registration, registration_id).active is True


def test_cli_admin_create(app, monkeypatch, settings):
    monkeypatch.setenv("ILP_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ILP_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("ILP_KEY_ENCRYPTION_KEY", settings.key_encryption_key)
    monkeypatch.setenv("ILP_KEYS_DIR", str(settings.keys_dir))
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["admin", "create", "--username", "ops", "--password-stdin"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    short = runner.invoke(
        cli, ["admin", "create", "--username", "ops2", "--password-stdin"], input="short\n"
    )
    assert short.exit_code != 0
    assert "at least" in short.output
    with app.app_context():
        user = db.session.execute(select(AdminUser)).scalar_one()
        assert user.username == "ops"
        assert "a long enough password" not in user.password_hash
        assert check_login("ops", "a long enough password") is not None


# Registrations --------------------------------------------------------------------------


def test_deactivate_blocks_launch_and_activate_restores(
    app, tool_server, browser, platform, console_admin
):
    overview = sign_in(browser, tool_server.url, console_admin)
    page = browser.submit(overview, r"/registrations/\d+/deactivate$", {})
    assert page.status_code == 200
    assert "inactive" in page_text(page.text)

    student = Browser()
    blocked = student.http.get(
        platform.login_initiation_url(student_launch()), allow_redirects=False
    )
    assert blocked.status_code == 403

    page = browser.submit(page, r"/registrations/\d+/activate$", {})
    assert page.status_code == 200
    assert student.launch(platform, student_launch()).status_code == 200


def test_cli_platforms_activate(app, monkeypatch, settings, platform):
    with app.app_context():
        registration = db.session.execute(select(Registration)).scalar_one()
        registration.active = False
        db.session.commit()
    monkeypatch.setenv("ILP_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ILP_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("ILP_KEY_ENCRYPTION_KEY", settings.key_encryption_key)
    monkeypatch.setenv("ILP_KEYS_DIR", str(settings.keys_dir))
    result = CliRunner().invoke(
        cli,
        ["platforms", "activate", "--issuer", platform.issuer, "--client-id", platform.client_id],
    )
    assert result.exit_code == 0, result.output
    assert "is active" in result.output
    with app.app_context():
        assert db.session.execute(select(Registration)).scalar_one().active is True
    missing = CliRunner().invoke(
        cli, ["platforms", "activate", "--issuer", platform.issuer, "--client-id", "other"]
    )
    assert missing.exit_code != 0
    assert "no registration" in missing.output


def test_edit_registration_rejects_bad_url(app, tool_server, browser, platform, console_admin):
    sign_in(browser, tool_server.url, console_admin)
    with app.app_context():
        registration_id = db.session.execute(select(Registration.id)).scalar_one()
    edit = browser.http.get(f"{tool_server.url}/admin/registrations/{registration_id}/edit")
    page = browser.submit(edit, r"/edit$", {"key_set_url": "ftp://lms.example/jwks"})
    assert page.status_code == 400
    assert "key_set_url must be an absolute https URL" in page_text(page.text)
    with app.app_context():
        assert db.session.get(Registration, registration_id).key_set_url == platform.jwks_url

    page = browser.submit(
        edit,
        r"/edit$",
        {
            "auth_login_url": platform.auth_url,
            "auth_token_url": platform.auth_url.replace("/auth", "/token"),
            "key_set_url": platform.jwks_url,
            "auth_token_audience": "https://api.lms/token",
        },
    )
    assert page.status_code == 200
    with app.app_context():
        assert (
            db.session.get(Registration, registration_id).auth_token_audience
            == "https://api.lms/token"
        )


def test_add_and_deactivate_deployment(app, tool_server, browser, platform, console_admin):
    overview = sign_in(browser, tool_server.url, console_admin)
    page = browser.submit(overview, r"/deployments$", {"deployment_id": "39:2a47f1"})
    assert "39:2a47f1" in page_text(page.text)

    page = browser.submit(page, r"/deployments/\d+/deactivate$", {})
    student = Browser()
    launch = student.start_login(platform, student_launch())
    fields = student.authorize(platform, launch)
    response = student.post_launch(platform, fields)
    assert response.status_code == 403
    assert "unknown_deployment" in _failure_reasons(app)


def test_keys_rotate_from_console(app, tool_server, browser, console_admin):
    overview = sign_in(browser, tool_server.url, console_admin)
    page = browser.submit(overview, r"/keys/rotate$", {})
    assert page.status_code == 200
    text = page_text(page.text)
    assert "now signs tokens" in text
    assert "previous" in text


def test_policy_rejects_bad_issuer(tool_server, browser, console_admin):
    overview = sign_in(browser, tool_server.url, console_admin)
    page = browser.submit(
        overview, r"/policy$", {"approval_rule": "trusted_issuers", "trusted_issuers": "not a url"}
    )
    assert page.status_code == 400
    assert "trusted issuer must be an absolute https URL" in page_text(page.text)


def test_registration_link_from_console(app, tool_server, browser, console_admin):
    overview = sign_in(browser, tool_server.url, console_admin)
    page = browser.submit(overview, r"/registration-link$", {})
    assert page.status_code == 200
    match = re.search(r'value="([^"]*/lti/register\?code=[^"]+)"', page.text)
    assert match
    assert browser.http.get(match.group(1).replace("&amp;", "&")).status_code == 400


# LMS Administrator launches -------------------------------------------------------------


def test_lms_administrator_reaches_console(tool_server, browser, platform):
    landed = browser.launch(platform, admin_launch())
    prefix = session_prefix(landed)
    console = browser.http.get(f"{tool_server.url}{prefix}/admin/")
    assert console.status_code == 200, page_text(console.text)
    text = page_text(console.text)
    assert platform.client_id in text
    assert "Tool signing keys" not in text

    rotate = browser.http.post(
        f"{tool_server.url}{prefix}/admin/keys/rotate",
        data={"csrf_token": find_form(console.text, r"/check$")["hidden"]["csrf_token"]},
    )
    assert rotate.status_code == 403


def test_lms_administrator_sees_only_own_registration(
    app, tool_server, browser, platform, platform_host
):
    other = platform_host.add("other-district", tool_server.url)
    from ..conftest import register

    register(app, other)
    landed = browser.launch(platform, admin_launch())
    console = browser.http.get(f"{tool_server.url}{session_prefix(landed)}/admin/")
    text = page_text(console.text)
    assert platform.client_id in text
    assert other.client_id not in text


def test_console_closed_to_students_and_teachers(tool_server, platform):
    for launch in (
        student_launch(),
        LaunchRequest(
            user_id="teacher-rivera",
            context_id="course-algebra",
            resource_link_id="link-1",
            roles=(ROLE_INSTRUCTOR,),
        ),
    ):
        browser = Browser()
        landed = browser.launch(platform, launch)
        response = browser.http.get(f"{tool_server.url}{session_prefix(landed)}/admin/")
        assert response.status_code == 403


# Launch failures ------------------------------------------------------------------------


def _failure_reasons(app) -> list[str]:
    with app.app_context():
        return [row.reason for row in db.session.execute(select(LaunchFailure)).scalars()]


def _post_launch_with(platform, **overrides):
    browser = Browser()
    pending = browser.start_login(platform, student_launch())
    platform.claim_overrides = overrides
    try:
        fields = browser.authorize(platform, pending)
    finally:
        platform.claim_overrides = {}
    return browser.post_launch(platform, fields)


def test_wrong_client_id_recorded(app, tool_server, platform, platform_host, console_admin):
    stranger = platform_host.add(
        "stranger", tool_server.url, client_id="wrong-client", issuer=platform.issuer
    )
    browser = Browser()
    response = browser.http.get(
        stranger.login_initiation_url(student_launch()), allow_redirects=False
    )
    assert response.status_code == 403
    with app.app_context():
        failure = db.session.execute(select(LaunchFailure)).scalar_one()
        assert failure.reason == "unknown_registration"
        assert failure.step == "login"
        assert failure.client_id == "wrong-client"
        assert failure.issuer == platform.issuer
        assert "login_hint" not in (failure.claims or {})

    admin = Browser()
    overview = sign_in(admin, tool_server.url, console_admin)
    text = page_text(overview.text)
    assert "unknown_registration" in text
    assert "wrong-client" in text


def test_unknown_deployment_recorded_with_masked_claims(app, tool_server, platform, console_admin):
    response = _post_launch_with(
        platform, **{"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "stray-9"}
    )
    assert response.status_code == 403
    with app.app_context():
        failure = db.session.execute(select(LaunchFailure)).scalar_one()
        assert failure.reason == "unknown_deployment"
        assert failure.deployment_id == "stray-9"
        assert failure.registration_id is not None
        claims = failure.claims
        assert claims["name"] == "[masked]"
        assert claims["email"] == "[masked]"
        assert claims["sub"].startswith("[masked] #")
        assert claims["iss"] == platform.issuer
        failure_id = failure.id

    admin = Browser()
    sign_in(admin, tool_server.url, console_admin)
    detail = admin.http.get(f"{tool_server.url}/admin/failures/{failure_id}")
    assert detail.status_code == 200
    text = page_text(detail.text)
    assert "stray-9" in text
    assert "unknown_deployment" in text
    assert "Ana Lopez" not in text
    assert "ana@example.edu" not in text
    assert "student-ana" not in text


def test_expired_token_recorded(app, tool_server, platform):
    past = int(time.time()) - 3600
    response = _post_launch_with(platform, iat=past - 300, exp=past)
    assert response.status_code == 401
    assert _failure_reasons(app) == ["expired"]
    with app.app_context():
        failure = db.session.execute(select(LaunchFailure)).scalar_one()
        assert failure.claims["exp"] == past


def test_failure_recording_keeps_launch_rollback(app, tool_server, platform):
    """A rejected launch stores only its failure row: no person, no session."""
    from lti_ilp.people.models import Person

    _post_launch_with(platform, exp=int(time.time()) - 3600)
    with app.app_context():
        assert db.session.execute(select(Person)).first() is None
        assert db.session.execute(select(LaunchFailure)).scalar_one().reason == "expired"


def test_lms_admin_sees_only_own_failures(app, tool_server, platform, platform_host, browser):
    stranger = platform_host.add(
        "stranger-2", tool_server.url, client_id="wrong-2", issuer="https://elsewhere.example.edu"
    )
    Browser().http.get(stranger.login_initiation_url(student_launch()), allow_redirects=False)
    assert _failure_reasons(app) == ["unknown_registration"]
    landed = browser.launch(platform, admin_launch())
    console = browser.http.get(f"{tool_server.url}{session_prefix(landed)}/admin/")
    text = page_text(console.text)
    assert "Recent launch failures" in text
    assert "unknown_registration" not in text
    assert "wrong-2" not in text


# Health checks --------------------------------------------------------------------------


def test_health_check_reports_jwks_and_token(
    app, tool_server, platform, token_host, console_admin
):
    with app.app_context():
        registration = db.session.execute(select(Registration)).scalar_one()
        registration.auth_token_url = token_host.add("health", platform)
        db.session.commit()
    browser = Browser()
    overview = sign_in(browser, tool_server.url, console_admin)
    page = browser.submit(overview, r"/check$", {})
    assert page.status_code == 200
    text = page_text(page.text)
    assert "passed" in text
    assert "An access token was issued" in text
    with app.app_context():
        check = db.session.execute(select(PlatformHealthCheck)).scalar_one()
        assert check.jwks_ok is True
        assert check.token_ok is True


def test_health_check_reports_problems(app, tool_server, platform, console_admin):
    with app.app_context():
        registration = db.session.execute(select(Registration)).scalar_one()
        registration.key_set_url = platform.jwks_url + "-missing"
        registration.auth_token_url = "http://127.0.0.1:9/token"
        db.session.commit()
    browser = Browser()
    overview = sign_in(browser, tool_server.url, console_admin)
    page = browser.submit(overview, r"/check$", {})
    text = page_text(page.text)
    assert "found problems" in text
    with app.app_context():
        check = db.session.execute(select(PlatformHealthCheck)).scalar_one()
        assert check.jwks_ok is False
        assert "404" in check.jwks_detail
        assert check.token_ok is False


@pytest.mark.parametrize("path", ["/admin/failures/999", "/admin/registrations/999/edit"])
def test_unknown_ids_are_404(tool_server, browser, console_admin, path):
    sign_in(browser, tool_server.url, console_admin)
    assert browser.http.get(f"{tool_server.url}{path}").status_code == 404


def test_admin_placement_lands_on_console(tool_server, browser, platform):
    launch = LaunchRequest(
        user_id="teacher-rivera",
        context_id=None,
        resource_link_id="account-nav",
        roles=(ROLE_ADMINISTRATOR,),
        custom={"ilp_view": "admin"},
    )
    page = browser.launch(platform, launch)
    assert page.status_code == 200, page_text(page.text)
    assert page.url.endswith("/admin/")
    assert "Admin console" in page_text(page.text)


def test_admin_placement_ignored_for_students(tool_server, browser, platform):
    launch = LaunchRequest(
        user_id="student-ana",
        context_id="course-algebra",
        resource_link_id="link-1",
        roles=(ROLE_LEARNER, ROLE_INSTITUTION_STUDENT),
        custom={"ilp_view": "admin"},
    )
    page = browser.launch(platform, launch)
    assert page.status_code == 200
    assert "/admin/" not in page.url
