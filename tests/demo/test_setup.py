"""Setting up the demo: database, keys and registration, safe to run again."""

from __future__ import annotations

import stat

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select

from lti_ilp import create_app
from lti_ilp.demo.runner import (
    CLIENT_ID,
    DEPLOYMENT_ID,
    PLATFORM_KEY_FILE,
    build_lms,
    redact_path,
    set_up_demo,
)
from lti_ilp.extensions import db
from lti_ilp.keys.models import ToolKey
from lti_ilp.people.models import Person
from lti_ilp.plans.models import Plan
from lti_ilp.platforms.models import Deployment, Registration
from lti_ilp.settings import Settings


def _counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Registration, Deployment, ToolKey)
        }


def test_setup_is_idempotent(app, demo):
    again = set_up_demo(
        app, tool_base_url=demo.tool_url, lms_base_url=demo.url, upgrade_database=False
    )
    assert _counts(app) == {"Registration": 1, "Deployment": 1, "ToolKey": 1}
    assert again.registration_id == demo.setup.registration_id
    assert again.platform_private_key_pem == demo.setup.platform_private_key_pem
    assert again.hint_secret == demo.setup.hint_secret


def test_setup_registers_demo_lms(app, demo):
    with app.app_context():
        registration = db.session.get(Registration, demo.setup.registration_id)
        assert registration.issuer == demo.url
        assert registration.client_id == CLIENT_ID
        assert registration.auth_login_url == f"{demo.url}/auth"
        assert registration.key_set_url == f"{demo.url}/jwks"
        assert [d.deployment_id for d in registration.deployments] == [DEPLOYMENT_ID]


def test_platform_key_file_is_encrypted(settings, demo):
    path = settings.keys_dir / PLATFORM_KEY_FILE
    content = path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" not in content
    assert not content.startswith(b"-----BEGIN")

    pem = Fernet(settings.key_encryption_key.encode()).decrypt(content)
    key = serialization.load_pem_private_key(pem, password=None)
    assert pem.decode() == demo.setup.platform_private_key_pem
    assert key.key_size >= 2048


def test_platform_key_survives_restart(app, demo):
    first = build_lms(demo.setup).platform.kid
    setup = set_up_demo(
        app, tool_base_url=demo.tool_url, lms_base_url=demo.url, upgrade_database=False
    )
    assert build_lms(setup).platform.kid == first


def test_setup_on_fresh_sqlite_database(tmp_path):
    """The first run builds the schema through the migrations; the second reuses it."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        secret_key="demo-test-secret",
        keys_dir=tmp_path / "keys",
        key_encryption_key=Fernet.generate_key().decode(),
        base_url="http://localhost:5000",
    )
    app = create_app(settings)
    for _ in range(2):
        set_up_demo(
            app,
            tool_base_url="http://localhost:5000",
            lms_base_url="http://localhost:5001",
            seed_cohort=True,
        )
    assert _counts(app) == {"Registration": 1, "Deployment": 1, "ToolKey": 1}
    assert (tmp_path / "keys" / PLATFORM_KEY_FILE).exists()
    with app.app_context():
        seeded = db.session.scalar(
            select(func.count(Person.id)).where(Person.sub.like("pd-teacher-%"))
        )
        assert seeded == 70
        assert db.session.scalar(select(func.count(Plan.id))) == 70
        db.engine.dispose()


def test_redact_path_removes_tokens():
    assert redact_path("/s/abc123secret/plan?x=1") == "/s/<token>/plan"
    assert redact_path("/auth?state=s&nonce=n&login_hint=student-ana") == "/auth"
    assert redact_path("/courses/algebra-1-evening") == "/courses/algebra-1-evening"
