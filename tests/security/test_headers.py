"""Security headers and the Content-Security-Policy's frame-ancestors."""

from __future__ import annotations

from urllib.parse import urlsplit

from lti_ilp.extensions import db
from lti_ilp.platforms.models import Registration
from lti_ilp.web.headers import clear_frame_ancestor_cache

from .launches import student


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_session_page_headers(platform, browser):
    clear_frame_ancestor_cache()
    page = browser.launch(platform, student())

    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["Cache-Control"] == "no-store"
    assert "X-Frame-Options" not in page.headers
    policy = directives(page)
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in page.headers["Content-Security-Policy"]


def test_frame_ancestors_lists_only_registered_platforms(app, platform, browser):
    clear_frame_ancestor_cache()
    page = browser.launch(platform, student())

    ancestors = directives(page)["frame-ancestors"]
    assert ancestors[0] == "'self'"
    assert origin(platform.issuer) in ancestors
    assert origin(platform.auth_url) in ancestors
    assert "*" not in ancestors
    assert all(value.startswith(("'self'", "http://", "https://")) for value in ancestors)
    with app.app_context():
        registered = {
            origin(url)
            for row in db.session.query(Registration).all()
            for url in (row.issuer, row.auth_login_url)
        }
    assert set(ancestors[1:]) <= registered


def test_inactive_registration_leaves_frame_ancestors(app, platform, browser, tool_server):
    with app.app_context():
        db.session.query(Registration).update({"active": False})
        db.session.commit()
    clear_frame_ancestor_cache()

    response = browser.http.get(f"{tool_server.url}/lti/launch")

    assert directives(response)["frame-ancestors"] == ["'self'"]


def test_extra_frame_ancestors_setting(app, tool_server, browser):
    settings = app.config["ILP_SETTINGS"]
    original = settings.frame_ancestors
    settings.frame_ancestors = ("https://school.instructure.com", "https://bad; script-src *")
    clear_frame_ancestor_cache()
    try:
        response = browser.http.get(f"{tool_server.url}/lti/launch")
    finally:
        settings.frame_ancestors = original
        clear_frame_ancestor_cache()

    policy = directives(response)
    assert "https://school.instructure.com" in policy["frame-ancestors"]
    assert policy["script-src"] == ["'self'"]
    assert len(response.headers["Content-Security-Policy"].split("script-src")) == 2


def test_error_page_has_policy(tool_server, browser):
    response = browser.http.get(f"{tool_server.url}/no-such-page")

    assert response.status_code == 404
    assert "frame-ancestors" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
