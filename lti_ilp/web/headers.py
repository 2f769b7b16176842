"""Security headers on every response."""

from __future__ import annotations

from flask import Flask, request


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def add_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Session tokens live in page URLs, so never send a URL to another site.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith("/s/"):
            response.headers.setdefault("Cache-Control", "no-store")
        if request.is_secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response
