"""Error pages. Every error a user can reach renders a page that says what to do next."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from ..extensions import db
from ..lti.errors import LaunchError

log = logging.getLogger(__name__)


class SessionExpired(LaunchError):
    status = 401
    title = "Your plan session has ended"

    def __init__(self) -> None:
        super().__init__(
            "This page belongs to a session that has expired or does not exist.",
            "Go back to your course in the LMS and open the plan again.",
            reason="session_expired",
        )


def render_error(status: int, title: str, message: str, next_step: str | None):
    return (
        render_template("error.html", status=status, title=title, message=message,
                        next_step=next_step),
        status,
    )


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(LaunchError)
    def launch_error(error: LaunchError):
        db.session.rollback()
        log.warning("request rejected status=%s reason=%s", error.status, error.reason)
        return render_error(error.status, error.title, error.message, error.next_step)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        next_step = {
            404: "Check the link, or go back to your course and open the plan again.",
            405: "Open the plan from your course in the LMS instead of this address.",
            413: "Choose a smaller file and try again.",
            429: "Wait a minute and try again.",
        }.get(error.code or 500)
        return render_error(error.code or 500, error.name, error.description or "", next_step)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        log.exception("unexpected error")
        return render_error(
            500,
            "Something went wrong",
            "The plan tool hit an unexpected error, and the change on this page was not "
            "saved. Everything saved before it is kept.",
            "Try again in a moment. If it keeps happening, tell your LMS administrator.",
        )
