"""Admin logins: password hashes, lockout after failed attempts, the signed session cookie.

The console session lives in Flask's signed session cookie (SameSite=Lax, HttpOnly, Secure
over https). Pages reached from an LMS launch use the launch token instead and never read
this cookie.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db, utcnow
from .models import AdminUser

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
USERNAME_MAX_LENGTH = 80

# A hash checked when the username is unknown, so both cases take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class AdminAccountError(ValueError):
    """An admin account cannot be created or changed with the given values."""


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, marked Secure whenever the request came over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def configure_session_cookie(app: Flask) -> None:
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config.setdefault("SESSION_COOKIE_NAME", "session")
    app.session_interface = ConsoleSessionInterface()


def create_admin(username: str, password: str) -> AdminUser:
    username = username.strip()
    if not username or len(username) > USERNAME_MAX_LENGTH:
        raise AdminAccountError(f"the username must have 1 to {USERNAME_MAX_LENGTH} characters")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AdminAccountError(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
        )
    if find_admin(username) is not None:
        raise AdminAccountError(f"an admin named {username!r} already exists")
    user = AdminUser(
        username=username, password_hash=generate_password_hash(password, method="scrypt")
    )
    db.session.add(user)
    db.session.flush()
    log.info("admin user created admin=%s", user.id)
    return user


def find_admin(username: str) -> AdminUser | None:
    return db.session.execute(
        select(AdminUser).where(func.lower(AdminUser.username) == username.strip().lower())
    ).scalar_one_or_none()


def is_locked(user: AdminUser, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def check_login(username: str, password: str) -> AdminUser | None:
    """Return the admin when the password matches and the account is not locked.

    Five failed attempts lock the account for 15 minutes. The caller commits.
    """
    user = find_admin(username) if username else None
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    now = utcnow()
    if is_locked(user, now):
        log.warning("admin login rejected, account locked admin=%s", user.id)
        return None
    if not check_password_hash(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            log.warning("admin account locked after failed logins admin=%s", user.id)
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return user


def start_admin_session(user: AdminUser) -> None:
    session.clear()
    session["admin_id"] = user.id
    session["admin_login_at"] = utcnow().timestamp()
    session["csrf"] = secrets.token_urlsafe(32)


def end_admin_session() -> None:
    session.clear()


def current_admin() -> AdminUser | None:
    """Return the admin signed in with the console cookie, or None."""
    admin_id = session.get("admin_id")
    login_at = session.get("admin_login_at")
    if not isinstance(admin_id, int) or not isinstance(login_at, int | float):
        return None
    if utcnow().timestamp() - login_at > SESSION_LIFETIME.total_seconds():
        return None
    return db.session.get(AdminUser, admin_id)


def session_csrf_token() -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token
