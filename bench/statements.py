"""The statement row: SQL statements that each step of one lti-ilp launch runs.

One student launches twice in-process, through Flask's test client and the run's demo
platform, once as a first launch (which creates the person and the plan) and once as a
returning student. Statements are counted with SQLAlchemy's ``before_cursor_execute``
event.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, urlsplit

from flask import Flask

from lti_ilp.demo.platform import DemoUser

from .client import LaunchWalker
from .config import RunConfig
from .dashboard import counted_statements

STUDENT = "statements-student"


@dataclass(frozen=True)
class LaunchStatements:
    login: int
    launch: int
    landing_page: int


def _count_one_launch(app: Flask, walker: LaunchWalker, tool_url: str) -> LaunchStatements:
    launch = replace(walker.launch_request(0, 0), user_id=STUDENT)
    login_url = urlsplit(walker.platform.login_initiation_url(launch))
    client = app.test_client()
    with app.app_context(), counted_statements() as login_count:
        login = client.get(f"{login_url.path}?{login_url.query}", base_url=tool_url)
    if login.status_code != 302:
        raise RuntimeError(f"the counted login returned HTTP {login.status_code}, not 302")
    auth_params = dict(parse_qsl(urlsplit(login.headers["Location"]).query))
    form = walker.platform.authorize(auth_params)
    with app.app_context(), counted_statements() as launch_count:
        posted = client.post(
            "/lti/launch",
            base_url=tool_url,
            data={"id_token": form["id_token"], "state": form["state"]},
        )
    if posted.status_code != 303:
        raise RuntimeError(f"the counted launch returned HTTP {posted.status_code}, not 303")
    with app.app_context(), counted_statements() as page_count:
        page = client.get(posted.headers["Location"], base_url=tool_url)
    if page.status_code != 200:
        raise RuntimeError(f"the counted plan page returned HTTP {page.status_code}, not 200")
    return LaunchStatements(login_count[0], launch_count[0], page_count[0])


def count_launch_statements(app: Flask, config: RunConfig) -> tuple[LaunchStatements, ...]:
    """Return the statement counts of a first launch and of a returning launch."""
    walker = LaunchWalker(config, "ilp", opens_landing_page=True)
    walker.platform.users[STUDENT] = DemoUser(STUDENT, "Counted Student", "c@example.edu")
    tool_url = config.platforms["ilp"].tool_url
    return tuple(_count_one_launch(app, walker, tool_url) for _ in range(2))
