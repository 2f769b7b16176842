"""Signed launches with odd but well-formed claims get a page, never a server error."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lti_ilp.extensions import db
from lti_ilp.people.models import Person

from ..harness import Browser, page_text
from .launches import student

CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"

CASES = {
    "name_with_nul": {"name": "Ana\u0000Lopez"},
    "email_with_nul": {"email": "ana\u0000@example.edu"},
    "title_with_nul": {CONTEXT: {"id": "course-algebra", "title": "Alg\u0000ebra"}},
    "context_id_300": {CONTEXT: {"id": "c" * 300, "title": "Algebra"}},
    "context_id_with_nul": {CONTEXT: {"id": "course\u0000x", "title": "Algebra"}},
    "name_100k": {"name": "A" * 100_000},
    "name_not_text": {"name": {"first": "Ana"}, "email": ["ana@example.edu"]},
}


@pytest.mark.parametrize("overrides", CASES.values(), ids=CASES.keys())
def test_odd_claims_answer_without_server_error(app, platform, overrides):
    platform.claim_overrides = overrides
    browser = Browser()
    pending = browser.start_login(platform, student())
    fields = browser.authorize(platform, pending)

    response = browser.post_launch(platform, fields)

    assert response.status_code < 500, page_text(response.text)


@pytest.mark.parametrize("length", [255, 256, 1000])
def test_long_sub_answers_without_server_error(app, platform, length):
    browser = Browser()
    pending = browser.start_login(platform, student())
    body = platform.launch_claims(pending.nonce, student())
    body["sub"] = "s" * length

    response = browser.post_launch(
        platform, {"id_token": platform.sign(body), "state": pending.state}
    )

    assert response.status_code < 500, page_text(response.text)
    with app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(Person))
    assert stored == (1 if response.status_code == 303 else 0)
