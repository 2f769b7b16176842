"""A demo LMS extension used by the tests: one course page and one top-level page."""

from __future__ import annotations

from flask import Flask


def register(app: Flask, lms) -> None:
    @app.get("/courses/<course_id>/sample-report")
    def sample_report(course_id: str):
        return f"report for {course_id}"

    @app.get("/sample-overview")
    def sample_overview():
        return "overview"

    lms.course_actions.append(("Sample report", "sample_report"))
    lms.nav_links.append(("Sample overview", "sample_overview"))
