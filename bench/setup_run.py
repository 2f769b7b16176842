"""Preparing a run: the temporary directory, the platforms' keys and lti-ilp's database."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import MetaData
from sqlalchemy.engine import make_url

from lti_ilp import create_app
from lti_ilp.demo.platform import generate_private_key_pem
from lti_ilp.extensions import db
from lti_ilp.keys.service import generate_key
from lti_ilp.platforms.service import RegistrationValues, add_registration
from lti_ilp.settings import Settings

from .baseline_tool import CACHE_METADATA
from .config import BASELINES, PlatformConfig, RunConfig, free_port

# Every benchmark launch comes from 127.0.0.1, so the per-IP rate limits would reject most of
# them. A limit that is never reached keeps the counting, and its cost, in every request.
UNREACHED_RATE_LIMIT = 10**9


class UnsafeDatabase(ValueError):
    """The database URL names a database that the benchmark must not empty."""


@dataclass(frozen=True)
class ToolEnvironment:
    """The ILP_* settings of every lti-ilp process of the run."""

    settings: Settings

    def as_env(self) -> dict[str, str]:
        return {
            "ILP_DATABASE_URL": self.settings.database_url,
            "ILP_SECRET_KEY": self.settings.secret_key,
            "ILP_KEY_ENCRYPTION_KEY": self.settings.key_encryption_key,
            "ILP_KEYS_DIR": str(self.settings.keys_dir),
            "ILP_LOG_LEVEL": "WARNING",
            "ILP_RATE_LIMIT_LOGIN": str(UNREACHED_RATE_LIMIT),
            "ILP_RATE_LIMIT_LAUNCH": str(UNREACHED_RATE_LIMIT),
        }


def check_database_url(url: str, run_dir: Path) -> None:
    """Reject a database that is neither a SQLite file of this run nor named for benchmarks,
    because preparing the run drops every table in it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and Path(parsed.database).resolve().is_relative_to(run_dir):
            return
    elif parsed.database and "bench" in parsed.database:
        return
    raise UnsafeDatabase(
        f"the benchmark drops every table of its database, so it runs only on a database "
        f"whose name contains 'bench' (got {parsed.render_as_string(hide_password=True)}); "
        "create one, for example: createdb ilp_bench"
    )


def make_run_config(
    run_dir: Path, user_count: int, course_count: int, sync_students: int
) -> RunConfig:
    platform_url = f"http://127.0.0.1:{free_port()}"
    config = RunConfig(
        platform_url=platform_url,
        user_count=user_count,
        course_count=course_count,
        baseline_session_secret=secrets.token_urlsafe(32),
        sync_students=sync_students,
    )
    for name in ("ilp", *BASELINES):
        config.platforms[name] = PlatformConfig(
            name=name,
            issuer=f"{platform_url}/{name}",
            client_id=f"bench-client-{name}",
            deployment_id="bench-deployment-1",
            private_key_pem=generate_private_key_pem(),
            tool_url=f"http://127.0.0.1:{free_port()}",
        )
    # The demo LMS of the grade sync rows is a second platform of lti-ilp.
    config.platforms["lms"] = PlatformConfig(
        name="lms",
        issuer=f"http://127.0.0.1:{free_port()}",
        client_id="bench-client-lms",
        deployment_id="bench-lms-deployment",
        private_key_pem=generate_private_key_pem(),
        tool_url=config.platforms["ilp"].tool_url,
    )
    config.write(run_dir / "config.json")
    return config


def tool_settings(database_url: str, run_dir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=secrets.token_urlsafe(32),
        keys_dir=run_dir / "keys",
        key_encryption_key=Fernet.generate_key().decode(),
        log_level="WARNING",
        rate_limit_login=UNREACHED_RATE_LIMIT,
        rate_limit_launch=UNREACHED_RATE_LIMIT,
    )


def prepare_database(settings: Settings, config: RunConfig) -> None:
    """Empty the database, build the schema from the models, and register the platform."""
    app = create_app(settings)
    values = config.platforms["ilp"]
    with app.app_context():
        existing = MetaData()
        existing.reflect(bind=db.engine)
        existing.drop_all(bind=db.engine)
        db.create_all()
        CACHE_METADATA.create_all(bind=db.engine)
        generate_key()
        add_registration(
            RegistrationValues(
                issuer=values.issuer,
                client_id=values.client_id,
                auth_login_url=f"{config.platform_url}/ilp/auth",
                auth_token_url=f"{config.platform_url}/ilp/token",
                key_set_url=f"{config.platform_url}/ilp/jwks",
            ),
            [values.deployment_id],
        )
        lms = config.platforms["lms"]
        add_registration(
            RegistrationValues(
                issuer=lms.issuer,
                client_id=lms.client_id,
                auth_login_url=f"{lms.issuer}/auth",
                auth_token_url=f"{lms.issuer}/token",
                key_set_url=f"{lms.issuer}/jwks",
            ),
            [lms.deployment_id],
        )
        db.session.commit()
        db.engine.dispose()
