"""Settings read from ``ILP_*`` environment variables.

Every variable is listed in README.md. Tests and the demo build a ``Settings`` directly
instead of setting environment variables.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting has a value the tool cannot use."""


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _load_or_create_secret(path: Path) -> str:
    """Return the secret stored at ``path``, creating it with mode 0600 on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


@dataclass
class Settings:
    database_url: str
    secret_key: str
    keys_dir: Path
    key_encryption_key: str
    base_url: str | None = None
    jwt_leeway_seconds: int = 30
    launch_state_ttl_seconds: int = 600
    launch_session_ttl_seconds: int = 8 * 3600
    jwks_cache_ttl_seconds: int = 3600
    jwks_refetch_interval_seconds: int = 30
    http_timeout_seconds: int = 10
    proxy_hops: int = 0
    log_level: str = "INFO"
    # LTI client-side storage (lti.put_data / lti.get_data) as the browser binding when the
    # state cookie is missing.
    lti_storage_enabled: bool = True
    # Requests per client IP and endpoint in each fixed window; 0 turns a limit off.
    # NOTE: a school behind one NAT address shares these limits, so size them for the
    # largest class that opens the plan within one window.
    rate_limit_window_seconds: int = 60
    rate_limit_login: int = 300
    rate_limit_launch: int = 300
    # Origins allowed to frame the tool besides the registered platforms' issuer and
    # authorization URL origins (Canvas Cloud shows courses on the school's own domain).
    frame_ancestors: tuple[str, ...] = ()
    # Closed plans older than this many years are purged by `lti-ilp privacy purge-closed`;
    # 0 keeps them until someone deletes them.
    retention_years: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        keys_dir = Path(os.environ.get("ILP_KEYS_DIR") or PROJECT_ROOT / "keys")
        instance_dir = Path(os.environ.get("ILP_INSTANCE_DIR") or PROJECT_ROOT / "instance")
        database_url = os.environ.get("ILP_DATABASE_URL") or (
            f"sqlite:///{instance_dir / 'lti_ilp.sqlite3'}"
        )
        if database_url.startswith("sqlite:///"):
            Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        secret_key = os.environ.get("ILP_SECRET_KEY") or _load_or_create_secret(
            keys_dir / "secret_key"
        )
        key_encryption_key = os.environ.get(
            "ILP_KEY_ENCRYPTION_KEY"
        ) or _load_or_create_fernet_key(keys_dir / "key_encryption_key")
        return cls(
            database_url=database_url,
            secret_key=secret_key,
            keys_dir=keys_dir,
            key_encryption_key=key_encryption_key,
            base_url=(os.environ.get("ILP_BASE_URL") or None),
            jwt_leeway_seconds=_env_int("ILP_JWT_LEEWAY_SECONDS", 30),
            launch_state_ttl_seconds=_env_int("ILP_LAUNCH_STATE_TTL_SECONDS", 600),
            launch_session_ttl_seconds=_env_int("ILP_LAUNCH_SESSION_TTL_SECONDS", 8 * 3600),
            jwks_cache_ttl_seconds=_env_int("ILP_JWKS_CACHE_TTL_SECONDS", 3600),
            jwks_refetch_interval_seconds=_env_int("ILP_JWKS_REFETCH_INTERVAL_SECONDS", 30),
            http_timeout_seconds=_env_int("ILP_HTTP_TIMEOUT_SECONDS", 10),
            proxy_hops=_env_int("ILP_PROXY_HOPS", 0),
            log_level=os.environ.get("ILP_LOG_LEVEL", "INFO"),
            lti_storage_enabled=_env_bool("ILP_LTI_STORAGE", True),
            rate_limit_window_seconds=_env_int("ILP_RATE_LIMIT_WINDOW_SECONDS", 60),
            rate_limit_login=_env_int("ILP_RATE_LIMIT_LOGIN", 300),
            rate_limit_launch=_env_int("ILP_RATE_LIMIT_LAUNCH", 300),
            frame_ancestors=tuple(os.environ.get("ILP_FRAME_ANCESTORS", "").split()),
            retention_years=_env_int("ILP_RETENTION_YEARS", 0),
        )

    def validate(self) -> None:
        if self.base_url is not None:
            if not self.base_url.startswith(("https://", "http://localhost", "http://127.")):
                raise SettingsError(
                    f"ILP_BASE_URL must use https (plain http is allowed only for "
                    f"localhost), got {self.base_url!r}"
                )
        if self.jwt_leeway_seconds < 0 or self.jwt_leeway_seconds > 300:
            raise SettingsError("ILP_JWT_LEEWAY_SECONDS must be between 0 and 300")
        if self.rate_limit_window_seconds < 1:
            raise SettingsError("ILP_RATE_LIMIT_WINDOW_SECONDS must be at least 1")
        if self.retention_years < 0:
            raise SettingsError(
                "ILP_RETENTION_YEARS must be 0 (keep closed plans) or a number of years"
            )
        for origin in self.frame_ancestors:
            if not origin.startswith(("https://", "http://localhost", "http://127.")):
                raise SettingsError(
                    f"ILP_FRAME_ANCESTORS must list https origins (plain http only for "
                    f"localhost), got {origin!r}"
                )


def _load_or_create_fernet_key(path: Path) -> str:
    from cryptography.fernet import Fernet

    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = Fernet.generate_key().decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value
