"""Outgoing HTTP: every call has a timeout and a real User-Agent, which Canvas requires."""

from __future__ import annotations

import requests
from flask import current_app

from . import __version__

USER_AGENT = f"lti-ilp/{__version__} (+https://github.com/lti-ilp/lti-ilp)"


class TimeoutSession(requests.Session):
    def __init__(self, timeout_seconds: float) -> None:
        super().__init__()
        self.timeout_seconds = timeout_seconds
        self.headers["User-Agent"] = USER_AGENT

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self.timeout_seconds)
        return super().request(method, url, **kwargs)


def http_session() -> TimeoutSession:
    return TimeoutSession(current_app.config["ILP_SETTINGS"].http_timeout_seconds)
