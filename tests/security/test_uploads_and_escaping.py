"""Uploads are limited and never served as HTML; user text is escaped or sanitised."""

from __future__ import annotations

import re

import requests
from flask import render_template_string
from sqlalchemy import func, select

from lti_ilp.extensions import db
from lti_ilp.plans.models import Evidence
from lti_ilp.web.sanitize import clean_rich_text, safe_download_name, upload_response

from .launches import student

SCRIPT = "<script>alert('x')</script>"


def upload(browser, page, filename: str, data: bytes, content_type: str = "text/plain"):
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    url = page.url.split("#")[0].rsplit("/plan", 1)[0] + "/plan/evidence"
    return browser.http.post(
        url,
        data={"csrf_token": csrf, "kind": "file", "caption": "Upload"},
        files={"file": (filename, data, content_type)},
        allow_redirects=False,
    )


def evidence_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Evidence.id)))


def test_html_upload_is_rejected(app, platform, browser):
    page = browser.launch(platform, student())

    for filename, content_type in [
        ("page.html", "text/html"),
        ("image.svg", "image/svg+xml"),
        ("fake.png", "image/png"),
    ]:
        response = upload(browser, page, filename, f"<html>{SCRIPT}</html>".encode(), content_type)
        assert response.status_code == 400, filename

    assert evidence_count(app) == 0


def test_text_upload_is_served_as_sandboxed_download(app, platform, browser):
    page = browser.launch(platform, student())
    saved = upload(browser, page, "notes.txt", f"<html>{SCRIPT}</html>".encode(), "text/html")
    assert saved.status_code == 303
    plan_page = browser.http.get(requests_url(page, saved))
    link = re.search(r'href="([^"]*/evidence/\d+/file)"', plan_page.text).group(1)

    download = browser.http.get(requests_url(page, link))

    assert download.status_code == 200
    assert download.headers["Content-Type"].startswith("text/plain")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def requests_url(page, target) -> str:

    location = target.headers["Location"] if hasattr(target, "headers") else target
    return requests.compat.urljoin(page.url, location)


def test_oversized_request_is_rejected_with_page(app, platform, browser):
    page = browser.launch(platform, student())

    response = upload(browser, page, "big.txt", b"a" * (11 * 1024 * 1024))

    assert response.status_code == 413
    assert "smaller file" in response.text
    assert evidence_count(app) == 0


def test_upload_over_evidence_limit_is_rejected(app, platform, browser):
    page = browser.launch(platform, student())

    response = upload(browser, page, "big.txt", b"a" * (6 * 1024 * 1024))

    assert response.status_code == 400
    assert "larger than" in response.text
    assert evidence_count(app) == 0


def test_goal_text_is_escaped(platform, browser):
    page = browser.launch(platform, student())

    saved = browser.submit(page, r"/plan/goals$", {"statement": f"Read more {SCRIPT}"})

    assert saved.status_code == 200
    assert SCRIPT not in saved.text
    assert "&lt;script&gt;" in saved.text


def test_rich_text_keeps_formatting_and_drops_scripts():
    dirty = (
        '<p onclick="steal()">Good <strong>work</strong> <em>today</em></p>'
        f"{SCRIPT}<img src=x onerror=alert(1)>"
        '<a href="javascript:alert(1)">bad link</a> <a href="https://example.edu/x">ok</a>'
        "<style>body{display:none}</style><iframe src='https://evil.example'></iframe>"
    )

    cleaned = str(clean_rich_text(dirty))

    assert "<p>Good <strong>work</strong> <em>today</em></p>" in cleaned
    assert "script" not in cleaned
    assert "onerror" not in cleaned
    assert "onclick" not in cleaned
    assert "javascript:" not in cleaned
    assert "<img" not in cleaned
    assert "<iframe" not in cleaned
    assert "display:none" not in cleaned
    assert 'href="https://example.edu/x"' in cleaned
    assert 'rel="noopener noreferrer nofollow"' in cleaned


def test_rich_text_filter_in_templates(app_context):
    rendered = render_template_string(
        "{{ value | rich_text }}|{{ value }}", value=f"<em>hi</em>{SCRIPT}"
    )

    rich, escaped = rendered.split("|")
    assert rich == "<em>hi</em>"
    assert "&lt;em&gt;" in escaped


def test_upload_response_never_html(app_context):
    for content_type in [
        "text/html",
        "image/svg+xml",
        "application/xhtml+xml",
        "text/xml",
        None,
        "text/html; charset=utf-8",
    ]:
        response = upload_response(b"<html></html>", "x.html", content_type)
        assert response.mimetype == "application/octet-stream", content_type
        assert response.headers["Content-Disposition"] == 'attachment; filename="x.html"'
        assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_safe_download_name():
    assert safe_download_name('../../etc/pass"wd\r\n.txt') == "pass_wd_.txt"
    assert safe_download_name("Ünïcode résumé.pdf") == "Unicode resume.pdf"
    assert safe_download_name("") == "download"


def test_nul_in_form_field_is_rejected(app, platform, browser):
    page = browser.launch(platform, student())

    response = browser.submit(page, r"/plan/goals$", {"statement": "Read\x00more"})

    assert response.status_code == 400
    assert "NUL character" in response.text
