"""Every state-changing form needs its CSRF token."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from lti_ilp.extensions import db
from lti_ilp.plans.models import Goal

from .launches import session_token, student, teacher

# Endpoints that platforms post to across sites by design. A signed one-time value
# protects each instead: the OIDC state for login and launch, a signed ticket for
# registration.finish.
CROSS_SITE_ENDPOINTS = {"lti.login", "lti.launch", "registration.finish"}
# Routes that answer 404 until a setting turns them on; each checks its own form token.
DISABLED_BY_DEFAULT = {"/demo/clock"}

FORM_RE = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)


def _url_for_rule(rule, token: str) -> str:
    path = rule.rule.replace("<launch_token>", token)
    for argument in rule.arguments - {"launch_token"}:
        converter = rule._converters[argument]
        # The only any() converter in the app picks activate or deactivate.
        value = "activate" if converter.__class__.__name__ == "AnyConverter" else "1"
        path = re.sub(rf"<[^>]*\b{argument}>", value, path)
    return path


def post_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and rule.endpoint not in CROSS_SITE_ENDPOINTS
    ]


def test_post_without_csrf_token_is_rejected(app, platform, browser):
    page = browser.launch(platform, student())
    token = session_token(page)
    base = page.url.split("/s/")[0]
    rules = post_rules(app)
    assert len(rules) > 10

    accepted = []
    for rule in rules:
        url = urljoin(base, _url_for_rule(rule, token))
        response = browser.http.post(
            url, data={"statement": "x", "progress": "50"}, allow_redirects=False
        )
        expected = {400, 404} if rule.rule in DISABLED_BY_DEFAULT else {400}
        if response.status_code not in expected:
            accepted.append((rule.rule, response.status_code))
    assert accepted == []


def test_post_with_other_sessions_token_is_rejected(app, platform, browser):
    ana = browser.launch(platform, student("student-ana"))
    ben = browser.launch(platform, student("student-ben"))
    ana_form_token = re.search(r'name="csrf_token" value="([^"]+)"', ana.text).group(1)

    response = browser.http.post(
        ben.url.rsplit("/plan", 1)[0] + "/plan/goals",
        data={"csrf_token": ana_form_token, "statement": "Injected goal"},
        allow_redirects=False,
    )

    assert response.status_code == 400
    with app.app_context():
        assert db.session.query(Goal).filter_by(statement="Injected goal").count() == 0


def test_every_rendered_post_form_has_csrf_token(platform, browser):
    pages = [browser.launch(platform, student()), browser.launch(platform, teacher())]
    forms_seen = 0
    missing = []
    for page in pages:
        for attributes, body in FORM_RE.findall(page.text):
            if 'method="post"' not in attributes.lower():
                continue
            forms_seen += 1
            if 'name="csrf_token"' not in body:
                missing.append(attributes.strip())
    assert forms_seen > 0
    assert missing == []
