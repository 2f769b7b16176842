"""The command line and /lti/config, used the way an admin sets up a third-party LMS."""

from __future__ import annotations

import json

import pytest
import requests
from click.testing import CliRunner

from lti_ilp.cli import main
from lti_ilp.demo.platform import (
    ROLE_LEARNER,
    DemoPlatform,
    LaunchRequest,
    ToolEndpoints,
    generate_private_key_pem,
)

from .harness import default_users, page_text


@pytest.fixture
def cli_env(settings):
    return {
        "ILP_DATABASE_URL": settings.database_url,
        "ILP_SECRET_KEY": settings.secret_key,
        "ILP_KEYS_DIR": str(settings.keys_dir),
        "ILP_KEY_ENCRYPTION_KEY": settings.key_encryption_key,
    }


def run_cli(cli_env, *args):
    result = CliRunner().invoke(main, list(args), env=cli_env, catch_exceptions=False)
    return result


def add_args(issuer, client_id, deployment_id, base):
    return [
        "platforms",
        "add",
        "--issuer",
        issuer,
        "--client-id",
        client_id,
        "--deployment-id",
        deployment_id,
        "--auth-login-url",
        f"{base}/auth",
        "--auth-token-url",
        f"{base}/token",
        "--key-set-url",
        f"{base}/jwks",
    ]


def test_config_lists_endpoints(tool_server):
    config = requests.get(f"{tool_server.url}/lti/config", timeout=10).json()
    assert config["oidc_initiation_url"] == f"{tool_server.url}/lti/login"
    assert config["target_link_uri"] == f"{tool_server.url}/lti/launch"
    assert config["public_jwk_url"] == f"{tool_server.url}/lti/jwks"


def test_jwks_keys_have_kid_alg_use(app, tool_server, cli_env):
    assert run_cli(cli_env, "keys", "generate").exit_code == 0
    jwks = requests.get(f"{tool_server.url}/lti/jwks", timeout=10).json()
    assert list(jwks) == ["keys"]
    assert len(jwks["keys"]) == 1
    key = jwks["keys"][0]
    assert key["alg"] == "RS256"
    assert key["use"] == "sig"
    assert key["kty"] == "RSA"
    assert key["kid"]
    assert "d" not in key


def test_platforms_add_twice_adds_deployment(app, cli_env):
    base = "https://lms.district.example"
    first = run_cli(cli_env, *add_args(base, "client-9", "dep-1", base))
    second = run_cli(cli_env, *add_args(base, "client-9", "dep-2", base))
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    listing = run_cli(cli_env, "platforms", "list", "--json")
    rows = json.loads(listing.output)
    assert len(rows) == 1
    assert rows[0]["deployments"] == ["dep-1", "dep-2"]


def test_platforms_add_rejects_plain_http(app, cli_env):
    result = run_cli(cli_env, *add_args("http://lms.example", "c", "d", "http://lms.example"))
    assert result.exit_code != 0
    assert "https" in result.output
    listing = run_cli(cli_env, "platforms", "list", "--json")
    assert json.loads(listing.output) == []


def test_third_party_platform_from_config(app, tool_server, platform_host, cli_env, browser):
    """Configure an lti1p3platform platform only from /lti/config and the CLI, then launch."""
    assert run_cli(cli_env, "keys", "generate").exit_code == 0
    config = requests.get(f"{tool_server.url}/lti/config", timeout=10).json()
    name = "third-party"
    platform = DemoPlatform(
        issuer=f"{platform_host.url}/{name}",
        client_id="third-party-client",
        deployment_id="third-party-deployment",
        private_key_pem=generate_private_key_pem(),
        tool=ToolEndpoints(
            login_url=config["oidc_initiation_url"],
            launch_url=config["target_link_uri"],
            jwks_url=config["public_jwk_url"],
        ),
        users=default_users(),
        hint_secret="third-party",
    )
    platform.auth_url = f"{platform_host.url}/{name}/auth"
    platform.jwks_url = f"{platform_host.url}/{name}/jwks"
    platform_host.platforms[name] = platform
    result = run_cli(
        cli_env,
        "platforms",
        "add",
        "--issuer",
        platform.issuer,
        "--client-id",
        platform.client_id,
        "--deployment-id",
        platform.deployment_id,
        "--auth-login-url",
        platform.auth_url,
        "--auth-token-url",
        f"{platform_host.url}/{name}/token",
        "--key-set-url",
        platform.jwks_url,
    )
    assert result.exit_code == 0, result.output

    page = browser.launch(
        platform,
        LaunchRequest(
            user_id="student-ben",
            context_id="course-x",
            resource_link_id="rl-1",
            roles=(ROLE_LEARNER,),
        ),
    )
    assert page.status_code == 200
    assert "My learning plan" in page_text(page.text)


def test_init_db_creates_schema(tmp_path):
    env = {
        "ILP_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "ILP_KEYS_DIR": str(tmp_path / "keys"),
    }
    first = CliRunner().invoke(main, ["init-db"], env=env, catch_exceptions=False)
    again = CliRunner().invoke(main, ["init-db"], env=env, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert again.exit_code == 0, again.output
    assert "up to date" in again.output
