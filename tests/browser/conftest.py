"""Fixtures for the Chromium tests: the tool and the demo LMS on two origins, and browsers
with third-party cookies allowed or blocked.

The tool runs at http://localhost:<port> and the demo LMS at http://127.0.0.1:<port>. They
are different sites, so Chromium applies its third-party cookie rules to the tool's iframe.
Chromium is Debian's /usr/bin/chromium, installed by scripts/install-browser; Playwright
only drives it and never downloads a browser.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from lti_ilp.demo.lms import create_lms_app
from lti_ilp.demo.runner import build_lms, set_up_demo
from lti_ilp.web.headers import clear_frame_ancestor_cache

from ..harness import ServerThread

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Chromium profile preferences. "allowed" keeps every cookie. "chips" blocks third-party
# cookies as Chrome's setting does, which still keeps partitioned (CHIPS) cookies.
# "blocked" also blocks every cookie of the tool while it is embedded in the LMS, partitioned
# ones included, as Safari does.
COOKIE_MODES = ("allowed", "chips", "blocked")

sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="the playwright package is missing; run scripts/install-browser",
)
if not CHROMIUM.exists():
    pytest.skip(
        "Chromium is missing at /usr/bin/chromium; run scripts/install-browser",
        allow_module_level=True,
    )


class _LmsSlot:
    """WSGI app that forwards to the demo LMS app of the current test."""

    def __init__(self) -> None:
        self.app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@dataclass
class DemoSite:
    tool_url: str
    lms_url: str
    lms: object


@pytest.fixture(scope="session")
def browser_servers(app):
    tool = ServerThread(app)
    slot = _LmsSlot()
    lms_server = ServerThread(slot)
    yield tool, lms_server, slot
    lms_server.stop()
    tool.stop()


@pytest.fixture
def demo_site(app, browser_servers) -> DemoSite:
    """The tool registered with a freshly seeded demo LMS, for one test."""
    tool, lms_server, slot = browser_servers
    tool_url = f"http://localhost:{tool.port}"
    setup = set_up_demo(
        app, tool_base_url=tool_url, lms_base_url=lms_server.url, upgrade_database=False
    )
    lms = build_lms(setup)
    slot.app = create_lms_app(lms)
    clear_frame_ancestor_cache()
    return DemoSite(tool_url=tool_url, lms_url=lms_server.url, lms=lms)


@pytest.fixture(scope="session")
def playwright_driver():
    with sync_api.sync_playwright() as driver:
        yield driver


def _preferences(mode: str, site: DemoSite) -> dict:
    if mode == "allowed":
        return {"profile": {"cookie_controls_mode": 0, "block_third_party_cookies": False}}
    profile = {"cookie_controls_mode": 1, "block_third_party_cookies": True}
    if mode == "blocked":
        # Pattern pair: cookies of the tool, while the top-level page is the LMS.
        pattern = f"{site.tool_url},{site.lms_url}"
        profile["content_settings"] = {"exceptions": {"cookies": {pattern: {"setting": 2}}}}
    return {"profile": profile}


@pytest.fixture
def open_browser(playwright_driver, demo_site):
    """Return a function that starts Chromium with a cookie mode and returns a new page."""
    contexts = []
    profiles = []

    def start(mode: str):
        assert mode in COOKIE_MODES
        profile = Path(tempfile.mkdtemp(prefix="ilp-chromium-"))
        profiles.append(profile)
        (profile / "Default").mkdir()
        (profile / "Default" / "Preferences").write_text(json.dumps(_preferences(mode, demo_site)))
        context = playwright_driver.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.pages[0] if context.pages else context.new_page()

    yield start
    for context in contexts:
        context.close()
    for profile in profiles:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def storage_switch(app):
    """Turn the tool's LTI client-side storage on or off for one test."""
    settings = app.config["ILP_SETTINGS"]
    original = settings.lti_storage_enabled

    def set_enabled(enabled: bool) -> None:
        settings.lti_storage_enabled = enabled

    yield set_enabled
    settings.lti_storage_enabled = original
