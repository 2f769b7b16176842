"""Launches that arrive without the state cookie, whose storage frame and relaunch query
live on the login's launch_state row, and odd state values on that path."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from lti_ilp.extensions import db, utcnow
from lti_ilp.grades.worker import SyncLoop
from lti_ilp.lti.state import LaunchState
from lti_ilp.people.models import Person
from lti_ilp.web.session import LaunchSession

from ..harness import Browser, PendingLaunch, page_text
from .launches import student

LINK_RE = re.compile(r'<a href="([^"]+)" target="_blank"')


def storage_login(browser, platform, target="_parent", user="student-ana") -> dict[str, str]:
    """Start a login that names a storage frame and return the platform's launch form."""
    url = platform.login_initiation_url(student(user)) + f"&lti_storage_target={target}"
    login = browser.http.get(url, allow_redirects=False, timeout=30)
    assert login.status_code == 200, page_text(login.text)
    next_url = html.unescape(re.search(r'data-next="([^"]+)"', login.text).group(1))
    params = dict(parse_qsl(urlsplit(next_url).query))
    return browser.authorize(platform, PendingLaunch(params, params["state"], params["nonce"]))


def cookieless_post(platform, fields) -> requests.Response:
    return requests.post(platform.tool.launch_url, data=fields, allow_redirects=False, timeout=30)


def relaunch_link(page: str) -> str:
    match = LINK_RE.search(page)
    assert match, page_text(page)
    return html.unescape(match.group(1))


def expire(app, state: str) -> None:
    with app.app_context():
        row = db.session.get(LaunchState, state)
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_check_page_relaunch_link_works(app, platform):
    fields = storage_login(Browser(), platform)

    page = cookieless_post(platform, fields)

    assert page.status_code == 200
    assert 'data-action="get"' in page.text
    link = relaunch_link(page.text)
    params = dict(parse_qsl(urlsplit(link).query))
    assert urlsplit(link).path == "/lti/login"
    assert params["login_hint"] == "student-ana"
    assert params["iss"] == platform.issuer
    assert "lti_storage_target" not in params

    # The link, opened in a top-level window that keeps cookies, completes a launch.
    window = Browser()
    relaunch = window.http.get(
        requests.compat.urljoin(platform.tool.launch_url, link), allow_redirects=False
    )
    assert relaunch.status_code == 302
    params = dict(parse_qsl(urlsplit(relaunch.headers["Location"]).query))
    launch = window.authorize(platform, PendingLaunch(params, params["state"], params["nonce"]))
    response = window.post_launch(platform, launch)
    assert response.status_code == 303, page_text(response.text)
    assert count(app, Person) == 1


def test_check_page_leaves_login_usable(app, platform):
    """The check page consumes nothing, so it can be shown twice and the storage re-post
    is still accepted once."""
    fields = storage_login(Browser(), platform)
    origin = platform.tool.launch_url.rsplit("/lti/", 1)[0]

    first = cookieless_post(platform, fields)
    second = cookieless_post(platform, fields)
    repost = {**fields, "lti_storage_state": fields["state"]}
    accepted = requests.post(
        platform.tool.launch_url,
        data=repost,
        headers={"Origin": origin},
        allow_redirects=False,
        timeout=30,
    )
    replayed = requests.post(
        platform.tool.launch_url,
        data=repost,
        headers={"Origin": origin},
        allow_redirects=False,
        timeout=30,
    )
    cookieless_after = cookieless_post(platform, fields)

    assert first.status_code == 200
    assert second.status_code == 200
    assert accepted.status_code == 303, page_text(accepted.text)
    assert replayed.status_code == 401
    assert "already used" in page_text(replayed.text)
    assert cookieless_after.status_code == 401
    assert count(app, LaunchSession) == 1


def test_expired_storage_login_rejected(app, platform):
    fields = storage_login(Browser(), platform)
    expire(app, fields["state"])

    response = cookieless_post(platform, fields)

    assert response.status_code == 401
    assert "expired" in page_text(response.text)
    assert 'data-action="get"' not in response.text
    assert count(app, Person) == 0


def test_expired_login_with_cookie_rejected(app, platform):
    browser = Browser()
    pending = browser.start_login(platform, student())
    fields = browser.authorize(platform, pending)
    expire(app, pending.state)

    response = browser.post_launch(platform, fields)

    assert response.status_code == 401
    assert "expired" in page_text(response.text)
    assert count(app, Person) == 0


def test_replayed_id_token_rejected(app, platform):
    browser = Browser()
    pending = browser.start_login(platform, student())
    fields = browser.authorize(platform, pending)

    accepted = browser.post_launch(platform, fields)
    replayed = browser.post_launch(platform, fields)
    cookieless = cookieless_post(platform, fields)

    assert accepted.status_code == 303
    assert replayed.status_code == 401
    assert cookieless.status_code == 401
    assert count(app, LaunchSession) == 1


def test_cookieless_launch_offers_relaunch(app, platform):
    browser = Browser()
    pending = browser.start_login(platform, student())
    fields = browser.authorize(platform, pending)

    response = cookieless_post(platform, fields)

    assert response.status_code == 401
    link = relaunch_link(response.text)
    assert dict(parse_qsl(urlsplit(link).query))["login_hint"] == "student-ana"


@pytest.mark.parametrize(
    "state",
    ["x" * 64, "x" * 65, "x" * 5000, "ü" * 40, "' OR '1'='1", "a%00b", "\u0000"],
    ids=["64", "65", "5000", "unicode", "quote", "percent-nul", "nul"],
)
def test_odd_state_values_rejected(app, platform, state):
    browser = Browser()
    pending = browser.start_login(platform, student())
    fields = browser.authorize(platform, pending)

    response = cookieless_post(platform, {"id_token": fields["id_token"], "state": state})
    with_cookie = browser.post_launch(platform, {"id_token": fields["id_token"], "state": state})

    assert response.status_code in (400, 401), page_text(response.text)
    assert with_cookie.status_code in (400, 401), page_text(with_cookie.text)
    assert count(app, Person) == 0


def test_sync_worker_removes_expired_hints(app, platform):
    """The relaunch query contains the LMS's login hint, so the worker deletes it once
    the login expires, and keeps logins that are still in progress."""
    fields = storage_login(Browser(), platform)
    expire(app, fields["state"])
    storage_login(Browser(), platform, user="student-ben")

    with app.app_context():
        SyncLoop(app).purge_expired_logins()
        queries = db.session.scalars(select(LaunchState.relaunch_query)).all()

    assert not [query for query in queries if "student-ana" in query]
    assert [query for query in queries if "student-ben" in query]
