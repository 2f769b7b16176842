"""Fixtures for the demo LMS: the LMS served beside the tool, and a browser that uses it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from lti_ilp.demo.lms import DemoLms, create_lms_app
from lti_ilp.demo.runner import DemoSetup, build_lms, set_up_demo

from ..harness import Browser, ServerThread, page_text, parse_form


class LateBoundApp:
    """A WSGI app whose target is set after the server has its port.

    The demo LMS's issuer contains its own URL, so the port must be known before the LMS
    app is built.
    """

    def __init__(self) -> None:
        self.app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@dataclass
class DemoRun:
    url: str
    lms: DemoLms
    setup: DemoSetup
    tool_url: str


@pytest.fixture
def demo(app, tool_server):
    """The demo LMS on a free port, set up against the test database and tool server."""
    target = LateBoundApp()
    server = ServerThread(target)
    setup = set_up_demo(
        app, tool_base_url=tool_server.url, lms_base_url=server.url, upgrade_database=False
    )
    lms = build_lms(setup)
    target.app = create_lms_app(lms)
    yield DemoRun(url=server.url, lms=lms, setup=setup, tool_url=tool_server.url)
    server.stop()


LAUNCH_FORM_RE = re.compile(r"<form[^>]*action=\"([^\"]+)\"[^>]*>(.*?)</form>", re.S)
BUTTON_RE = re.compile(r"<button[^>]*>(.*?)</button>", re.S)
HIDDEN_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def launch_buttons(page: str) -> dict[str, dict]:
    """Map each launch button's text to its form's action, target and hidden fields."""
    buttons = {}
    for match in LAUNCH_FORM_RE.finditer(page):
        tag = match.group(0)[: match.group(0).index(">") + 1]
        button = BUTTON_RE.search(match.group(2))
        if button is None:
            continue
        target = re.search(r'target="([^"]+)"', tag)
        buttons[page_text(button.group(1))] = {
            "action": unescape(match.group(1)),
            "target": target.group(1) if target else None,
            "fields": {name: unescape(value) for name, value in HIDDEN_RE.findall(match.group(2))},
        }
    return buttons


class LmsBrowser(Browser):
    """Walks the demo the way a browser does, from the course page to the tool's page."""

    def __init__(self, demo: DemoRun) -> None:
        super().__init__()
        self.demo = demo

    def course_page(self, course_id: str) -> requests.Response:
        response = self.http.get(f"{self.demo.url}/courses/{course_id}")
        assert response.status_code == 200, page_text(response.text)
        return response

    def start_launch(self, course_id: str, button_text: str) -> requests.Response:
        """Press a launch button; return the LMS's response to the launch request."""
        buttons = launch_buttons(self.course_page(course_id).text)
        assert button_text in buttons, sorted(buttons)
        button = buttons[button_text]
        return self.http.get(
            urljoin(self.demo.url + "/", button["action"]),
            params=button["fields"],
            allow_redirects=False,
        )

    def reach_auth(self, course_id: str, button_text: str) -> str:
        """Follow a launch up to the LMS's /auth step; return the /auth URL."""
        response = self.start_launch(course_id, button_text)
        assert response.status_code == 302, page_text(response.text)
        login_url = response.headers["Location"]
        assert login_url.startswith(f"{self.demo.tool_url}/lti/login?"), login_url

        response = self.http.get(login_url, allow_redirects=False)
        if response.status_code == 302:
            auth_url = response.headers["Location"]
        else:
            # With LTI client-side storage the login returns a page whose script stores the
            # state in the LMS frame and then opens the LMS's /auth URL. A browser without
            # JavaScript follows the page's link to that URL instead.
            assert response.status_code == 200, page_text(response.text)
            links = re.findall(r'href="([^"]+)"', response.text)
            auth_links = [
                unescape(link)
                for link in links
                if unescape(link).startswith(f"{self.demo.url}/auth?")
            ]
            assert auth_links, page_text(response.text)
            auth_url = auth_links[0]
        assert auth_url.startswith(f"{self.demo.url}/auth?"), auth_url
        return auth_url

    def open_ilp(self, course_id: str, button_text: str) -> requests.Response:
        """Press a launch button and follow every step; return the tool's first page."""
        auth_url = self.reach_auth(course_id, button_text)
        response = self.http.get(auth_url, allow_redirects=False)
        assert response.status_code == 200, page_text(response.text)
        action, fields = parse_form(response.text)
        assert action == f"{self.demo.tool_url}/lti/launch"
        assert set(fields) == {"id_token", "state"}

        response = self.http.post(action, data=fields, allow_redirects=False)
        assert response.status_code == 303, page_text(response.text)
        target = urljoin(action, response.headers["Location"])
        assert urlsplit(target).netloc == urlsplit(self.demo.tool_url).netloc
        return self.http.get(target, allow_redirects=False)


@pytest.fixture
def lms_browser(demo):
    return LmsBrowser(demo)
