"""Error pages. Every error a user can reach renders a page that says what to do next."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from sqlalchemy.exc import DataError, SQLAlchemyError
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
        render_template(
            "error.html", status=status, title=title, message=message, next_step=next_step
        ),
        status,
    )


def _record_launch_failure(error: LaunchError) -> None:
    """Store a rejected login or launch for the admin console, in its own transaction."""
    steps = {"lti.login": "login", "lti.launch": "launch"}
    step = steps.get(request.endpoint or "")
    if step is None:
        return
    from ..admin.failures import record_launch_failure

    try:
        record_launch_failure(error, step, request.values if step == "login" else None)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("launch failure could not be recorded reason=%s", error.reason)


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(LaunchError)
    def launch_error(error: LaunchError):
        db.session.rollback()
        log.warning("request rejected status=%s reason=%s", error.status, error.reason)
        _record_launch_failure(error)
        # Some launch errors have a page of their own, such as "open in a new window".
        render_page = getattr(error, "render_page", None)
        if render_page is not None:
            return render_page()
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

    @app.errorhandler(DataError)
    def invalid_data(error: DataError):
        # The database rejected a value: too long for its column, or a NUL character,
        # which PostgreSQL text cannot store. The input is at fault, not the tool.
        db.session.rollback()
        log.warning(
            "request rejected status=400 reason=invalid_data error=%s endpoint=%s",
            type(error.orig).__name__,
            request.endpoint,
        )
        return render_error(
            400,
            "This request could not be saved",
            "A value in this request is too long, or contains a character that cannot be "
            "stored (such as a NUL character). Nothing was changed.",
            "Check the values and try again. If this happened while opening the plan from "
            "your LMS, tell your LMS administrator what this page says.",
        )

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
