"""No names, emails, plan text or tokens reach the logs during a plan's life."""

from __future__ import annotations

import logging
import re

from .helpers import admin, fill_plan, get, person_id, plan_id_of, post, teacher

SECRETS_OF_THE_PLAN = [
    "Zoë",
    "Nguyễn",
    "zoe@example.edu",
    "Dana Rivera",
    "rivera@example.edu",
    "Raise my algebra grade",
    "Finish unit 3 practice",
    "Quiz went well",
    "Tutoring helps most",
    "Drawing and patient explaining",
    "Nice progress on unit 3",
    "scores.png",
    "District ticket 4411",
]

TOOL_LOGGERS = {"lti_ilp", "werkzeug", "gunicorn", "sqlalchemy", "alembic"}


def _session_token(page) -> str:
    return re.search(r"/s/([^/]+)/", page.url).group(1)


def test_plan_export_delete_log_no_personal_data(app, platform, browser, caplog):
    caplog.set_level(logging.DEBUG)
    page = fill_plan(browser, platform)
    plan_id = plan_id_of(page)
    staff = browser.launch(platform, teacher())
    post(
        browser,
        staff,
        f"/plans/{plan_id}/comments",
        {"item_type": "plan", "item_id": "", "body": "Nice progress on unit 3"},
    )
    get(browser, page, "/privacy/my-data.json")
    get(browser, page, "/privacy/my-data.pdf")
    console = browser.launch(platform, admin())
    zoe_id = person_id(app, "student-zoe")
    get(browser, console, f"/privacy/people/{zoe_id}/export.pdf")
    response = post(
        browser,
        console,
        f"/privacy/people/{zoe_id}/delete",
        {"requested_by": "District ticket 4411", "confirm": str(zoe_id)},
    )
    assert response.status_code == 200

    tokens = [_session_token(p) for p in (page, staff, console)]
    # urllib3 logs the test browser's own requests; only the tool's loggers count.
    messages = [
        record.getMessage()
        for record in caplog.records
        if record.name.split(".")[0] in TOOL_LOGGERS
    ]
    assert any(f"person {zoe_id}" in message for message in messages)
    for secret in SECRETS_OF_THE_PLAN + tokens:
        leaking = [message for message in messages if secret in message]
        assert leaking == [], secret
