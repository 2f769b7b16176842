"""The benchmark's baseline tools really validate launches, so their speed is a fair bar."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import create_engine, select

from bench.baseline_tool import (
    CACHE_METADATA,
    CACHE_TABLE,
    DATABASE_URL_ENV,
    create_baseline_app,
    create_baseline_db_app,
)
from bench.client import LaunchFailed, LaunchWalker, parse_auto_post_form
from bench.config import CONFIG_ENV, RunConfig
from bench.platform_app import create_platform_app
from bench.setup_run import make_run_config

from ..harness import ServerThread


class LateApp:
    """A WSGI app set after its server has a port, because the run config names the port."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture(params=["baseline", "baseline_db"])
def bench_run(request, tmp_path, monkeypatch):
    tool, platform = LateApp(), LateApp()
    tool_server, platform_server = ServerThread(tool), ServerThread(platform)
    config = make_run_config(tmp_path, user_count=5, course_count=2, sync_students=1)
    config.platform_url = platform_server.url
    for name in ("baseline", "baseline_db"):
        config.platforms[name].issuer = f"{platform_server.url}/{name}"
        config.platforms[name].tool_url = tool_server.url
    config.write(tmp_path / "config.json")
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "config.json"))
    database_url = f"sqlite:///{tmp_path / 'baseline.sqlite3'}"
    monkeypatch.setenv(DATABASE_URL_ENV, database_url)
    CACHE_METADATA.create_all(create_engine(database_url))
    tool.app = (
        create_baseline_db_app() if request.param == "baseline_db" else create_baseline_app()
    )
    tool.name = request.param
    tool.database_url = database_url
    platform.app = create_platform_app()
    yield RunConfig.read(), tool
    tool_server.stop()
    platform_server.stop()


def test_baseline_accepts_valid_launch(bench_run):
    config, tool = bench_run
    walker = LaunchWalker(config, tool.name, opens_landing_page=False)
    assert walker.walk(walker.launch_request(1, 1)) > 0


def stored_keys(database_url: str) -> list[str]:
    with create_engine(database_url).connect() as connection:
        return list(connection.execute(select(CACHE_TABLE.c.key)).scalars())


@pytest.mark.parametrize("bench_run", ["baseline_db"], indirect=True)
def test_database_baseline_stores_launch(bench_run):
    config, tool = bench_run
    walker = LaunchWalker(config, tool.name, opens_landing_page=False)
    walker.walk(walker.launch_request(1, 1))

    keys = stored_keys(tool.database_url)
    assert any("nonce" in key for key in keys)
    assert any(key.startswith("lti1p3-launch-") for key in keys)


def forged_form(walker: LaunchWalker, http: requests.Session) -> tuple[str, dict[str, str]]:
    launch = walker.launch_request(2, 1)
    login = http.get(walker.platform.login_initiation_url(launch), allow_redirects=False)
    auth = http.get(login.headers["Location"])
    return parse_auto_post_form(auth.text)


def test_baseline_rejects_bad_signature(bench_run):
    config, tool = bench_run
    walker = LaunchWalker(config, tool.name, opens_landing_page=False)
    with requests.Session() as http:
        action, fields = forged_form(walker, http)
        header, body, signature = fields["id_token"].split(".")
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
        response = http.post(action, data={**fields, "id_token": f"{header}.{body}.{flipped}"})
    assert response.status_code == 400
    assert "launch rejected" in response.text


def test_baseline_rejects_missing_state_cookie(bench_run):
    config, tool = bench_run
    walker = LaunchWalker(config, tool.name, opens_landing_page=False)
    with requests.Session() as http:
        action, fields = forged_form(walker, http)
    response = requests.post(action, data=fields, timeout=30)
    assert response.status_code == 400
    assert "launch rejected" in response.text


def test_walker_reports_rejected_launch(bench_run):
    config, tool = bench_run
    config.platforms[tool.name].tool_url = config.platform_url
    walker = LaunchWalker(config, tool.name, opens_landing_page=False)
    with pytest.raises(LaunchFailed):
        walker.walk(walker.launch_request(1, 1))
