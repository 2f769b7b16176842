"""Fixtures for install and admin tests: a demo LMS with Dynamic Registration, a token
endpoint that caches the tool's JWKS the way lti1p3platform does, and console logins."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from flask import Flask, abort, jsonify, request
from lti1p3platform.exceptions import LtiException

from lti_ilp.admin.auth import create_admin
from lti_ilp.demo.lms import DemoLms, create_lms_app
from lti_ilp.demo.platform import DemoPlatform, ToolEndpoints, generate_private_key_pem
from lti_ilp.demo.seed import seed_store
from lti_ilp.extensions import db

from ..harness import Browser, ServerThread, find_form

ADMIN_PASSWORD = "correct horse battery staple"


@dataclass
class RunningLms:
    lms: DemoLms
    app: Flask
    url: str

    @property
    def platform(self) -> DemoPlatform:
        return self.lms.platform

    @property
    def registration_state(self):
        return self.app.extensions["lms_registration"]

    def frame_url(self, tool_registration_url: str) -> str:
        """Return what the LMS opens when its admin pastes ``tool_registration_url``."""
        from lti_ilp.demo.lms_registration import registration_frame_url

        with self.app.test_request_context():
            return registration_frame_url(tool_registration_url)


@pytest.fixture
def demo_lms(app, tool_server, tool_key):
    """A demo LMS on its own port that knows nothing of the tool until it registers."""
    store = seed_store()
    tool = tool_server.url
    platform = DemoPlatform(
        issuer="http://127.0.0.1",
        client_id="not-registered",
        deployment_id="not-deployed",
        private_key_pem=generate_private_key_pem(),
        tool=ToolEndpoints(f"{tool}/lti/login", f"{tool}/lti/launch", f"{tool}/lti/jwks"),
        users=store.user_directory(),
        hint_secret="dynamic-registration-test",
    )
    lms = DemoLms(platform=platform, store=store, base_url="http://127.0.0.1", tool_base_url=tool)
    lms_app = create_lms_app(lms)
    server = ServerThread(lms_app)
    lms.base_url = server.url
    platform.issuer = server.url
    platform.registration.set_iss(server.url)
    platform.auth_url = f"{server.url}/auth"
    platform.jwks_url = f"{server.url}/jwks"
    yield RunningLms(lms=lms, app=lms_app, url=server.url)
    server.stop()


class TokenHost:
    """OAuth 2 token endpoints for harness platforms, checked by lti1p3platform.

    lti1p3platform fetches the tool's JWKS on the first token request and keeps it for
    good, like a platform that cached the key set before a key rotation.
    """

    def __init__(self) -> None:
        self.platforms: dict[str, DemoPlatform] = {}
        self.requests = 0
        self.lock = threading.Lock()
        app = Flask("token-host")

        @app.post("/<name>/token")
        def token(name):
            platform = self.platforms.get(name) or abort(404)
            with self.lock:
                self.requests += 1
            form = request.form.to_dict()
            if form.get("client_assertion"):
                import jwt

                claims = jwt.decode(form["client_assertion"], options={"verify_signature": False})
                if claims.get("iss") != platform.client_id:
                    return jsonify(
                        error="invalid_client", error_description="unknown client_id"
                    ), 401
            try:
                answer = platform._config().get_access_token(form)
            except (LtiException, AssertionError, KeyError) as exc:
                return jsonify(error="invalid_client", error_description=str(exc)), 400
            except Exception as exc:  # noqa: BLE001  (jwt errors: the assertion is invalid)
                return jsonify(error="invalid_grant", error_description=str(exc)), 400
            return jsonify(answer)

        self.server = ServerThread(app)
        self.url = self.server.url

    def add(self, name: str, platform: DemoPlatform) -> str:
        self.platforms[name] = platform
        return f"{self.url}/{name}/token"


@pytest.fixture(scope="session")
def token_host():
    host = TokenHost()
    yield host
    host.server.stop()


@pytest.fixture
def console_admin(app):
    with app.app_context():
        create_admin("district-admin", ADMIN_PASSWORD)
        db.session.commit()
    return "district-admin"


def sign_in(browser: Browser, tool_url: str, username: str, password: str = ADMIN_PASSWORD):
    """Sign in to the console with the login form; return the response after redirects."""
    page = browser.http.get(f"{tool_url}/admin/login")
    form = find_form(page.text, r"/admin/login$")
    return browser.http.post(
        f"{tool_url}/admin/login",
        data={**form["hidden"], "username": username, "password": password},
    )
