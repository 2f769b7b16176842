"""The benchmark's baseline tool really validates launches, so its speed is a fair bar."""

from __future__ import annotations

import pytest
import requests

from bench.baseline_tool import create_baseline_app
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


@pytest.fixture
def bench_run(tmp_path, monkeypatch):
    tool, platform = LateApp(), LateApp()
    tool_server, platform_server = ServerThread(tool), ServerThread(platform)
    config = make_run_config(tmp_path, user_count=5, course_count=2, sync_students=1)
    config.platform_url = platform_server.url
    config.platforms["baseline"].issuer = f"{platform_server.url}/baseline"
    config.platforms["baseline"].tool_url = tool_server.url
    config.write(tmp_path / "config.json")
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "config.json"))
    tool.app = create_baseline_app()
    platform.app = create_platform_app()
    yield RunConfig.read()
    tool_server.stop()
    platform_server.stop()


def test_baseline_accepts_valid_launch(bench_run):
    walker = LaunchWalker(bench_run, "baseline", opens_landing_page=False)
    assert walker.walk(walker.launch_request(1, 1)) > 0


def forged_form(walker: LaunchWalker, http: requests.Session) -> tuple[str, dict[str, str]]:
    launch = walker.launch_request(2, 1)
    login = http.get(walker.platform.login_initiation_url(launch), allow_redirects=False)
    auth = http.get(login.headers["Location"])
    return parse_auto_post_form(auth.text)


def test_baseline_rejects_bad_signature(bench_run):
    walker = LaunchWalker(bench_run, "baseline", opens_landing_page=False)
    with requests.Session() as http:
        action, fields = forged_form(walker, http)
        header, body, signature = fields["id_token"].split(".")
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
        response = http.post(action, data={**fields, "id_token": f"{header}.{body}.{flipped}"})
    assert response.status_code == 400
    assert "launch rejected" in response.text


def test_baseline_rejects_missing_state_cookie(bench_run):
    walker = LaunchWalker(bench_run, "baseline", opens_landing_page=False)
    with requests.Session() as http:
        action, fields = forged_form(walker, http)
    response = requests.post(action, data=fields, timeout=30)
    assert response.status_code == 400
    assert "launch rejected" in response.text


def test_walker_reports_rejected_launch(bench_run):
    bench_run.platforms["baseline"].tool_url = bench_run.platform_url
    walker = LaunchWalker(bench_run, "baseline", opens_landing_page=False)
    with pytest.raises(LaunchFailed):
        walker.walk(walker.launch_request(1, 1))
