"""axe-core scans of the tool's pages: no serious or critical violations.

axe-core comes bundled in the axe-playwright-python package, so nothing is downloaded at
run time. Session pages are crawled from each role's landing page by following same-origin
links, because every page after a launch lives under the same ``/s/<token>/`` prefix.
"""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urlsplit

import pytest

from .conftest import sync_api
from .test_lms_launch import launch_as, open_course

axe_module = pytest.importorskip(
    "axe_playwright_python.sync_playwright",
    reason="axe-playwright-python is missing; run scripts/install-browser",
)

BLOCKING_IMPACTS = {"serious", "critical"}
MAX_PAGES_PER_ROLE = 40


def serious_violations(target) -> list[str]:
    """Run axe on a page or frame; describe each serious or critical violation."""
    results = axe_module.Axe().run(target)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") not in BLOCKING_IMPACTS:
            continue
        nodes = [", ".join(node["target"]) for node in violation["nodes"][:3]]
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {nodes}")
    return found


def _redacted(url: str) -> str:
    return re.sub(r"/s/[^/]+", "/s/<token>", urlsplit(url).path)


def session_pages(page, start_url: str) -> list[str]:
    """Return the session pages reachable from ``start_url`` by plain links."""
    prefix = re.match(r"(https?://[^/]+/s/[^/]+/)", start_url).group(1)
    seen: list[str] = []
    pages: list[str] = []
    queue = [start_url]
    while queue and len(seen) < MAX_PAGES_PER_ROLE:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.append(url)
        try:
            response = page.goto(url)
        except sync_api.Error as exc:
            # Links to file downloads (a PDF or CSV export) are not pages.
            if "Download is starting" in str(exc):
                continue
            raise
        if "text/html" not in (response.headers.get("content-type", "") if response else ""):
            continue
        pages.append(url)
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
        for href in hrefs:
            href = urldefrag(href).url
            if href.startswith(prefix) and href not in seen and href not in queue:
                queue.append(href)
    return pages


def scan_session(open_browser, demo_site, person: str) -> dict[str, list[str]]:
    page = open_browser("allowed")
    open_course(page, demo_site)
    tool_frame = page.frame(name="ilp-frame")
    # A student launches first, so staff pages list a student and link to a plan.
    launch_as(page, "Ana Lopez")
    tool_frame.wait_for_url(re.compile(r".*/s/[^/]+/.*"))
    student_url = tool_frame.url
    launch_as(page, person)
    tool_frame.wait_for_url(lambda url: "/s/" in url and url != student_url)
    tool_frame.wait_for_load_state()
    landing = tool_frame.url
    assert "/s/" in landing, f"launch as {person} did not reach a session page: {landing}"

    # Session pages need no cookies, so they can be opened top-level for the scan.
    scanner = page.context.new_page()
    problems = {}
    for url in session_pages(scanner, landing):
        scanner.goto(url)
        found = serious_violations(scanner)
        if found:
            problems[_redacted(url)] = found
    return problems


@pytest.mark.parametrize("person", ["Ana Lopez", "Dana Rivera", "Sam Kim", "Pat Morgan"])
def test_session_pages_pass_axe(open_browser, demo_site, person):
    problems = scan_session(open_browser, demo_site, person)
    assert problems == {}


def test_lms_course_page_passes_axe(open_browser, demo_site):
    page = open_browser("allowed")
    open_course(page, demo_site)
    assert serious_violations(page) == []


def test_error_page_passes_axe(open_browser, demo_site):
    page = open_browser("allowed")
    page.goto(f"{demo_site.tool_url}/lti/launch")
    assert page.get_by_role("heading").first.is_visible()
    assert serious_violations(page) == []


def test_not_found_page_passes_axe(open_browser, demo_site):
    page = open_browser("allowed")
    page.goto(f"{demo_site.tool_url}/s/no-such-session/plan")
    assert serious_violations(page) == []


def test_new_window_page_passes_axe(open_browser, demo_site, storage_switch):
    storage_switch(False)
    page = open_browser("blocked")
    open_course(page, demo_site)
    frame = launch_as(page, "Ana Lopez")
    frame.get_by_role("heading", name="Open your plan in a new window").wait_for()
    assert serious_violations(page.frame(name="ilp-frame")) == []


def test_storage_fallback_page_passes_axe(open_browser, demo_site):
    page = open_browser("blocked")
    # The LMS page does not respond to storage messages, so the check page times out and
    # shows its "open in a new window" section.
    page.route(
        "**/static/lti_storage_platform.js",
        lambda route: route.fulfill(
            status=200, content_type="text/javascript", body="// no storage"
        ),
    )
    open_course(page, demo_site)
    frame = launch_as(page, "Ana Lopez")
    frame.get_by_role("heading", name="Open your plan in a new window").wait_for()
    assert frame.get_by_role("heading", name="Checking your sign-in").count() == 0
    assert serious_violations(page.frame(name="ilp-frame")) == []


def test_axe_scan_detects_violations(open_browser, demo_site):
    # Guards the scan itself: a page with an unlabelled field and an image without alt
    # text must be reported, or the scans above could pass by checking nothing.
    page = open_browser("allowed")
    page.set_content(
        '<!doctype html><html lang="en"><head><title>Broken</title></head><body><main>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input type="text">'
        "</main></body></html>"
    )
    found = serious_violations(page)
    assert any(line.startswith("image-alt") for line in found), found
    assert any(line.startswith("label") for line in found), found
