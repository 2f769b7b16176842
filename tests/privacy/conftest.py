"""Fixtures for the privacy tests: a platform whose users include non-ASCII names."""

from __future__ import annotations

import pytest

from lti_ilp.demo.platform import DemoUser

from ..conftest import register
from ..harness import default_users

ZOE = DemoUser("student-zoe", "Zoë Nguyễn", "zoe@example.edu")
ADMIN = DemoUser("admin-ortiz", "Lee Ortiz", "ortiz@example.edu")


def privacy_users() -> dict[str, DemoUser]:
    users = default_users()
    users[ZOE.user_id] = ZOE
    users[ADMIN.user_id] = ADMIN
    return users


@pytest.fixture
def platform(app, tool_server, platform_host, tool_key, request):
    """A registered platform, fresh for each test, with a learner named Zoë Nguyễn and an
    LMS administrator."""
    name = "privacy-" + request.node.name.replace("[", "-").replace("]", "")[:40]
    platform = platform_host.add(name, tool_server.url, users=privacy_users())
    register(app, platform)
    return platform
