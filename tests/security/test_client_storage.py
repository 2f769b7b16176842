"""LTI client-side storage as the browser binding, over real HTTP with signed launches.

A browser that drops the state cookie gets a check page, which posts the launch again with
the state read from the platform's storage frame. The JavaScript half runs in the Chromium
tests (tests/browser); these tests check what the server accepts.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from lti_ilp.demo.platform import ROLE_LEARNER, LaunchRequest

from ..harness import PendingLaunch, page_text, parse_form


def student_launch() -> LaunchRequest:
    return LaunchRequest(
        user_id="student-ana",
        context_id="course-algebra",
        resource_link_id="link-1",
        roles=(ROLE_LEARNER,),
    )


def tool_origin(platform) -> str:
    parts = urlsplit(platform.tool.launch_url)
    return f"{parts.scheme}://{parts.netloc}"


def start_storage_login(browser, platform, target="_parent") -> tuple[requests.Response, dict]:
    url = platform.login_initiation_url(student_launch()) + f"&lti_storage_target={target}"
    response = browser.http.get(url, allow_redirects=False)
    return response, dict(browser.http.cookies)


def data_attributes(page: str) -> dict[str, str]:
    element = re.search(r'<div id="lti-storage"([^>]*)>', page, re.S)
    assert element, page_text(page)

    return {
        name: html.unescape(value)
        for name, value in re.findall(r'data-([a-z-]+)="([^"]*)"', element.group(1))
    }


def authorize(browser, platform, auth_url: str) -> dict[str, str]:
    params = dict(parse_qsl(urlsplit(auth_url).query))
    pending = PendingLaunch(params, params["state"], params["nonce"])
    return browser.authorize(platform, pending)


def cookieless_post(platform, fields, origin=None) -> requests.Response:
    headers = {"Origin": origin} if origin else {}
    return requests.post(
        platform.tool.launch_url, data=fields, headers=headers, allow_redirects=False, timeout=10
    )


@pytest.fixture
def storage_switch(app):
    settings = app.config["ILP_SETTINGS"]
    original = settings.lti_storage_enabled
    yield lambda enabled: setattr(settings, "lti_storage_enabled", enabled)
    settings.lti_storage_enabled = original


def test_login_with_storage_target_renders_put_page(platform, browser):
    response, cookies = start_storage_login(browser, platform)

    assert response.status_code == 200
    data = data_attributes(response.text)
    assert data["action"] == "put"
    assert data["target"] == "_parent"
    assert data["origin"] == platform.auth_url.rsplit("/", 2)[0]
    assert data["next"].startswith(platform.auth_url)
    state = dict(parse_qsl(urlsplit(data["next"]).query))["state"]
    assert data["key"] == f"state_{state}"
    assert data["value"] == state
    assert cookies.get(f"ilp-state-{state}") == state
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script>" not in response.text


def test_cookieless_launch_gets_check_page(platform, browser):
    login, _ = start_storage_login(browser, platform)
    fields = authorize(browser, platform, data_attributes(login.text)["next"])

    response = cookieless_post(platform, fields)

    assert response.status_code == 200
    data = data_attributes(response.text)
    assert data["action"] == "get"
    assert data["key"] == f"state_{fields['state']}"
    action, hidden = parse_form(response.text)
    assert action == "/lti/launch"
    assert hidden["id_token"] == fields["id_token"]
    assert hidden["state"] == fields["state"]
    assert hidden["lti_storage_state"] == ""


def test_storage_value_from_tool_page_is_accepted(platform, browser):
    login, _ = start_storage_login(browser, platform)
    fields = authorize(browser, platform, data_attributes(login.text)["next"])

    response = cookieless_post(
        platform, {**fields, "lti_storage_state": fields["state"]}, origin=tool_origin(platform)
    )

    assert response.status_code == 303, page_text(response.text)
    assert "/s/" in response.headers["Location"]


@pytest.mark.parametrize("origin", [None, "null", "http://attacker.example", "http://127.0.0.1:1"])
def test_storage_value_from_other_origin_is_rejected(platform, browser, origin):
    login, _ = start_storage_login(browser, platform)
    fields = authorize(browser, platform, data_attributes(login.text)["next"])

    response = cookieless_post(
        platform, {**fields, "lti_storage_state": fields["state"]}, origin=origin
    )

    assert response.status_code == 401
    assert "/s/" not in response.headers.get("Location", "")


def test_wrong_storage_value_is_rejected(platform, browser):
    login, _ = start_storage_login(browser, platform)
    fields = authorize(browser, platform, data_attributes(login.text)["next"])

    response = cookieless_post(
        platform, {**fields, "lti_storage_state": "not-the-state"}, origin=tool_origin(platform)
    )

    assert response.status_code == 401
    assert "new window" in page_text(response.text)


def test_storage_launch_cannot_be_replayed(platform, browser):
    login, _ = start_storage_login(browser, platform)
    fields = authorize(browser, platform, data_attributes(login.text)["next"])
    repost = {**fields, "lti_storage_state": fields["state"]}

    first = cookieless_post(platform, repost, origin=tool_origin(platform))
    second = cookieless_post(platform, repost, origin=tool_origin(platform))

    assert first.status_code == 303
    assert second.status_code == 401


def test_storage_off_login_redirects(platform, browser, storage_switch):
    storage_switch(False)
    response, _ = start_storage_login(browser, platform)

    assert response.status_code == 302
    assert response.headers["Location"].startswith(platform.auth_url)


def test_storage_off_cookieless_launch_offers_new_window(platform, browser, storage_switch):
    storage_switch(False)
    login, _ = start_storage_login(browser, platform)
    fields = authorize(browser, platform, login.headers["Location"])

    response = cookieless_post(
        platform, {**fields, "lti_storage_state": fields["state"]}, origin=tool_origin(platform)
    )
    plain = cookieless_post(platform, fields)

    assert response.status_code == 401
    assert plain.status_code == 401
    text = page_text(plain.text)
    assert "Open the plan in a new window" in text
    link = re.search(r'<a href="([^"]+)" target="_blank"', plain.text).group(1)

    relaunch = urlsplit(html.unescape(link))
    params = dict(parse_qsl(relaunch.query))
    assert relaunch.path == "/lti/login"
    assert params["iss"] == platform.issuer
    assert params["login_hint"] == "student-ana"
    assert "lti_storage_target" not in params


def test_new_window_relaunch_works_top_level(platform, browser, storage_switch):
    storage_switch(False)
    login, _ = start_storage_login(browser, platform)
    fields = authorize(browser, platform, login.headers["Location"])
    page = cookieless_post(platform, fields)

    link = html.unescape(re.search(r'<a href="([^"]+)" target="_blank"', page.text).group(1))

    # A new window keeps the tool's cookies, so the usual cookie binding works there.
    relaunch = browser.http.get(
        requests.compat.urljoin(platform.tool.launch_url, link), allow_redirects=False
    )
    assert relaunch.status_code == 302
    fields = authorize(browser, platform, relaunch.headers["Location"])
    response = browser.post_launch(platform, fields)
    assert response.status_code == 303
    assert "/s/" in response.headers["Location"]


@pytest.mark.parametrize("target", ["", "%3Cscript%3E", "a%20b", "x" * 65])
def test_invalid_storage_target_falls_back_to_redirect(platform, browser, target):
    response, _ = start_storage_login(browser, platform, target=target)

    assert response.status_code == 302


def test_cookie_binding_still_works_with_storage_login(platform, browser):
    login, _ = start_storage_login(browser, platform)
    fields = authorize(browser, platform, data_attributes(login.text)["next"])

    response = browser.post_launch(platform, fields)

    assert response.status_code == 303


def test_state_cookie_is_partitioned_over_https(app, platform):
    client = app.test_client()
    params = {
        "iss": platform.issuer,
        "client_id": platform.client_id,
        "login_hint": "student-ana",
        "lti_message_hint": "hint",
    }

    response = client.get("/lti/login", query_string=params, base_url="https://ilp.example")

    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "partitioned"} <= attributes
    assert "SameSite=None" in cookie
    assert "Path=/lti/" in cookie
