"""Values that the database cannot store get a 400 page, never a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lti_ilp.extensions import db
from lti_ilp.lti import claims
from lti_ilp.people.models import Person

from ..harness import page_text
from .launches import student
from .test_launch_fuzz import signed_launch

NUL_CLAIMS = [
    {"sub": "student\x00ana"},
    {"name": "Ana\x00Lopez"},
    {"email": "ana\x00@example.edu"},
    {claims.CONTEXT: {"id": "course\x00algebra"}},
    {claims.RESOURCE_LINK: {"id": "link\x00"}},
    {claims.DEPLOYMENT_ID: "deployment\x00"},
    {claims.TARGET_LINK_URI: "http://127.0.0.1/\x00"},
    {claims.ROLES: ["role\x00"]},
    {claims.CUSTOM: {"key": "value\x00"}},
]
LONG_CLAIMS = [
    {"sub": "s" * 5000},
    {claims.CONTEXT: {"id": "c" * 5000, "title": "t" * 5000}},
    {claims.RESOURCE_LINK: {"id": "r" * 5000}},
    {claims.DEPLOYMENT_ID: "d" * 5000},
    {"name": "n" * 5000, "email": "e" * 5000},
]


@pytest.mark.parametrize("changes", NUL_CLAIMS + LONG_CLAIMS)
def test_unstorable_claim_values_never_500(app, platform, browser, changes):
    _, status = signed_launch(browser, platform, changes)

    assert status in {303, 400, 401, 403}, changes


def test_nul_in_sub_stores_nothing_when_rejected(app, platform, browser):
    # PostgreSQL rejects the NUL character (400); SQLite stores it, so the launch passes.
    _, status = signed_launch(browser, platform, {"sub": "student\x00ana"})

    with app.app_context():
        people = db.session.scalar(select(func.count(Person.id)))
        if db.engine.dialect.name == "postgresql":
            assert status == 400
            assert people == 0
        else:
            assert status == 303
            assert people == 1


@pytest.mark.parametrize(
    "params",
    [{"iss": "\x00"}, {"iss": "https://lms.example", "client_id": "\x00"}, {"iss": "i" * 5000}],
)
def test_unstorable_login_values_never_500(platform, browser, params):
    response = browser.http.get(platform.tool.login_url, params=params, allow_redirects=False)

    assert response.status_code in {400, 403}, page_text(response.text)


def test_long_form_value_never_500(platform, browser):
    page = browser.launch(platform, student())

    response = browser.submit(page, r"/plan/goals$", {"statement": "g" * 100_000})

    assert response.status_code in {200, 400}


@pytest.mark.parametrize("message_type", [{"type": "LtiResourceLinkRequest"}, ["x"], 5, True])
def test_message_type_of_wrong_type_never_500(platform, browser, message_type):
    _, status = signed_launch(browser, platform, {claims.MESSAGE_TYPE: message_type})

    assert status == 400
