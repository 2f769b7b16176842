"""End-to-end launch harness: real HTTP servers for the tool and for lti1p3platform-based
platforms, and a scripted browser that walks the OIDC login and launch."""

from __future__ import annotations

import html
import re
import threading
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import requests
from flask import Flask, abort, jsonify, render_template_string, request
from werkzeug.serving import make_server

from lti_ilp.demo.platform import (
    AuthRequestError,
    DemoPlatform,
    DemoUser,
    LaunchRequest,
    ToolEndpoints,
    generate_private_key_pem,
)

AUTO_POST = """<!doctype html><form method="post" action="{{ action }}">
{% for name, value in fields.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}</form>"""


class ServerThread:
    """A WSGI app served on 127.0.0.1 with a free port, in a background thread."""

    def __init__(self, app) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()


class PlatformHost:
    """Serves the auth and JWKS endpoints of several platforms under ``/<name>/``."""

    def __init__(self) -> None:
        self.platforms: dict[str, DemoPlatform] = {}
        self.jwks_requests = 0
        app = Flask("platform-host")

        @app.route("/<name>/auth", methods=["GET", "POST"])
        def auth(name):
            platform = self.platforms.get(name) or abort(404)
            params = request.values
            try:
                launch = platform.authorize(params)
            except AuthRequestError as exc:
                return jsonify(error=exc.error, error_description=exc.description), 400
            return render_template_string(
                AUTO_POST,
                action=launch["launch_url"],
                fields={"id_token": launch["id_token"], "state": launch["state"]},
            )

        @app.get("/<name>/jwks")
        def jwks(name):
            platform = self.platforms.get(name) or abort(404)
            self.jwks_requests += 1
            return jsonify(platform.jwks())

        self.server = ServerThread(app)
        self.url = self.server.url

    def add(
        self,
        name: str,
        tool_url: str,
        *,
        client_id: str | None = None,
        deployment_id: str = "deployment-1",
        issuer: str | None = None,
        users: dict[str, DemoUser] | None = None,
    ) -> DemoPlatform:
        platform = DemoPlatform(
            issuer=issuer or f"{self.url}/{name}",
            client_id=client_id or f"client-{name}",
            deployment_id=deployment_id,
            private_key_pem=generate_private_key_pem(),
            tool=ToolEndpoints(
                login_url=f"{tool_url}/lti/login",
                launch_url=f"{tool_url}/lti/launch",
                jwks_url=f"{tool_url}/lti/jwks",
            ),
            users=users or default_users(),
            hint_secret="harness-" + name,
        )
        platform.auth_url = f"{self.url}/{name}/auth"
        platform.jwks_url = f"{self.url}/{name}/jwks"
        self.platforms[name] = platform
        return platform


def default_users() -> dict[str, DemoUser]:
    return {
        user.user_id: user
        for user in [
            DemoUser("student-ana", "Ana Lopez", "ana@example.edu"),
            DemoUser("student-ben", "Ben Okafor", "ben@example.edu"),
            DemoUser("teacher-rivera", "Dana Rivera", "rivera@example.edu"),
            DemoUser("mentor-kim", "Sam Kim", "kim@example.edu"),
        ]
    }


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attributes.get("action")
        if tag == "input" and attributes.get("name"):
            self.fields[attributes["name"]] = attributes.get("value") or ""


def parse_form(page: str) -> tuple[str, dict[str, str]]:
    parser = _FormParser()
    parser.feed(page)
    return parser.action, parser.fields


@dataclass
class PendingLaunch:
    """A login that reached the platform's auth step: what the tool asked for."""

    auth_params: dict[str, str]
    state: str
    nonce: str


class Browser:
    """A scripted browser that keeps cookies and never follows redirects by itself."""

    def __init__(self) -> None:
        self.http = requests.Session()

    def start_login(
        self, platform: DemoPlatform, launch: LaunchRequest, method: str = "GET"
    ) -> PendingLaunch:
        login_url = platform.login_initiation_url(launch)
        if method == "POST":
            parts = urlsplit(login_url)
            response = self.http.post(
                parts._replace(query="").geturl(),
                data=dict(parse_qsl(parts.query)),
                allow_redirects=False,
            )
        else:
            response = self.http.get(login_url, allow_redirects=False)
        assert response.status_code == 302, response.text
        location = response.headers["Location"]
        assert location.startswith(platform.auth_url), location
        auth_params = dict(parse_qsl(urlsplit(location).query))
        return PendingLaunch(auth_params, auth_params["state"], auth_params["nonce"])

    def authorize(self, platform: DemoPlatform, pending: PendingLaunch) -> dict[str, str]:
        response = self.http.get(platform.auth_url, params=pending.auth_params)
        assert response.status_code == 200, response.text
        action, fields = parse_form(response.text)
        assert action == platform.tool.launch_url
        return fields

    def post_launch(self, platform: DemoPlatform, fields: dict[str, str]) -> requests.Response:
        return self.http.post(platform.tool.launch_url, data=fields, allow_redirects=False)

    def launch(self, platform: DemoPlatform, launch: LaunchRequest) -> requests.Response:
        """Walk the whole login and launch; return the first page after the launch."""
        pending = self.start_login(platform, launch)
        fields = self.authorize(platform, pending)
        response = self.post_launch(platform, fields)
        assert response.status_code == 303, (response.status_code, page_text(response.text))
        target = requests.compat.urljoin(platform.tool.launch_url, response.headers["Location"])
        return self.http.get(target, allow_redirects=False)

    def submit(
        self, page: requests.Response, action_pattern: str, data: dict[str, str]
    ) -> requests.Response:
        """Post the form on ``page`` whose action matches ``action_pattern``, with its
        hidden fields plus ``data``; follow the redirect that follows a successful post."""
        form = find_form(page.text, action_pattern)
        target = requests.compat.urljoin(page.url, form["action"])
        response = self.http.post(target, data={**form["hidden"], **data}, allow_redirects=False)
        if response.status_code == 303:
            return self.http.get(requests.compat.urljoin(target, response.headers["Location"]))
        return response


FORM_RE = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
HIDDEN_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def find_form(page: str, action_pattern: str) -> dict:
    for action, body in FORM_RE.findall(page):
        action = html.unescape(action)
        if re.search(action_pattern, action):
            hidden = {name: html.unescape(value) for name, value in HIDDEN_RE.findall(body)}
            return {"action": action, "hidden": hidden}
    raise AssertionError(f"no form with action matching {action_pattern!r}")


def page_text(page: str) -> str:
    """Return the visible text of a page, for readable assertion messages."""
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()
