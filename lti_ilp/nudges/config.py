"""Settings for nudges, email and the demo clock.

Each value comes from ``Settings.extra`` when the application factory was given one (tests
and the demo do this), else from an ``ILP_*`` environment variable, else a default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from flask import current_app

from ..settings import SettingsError

EMAIL_OFF = "off"
EMAIL_OUTBOX = "outbox"
EMAIL_SMTP = "smtp"
EMAIL_MODES = (EMAIL_OFF, EMAIL_OUTBOX, EMAIL_SMTP)


def _raw(name: str) -> object:
    extra = current_app.config["ILP_SETTINGS"].extra
    if name in extra:
        return extra[name]
    return os.environ.get("ILP_" + name.upper()) or None


def _flag(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"ILP_{name.upper()} must be true or false, got {value!r}")


def _number(name: str, default: int) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"ILP_{name.upper()} must be a whole number, got {value!r}") from exc


def demo_clock_enabled() -> bool:
    """Whether the stored demo clock offset moves "now"; off unless ILP_DEMO_CLOCK is set."""
    return _flag("demo_clock", False)


@dataclass(frozen=True)
class MailSettings:
    # "off" (default): no email; "outbox": store emails for the demo's outbox page only;
    # "smtp": store emails and deliver them through the SMTP server below.
    mode: str
    sender: str
    smtp_host: str
    smtp_port: int
    smtp_username: str | None
    smtp_password: str | None
    smtp_starttls: bool

    @property
    def enabled(self) -> bool:
        return self.mode != EMAIL_OFF


def mail_settings() -> MailSettings:
    mode = str(_raw("email_mode") or EMAIL_OFF).lower()
    if mode not in EMAIL_MODES:
        raise SettingsError(
            f"ILP_EMAIL_MODE must be one of {', '.join(EMAIL_MODES)}, got {mode!r}"
        )
    return MailSettings(
        mode=mode,
        sender=str(_raw("email_sender") or "ilp-noreply@localhost"),
        smtp_host=str(_raw("smtp_host") or "localhost"),
        smtp_port=_number("smtp_port", 587),
        smtp_username=_raw("smtp_username"),
        smtp_password=_raw("smtp_password"),
        smtp_starttls=_flag("smtp_starttls", True),
    )


def roster_sync_interval_hours() -> int:
    """Hours after which the scheduled roster sync refreshes a course again."""
    return _number("roster_sync_interval_hours", 24)
