"""No names, emails, plan text or tokens in the logs of a full launch."""

from __future__ import annotations

import datetime
import logging
import re
from types import SimpleNamespace

import requests
from gunicorn.config import Config

from lti_ilp.logging_setup import redact_request_line
from lti_ilp.server import RedactingLogger

from ..harness import page_text
from .launches import session_token, student

GOAL_TEXT = "Raise my reading level before the spring conference"


def full_launch_secrets(browser, platform) -> dict[str, str]:
    """Launch, open the plan and save a goal; return every secret value that went by."""
    pending = browser.start_login(platform, student())
    fields = browser.authorize(platform, pending)
    response = browser.post_launch(platform, fields)
    assert response.status_code == 303, page_text(response.text)
    page = browser.http.get(
        requests.compat.urljoin(platform.tool.launch_url, response.headers["Location"])
    )
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    saved = browser.submit(page, r"/plan/goals$", {"statement": GOAL_TEXT})
    assert GOAL_TEXT in saved.text

    # A replayed launch logs a rejection, which must name no secret either.
    replay = browser.post_launch(platform, fields)
    assert replay.status_code == 401

    return {
        "state": pending.state,
        "nonce": pending.nonce,
        "id_token": fields["id_token"],
        "id_token signature": fields["id_token"].rsplit(".", 1)[1],
        "session token": session_token(page),
        "csrf token": csrf,
        "lti_message_hint": pending.auth_params["lti_message_hint"],
    }


def test_full_launch_logs_no_personal_data(platform, browser, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="lti_ilp")
    caplog.set_level(logging.DEBUG, logger="werkzeug")

    secrets = full_launch_secrets(browser, platform)
    # The test's own HTTP client logs its request URLs from the main thread; the tool
    # serves requests on other threads.
    tool_records = [
        record
        for record in caplog.records
        if not (record.name.startswith("urllib3") and record.threadName == "MainThread")
    ]
    log_text = "\n".join(
        f"{record.name} {record.getMessage()} {record.exc_text or ''}" for record in tool_records
    )

    assert "launch accepted" in log_text
    assert "/s/[redacted]/plan" in log_text
    personal = {
        "name": "Ana Lopez",
        "family name": "Lopez",
        "email": "ana@example.edu",
        "sub with a name": "student-ana",
        "goal text": GOAL_TEXT,
    }
    for label, value in {**personal, **secrets}.items():
        assert value not in log_text, f"the log contains the {label}"


def test_request_line_redaction():
    line = (
        '127.0.0.1 - - "GET /s/abcDEF123_-/plans/4?x=1 HTTP/1.1" 200 - '
        '"POST /lti/launch?id_token=eyJ.eyJ.sig&state=s1 HTTP/1.1"'
    )

    redacted = redact_request_line(line)

    assert "abcDEF123_-" not in redacted
    assert "eyJ" not in redacted
    assert "state=s1" not in redacted
    assert "/s/[redacted]/plans/4" in redacted


def test_gunicorn_access_log_is_redacted():
    logger = RedactingLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/s/secret-token-value/plan?login_hint=student-ana",
        "PATH_INFO": "/s/secret-token-value/plan",
        "QUERY_STRING": "login_hint=student-ana",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_COOKIE": "ilp-state-abc=abc",
        "HTTP_REFERER": "http://localhost/s/secret-token-value/plan",
    }
    response = SimpleNamespace(status="200 OK", headers=[], sent=10)
    request = SimpleNamespace(headers=[("COOKIE", "ilp-state-abc=abc")])

    atoms = logger.atoms(response, request, environ, datetime.timedelta(seconds=1))
    # Gunicorn formats access_log_format with %-style mapping keys, as here.
    line = '%(h)s "%(r)s" %(s)s %(U)s %(q)s %(f)s' % atoms  # noqa: UP031

    assert "secret-token-value" not in line
    assert "student-ana" not in line
    assert "ilp-state-abc" not in " ".join(str(value) for value in atoms.values())
    assert "/s/[redacted]/plan" in line
