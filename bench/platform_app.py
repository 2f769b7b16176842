"""The platform side of the benchmark: the demo platforms' auth and JWKS endpoints.

Served by gunicorn from ``create_platform_app()``. The auth endpoint answers the tool's
authentication request with the auto-submitting form that a real platform returns, carrying
a freshly signed id_token.
"""

from __future__ import annotations

from flask import Flask, abort, jsonify, render_template_string, request

from lti_ilp.demo.platform import AuthRequestError

from .config import RunConfig, build_platform

FORM_POST_PAGE = """<!doctype html>
<form method="post" action="{{ action }}">
<input type="hidden" name="id_token" value="{{ id_token }}">
<input type="hidden" name="state" value="{{ state }}">
</form>
<script>document.forms[0].submit()</script>
"""


def create_platform_app() -> Flask:
    config = RunConfig.read()
    platforms = {name: build_platform(config, name) for name in config.platforms}
    app = Flask("bench-platform")

    @app.route("/<name>/auth", methods=["GET", "POST"])
    def auth(name: str):
        platform = platforms.get(name) or abort(404)
        try:
            launch = platform.authorize(request.values)
        except AuthRequestError as exc:
            return jsonify(error=exc.error, error_description=exc.description), 400
        return render_template_string(
            FORM_POST_PAGE,
            action=launch["launch_url"],
            id_token=launch["id_token"],
            state=launch["state"],
        )

    @app.get("/<name>/jwks")
    def jwks(name: str):
        platform = platforms.get(name) or abort(404)
        return jsonify(platform.jwks())

    @app.get("/healthz")
    def health():
        return {"status": "ok"}

    return app
