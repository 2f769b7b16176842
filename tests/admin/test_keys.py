"""Key lifecycle: generation, encryption at rest, rotation, retirement, and the CLI."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from datetime import timedelta

import jwt
import pytest
import requests
from click.testing import CliRunner
from cryptography.fernet import Fernet
from jwcrypto.jwk import JWK
from sqlalchemy import select, text

from lti_ilp.cli import main as cli
from lti_ilp.extensions import db, utcnow
from lti_ilp.keys.models import KeyStatus, ToolKey
from lti_ilp.keys.service import (
    RETIRE_GRACE,
    SigningKeyError,
    current_signing_key,
    ensure_current_key,
    generate_key,
    public_jwks,
    retire_key,
    rotate_keys,
)

PEM_MARKERS = (b"PRIVATE KEY", b"-----BEGIN")


def rfc7638_thumbprint(jwk: dict) -> str:
    canonical = json.dumps(
        {"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def kids(jwks: dict) -> list[str]:
    return [key["kid"] for key in jwks["keys"]]


def signed_assertion(issued_at: int | None = None) -> str:
    key = current_signing_key()
    now = issued_at or int(time.time())
    claims = {
        "iss": "client-1",
        "sub": "client-1",
        "aud": "https://lms.example/token",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": key.kid})


def verify_with(jwks: dict, token: str) -> dict:
    """Verify ``token`` as a platform holding ``jwks`` would: find the kid, check RS256."""
    kid = jwt.get_unverified_header(token)["kid"]
    matches = [key for key in jwks["keys"] if key["kid"] == kid]
    assert matches, f"kid {kid} is not in the key set"
    pem = JWK.from_json(json.dumps(matches[0])).export_to_pem()
    return jwt.decode(token, pem, algorithms=["RS256"], audience="https://lms.example/token")


def test_kid_is_rfc7638_thumbprint(app_context):
    key = generate_key()
    assert key.kid == rfc7638_thumbprint(key.public_jwk)
    assert key.public_jwk["alg"] == "RS256"
    assert key.public_jwk["use"] == "sig"
    assert "d" not in key.public_jwk


def test_private_key_encrypted_in_database(app, app_context, settings):
    key = generate_key()
    db.session.commit()
    stored = bytes(key.encrypted_private_key)
    for marker in PEM_MARKERS:
        assert marker not in stored
    plain = Fernet(settings.key_encryption_key.encode()).decrypt(stored)
    assert plain.startswith(b"-----BEGIN PRIVATE KEY-----")

    # Every column of every stored key row, read back as the database holds it.
    rows = db.session.execute(text("SELECT * FROM tool_key")).all()
    for row in rows:
        for value in row:
            raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
            for marker in PEM_MARKERS:
                assert marker not in raw
            body_line = plain.splitlines()[1]
            assert body_line not in raw


def test_no_private_key_on_disk(app, app_context, settings, tmp_path_factory):
    key = generate_key()
    db.session.commit()
    plain = Fernet(settings.key_encryption_key.encode()).decrypt(bytes(key.encrypted_private_key))
    body_line = plain.splitlines()[1]

    paths = [path for path in settings.keys_dir.rglob("*") if path.is_file()]
    if settings.database_url.startswith("sqlite:///"):
        from pathlib import Path

        database = Path(settings.database_url.removeprefix("sqlite:///"))
        paths += [database, *database.parent.glob(database.name + "-*")]
    for path in paths:
        content = path.read_bytes()
        for marker in PEM_MARKERS:
            assert marker not in content, path
        assert body_line not in content, path


def test_jwks_publishes_next_current_previous_only(app_context):
    first = ensure_current_key()
    rotation = rotate_keys()
    assert rotation.previous.kid == first.kid
    assert kids(public_jwks()) == [first.kid, rotation.current.kid, rotation.next.kid]

    rotation.current.activated_at = utcnow() - RETIRE_GRACE - timedelta(seconds=1)
    retired = retire_key(first.kid)
    assert retired.status == KeyStatus.RETIRED
    assert retired.encrypted_private_key == b""
    assert first.kid not in kids(public_jwks())
    assert kids(public_jwks()) == [rotation.current.kid, rotation.next.kid]


def test_rotation_keeps_cached_jwks_valid(app_context):
    ensure_current_key()
    generate_key()  # the next key, published before any rotation
    cached = public_jwks()
    before = signed_assertion()

    rotation = rotate_keys()
    after = signed_assertion()

    assert jwt.get_unverified_header(after)["kid"] == rotation.current.kid
    assert verify_with(cached, after)["iss"] == "client-1"
    assert verify_with(public_jwks(), before)["iss"] == "client-1"


def test_rotation_without_next_key_warns(app_context):
    ensure_current_key()
    cached = public_jwks()
    rotation = rotate_keys()
    assert rotation.current_was_unpublished is True
    assert rotation.current.kid not in kids(cached)
    assert rotation.next.status == KeyStatus.NEXT


def test_current_key_cannot_be_retired(app_context):
    key = ensure_current_key()
    with pytest.raises(SigningKeyError, match="rotate"):
        retire_key(key.kid)


def test_previous_key_kept_during_grace(app_context):
    first = ensure_current_key()
    rotate_keys()
    with pytest.raises(SigningKeyError, match="--force"):
        retire_key(first.kid)
    assert retire_key(first.kid, force=True).status == KeyStatus.RETIRED


def test_retired_key_cannot_sign_again(app_context):
    first = ensure_current_key()
    rotate_keys()
    retire_key(first.kid, force=True)
    statuses = {row.kid: row.status for row in db.session.execute(select(ToolKey)).scalars()}
    assert list(statuses.values()).count(KeyStatus.CURRENT) == 1
    assert current_signing_key().kid != first.kid


def test_jwks_endpoint_serves_rotated_set(app, tool_server, app_context):
    first = ensure_current_key()
    rotation = rotate_keys()
    db.session.commit()
    served = requests.get(f"{tool_server.url}/lti/jwks", timeout=10).json()
    assert kids(served) == [first.kid, rotation.current.kid, rotation.next.kid]
    assert all(set(key) >= {"kid", "alg", "use", "n", "e", "kty"} for key in served["keys"])


@pytest.fixture
def cli_env(monkeypatch, settings):
    monkeypatch.setenv("ILP_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ILP_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("ILP_KEY_ENCRYPTION_KEY", settings.key_encryption_key)
    monkeypatch.setenv("ILP_KEYS_DIR", str(settings.keys_dir))
    monkeypatch.setenv("ILP_BASE_URL", "https://ilp.example.edu")
    return CliRunner()


def test_cli_keys_rotate_list_retire(app, cli_env):
    runner = cli_env
    assert runner.invoke(cli, ["keys", "generate"]).exit_code == 0
    rotated = runner.invoke(cli, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert "previous:" in rotated.output

    listed = runner.invoke(cli, ["keys", "list"])
    assert listed.exit_code == 0
    assert "current" in listed.output
    assert "previous" in listed.output
    assert "rule:" in listed.output

    early = runner.invoke(cli, ["keys", "retire"])
    assert early.exit_code != 0
    assert "--force" in early.output

    retired = runner.invoke(cli, ["keys", "retire", "--force"])
    assert retired.exit_code == 0, retired.output
    assert retired.output.startswith("retired ")
    with app.app_context():
        assert len(public_jwks()["keys"]) == 2


def test_cli_retire_unknown_kid(app, cli_env):
    result = cli_env.invoke(cli, ["keys", "retire", "no-such-kid"])
    assert result.exit_code != 0
    assert "no tool key has kid" in result.output
