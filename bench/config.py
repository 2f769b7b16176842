"""The run configuration shared by the runner, the served apps and the client processes.

The runner writes it as JSON into the run's temporary directory before it starts any server,
and every gunicorn worker and client process reads the same file, so all of them build the
same platforms with the same keys.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lti_ilp.demo.platform import DemoPlatform, DemoUser, ToolEndpoints

CONFIG_ENV = "BENCH_CONFIG"

# The baseline tools measured beside lti-ilp (see baseline_tool.py), by platform name.
BASELINES = ("baseline", "baseline_db")


@dataclass
class PlatformConfig:
    """One platform registration: the demo platform that launches one tool."""

    name: str
    issuer: str
    client_id: str
    deployment_id: str
    private_key_pem: str
    tool_url: str


@dataclass
class RunConfig:
    platform_url: str
    user_count: int
    course_count: int
    # Signs the baseline tool's Flask session cookie, which pylti1p3 uses for state and nonce.
    baseline_session_secret: str
    # Students of the demo LMS course that the grade sync rows send scores for.
    sync_students: int
    platforms: dict[str, PlatformConfig] = field(default_factory=dict)

    def write(self, path: Path) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(asdict(self), handle)

    @classmethod
    def read(cls, path: str | Path | None = None) -> RunConfig:
        raw = json.loads(Path(path or os.environ[CONFIG_ENV]).read_text())
        platforms = {
            name: PlatformConfig(**values) for name, values in raw.pop("platforms").items()
        }
        return cls(platforms=platforms, **raw)


def user_id(index: int) -> str:
    return f"student-{index:05d}"


def course_id(index: int) -> str:
    return f"course-{index:03d}"


def build_platform(config: RunConfig, name: str) -> DemoPlatform:
    """Build the demo platform ``name`` exactly as every other process of the run does."""
    values = config.platforms[name]
    users = {
        user_id(index): DemoUser(user_id(index), f"Student {index}", f"s{index}@example.edu")
        for index in range(config.user_count)
    }
    platform = DemoPlatform(
        issuer=values.issuer,
        client_id=values.client_id,
        deployment_id=values.deployment_id,
        private_key_pem=values.private_key_pem,
        tool=ToolEndpoints(
            login_url=f"{values.tool_url}/lti/login",
            launch_url=f"{values.tool_url}/lti/launch",
            jwks_url=f"{values.tool_url}/lti/jwks",
        ),
        users=users,
        hint_secret="bench-hint-" + name,
    )
    platform.auth_url = f"{config.platform_url}/{name}/auth"
    platform.jwks_url = f"{config.platform_url}/{name}/jwks"
    return platform


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
