"""Fixtures for activity, nudges, the dashboard, rosters and the widget."""

from __future__ import annotations

import pytest

from ..demo.conftest import LmsBrowser, demo, lms_browser  # noqa: F401  (fixtures)


@pytest.fixture
def demo_settings(app):
    """Turn on the demo clock and the email outbox for one test."""
    extra = app.config["ILP_SETTINGS"].extra
    saved = dict(extra)
    extra.update({"demo_clock": True, "email_mode": "outbox"})
    yield extra
    extra.clear()
    extra.update(saved)
