"""Admin console pages, mounted twice: under ``/admin`` for console logins and under
``/s/<launch_token>/admin`` for LMS Administrator launches.

A console login manages everything. An LMS Administrator launch manages only the
registration it came from. Keys, the approval rule and registration links affect every
LMS, so only console logins manage them.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from ..extensions import db
from ..keys.service import (
    SigningKeyError,
    ensure_current_key,
    key_role,
    list_keys,
    retire_key,
    rotate_keys,
)
from ..platforms.models import Deployment, Registration
from ..platforms.service import RegistrationError, check_url, list_registrations
from ..registration.models import ApprovalRule
from ..registration.service import (
    activate_registration,
    create_access_code,
    current_policy,
    deactivate_registration,
    find_dynamic_record,
    set_policy,
)
from ..web.session import LaunchSession
from .failures import recent_failures
from .health import check_platform, latest_checks
from .models import LaunchFailure

log = logging.getLogger(__name__)

REGISTRATION_LINK_VALIDITY = timedelta(hours=24)


def actor() -> str:
    """Return who is acting, for approval records and logs (ids only)."""
    if getattr(g, "console_admin", None) is not None:
        return f"admin:{g.console_admin.username}"
    return f"lms-admin:{g.launch_session.person_id}"


def is_tool_admin() -> bool:
    return getattr(g, "console_admin", None) is not None


def _require_tool_admin() -> None:
    if not is_tool_admin():
        abort(
            403,
            description="Only a plan tool admin can do this, because it affects "
            "every LMS. Sign in at /admin/login with an account made by "
            "`lti-ilp admin create`.",
        )


def visible_registrations() -> list[Registration]:
    if is_tool_admin():
        return list_registrations()
    return [g.launch_session.deployment.registration]


def _registration_or_404(registration_id: int) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration not in visible_registrations():
        abort(
            404, description="That registration does not exist, or this console cannot manage it."
        )
    return registration


def services_seen(registration: Registration, limit: int = 50) -> dict[str, list[str]]:
    """Summarise the services that recent launches of this registration carried."""
    rows = db.session.execute(
        select(LaunchSession.services)
        .join(Deployment, LaunchSession.deployment_id == Deployment.id)
        .where(Deployment.registration_id == registration.id)
        .order_by(LaunchSession.id.desc())
        .limit(limit)
    ).scalars()
    seen: dict[str, set[str]] = {}
    for services in rows:
        for name, claim in (services or {}).items():
            scopes = seen.setdefault(name, set())
            if isinstance(claim, dict) and isinstance(claim.get("scope"), list):
                scopes.update(scope for scope in claim["scope"] if isinstance(scope, str))
    return {name: sorted(scopes) for name, scopes in sorted(seen.items())}


def add_console_routes(bp: Blueprint) -> None:
    """Attach every console page to ``bp``."""

    @bp.get("/")
    def overview():
        registrations = visible_registrations()
        checks = latest_checks()
        details = [
            {
                "registration": registration,
                "dynamic": find_dynamic_record(registration),
                "check": checks.get(registration.id),
                "services": services_seen(registration),
            }
            for registration in registrations
        ]
        scope = None if is_tool_admin() else registrations[0].id
        return render_template(
            "admin/overview.html",
            details=details,
            keys=list_keys() if is_tool_admin() else [],
            key_role=key_role,
            failures=recent_failures(20, registration_id=scope),
            policy=current_policy() if is_tool_admin() else None,
            approval_rules=ApprovalRule,
            tool_admin=is_tool_admin(),
        )

    @bp.post("/registrations/<int:registration_id>/activate")
    def activate(registration_id: int):
        registration = _registration_or_404(registration_id)
        if not is_tool_admin() and not registration.active:
            # An LMS admin reaches an inactive registration only when a tool admin
            # deactivated it during the LMS admin's session, and may not undo that.
            _require_tool_admin()
        activate_registration(registration, actor())
        db.session.commit()
        flash(f"Registration {registration.client_id} of {registration.issuer} is active.")
        return redirect(url_for(".overview"), code=303)

    @bp.post("/registrations/<int:registration_id>/deactivate")
    def deactivate(registration_id: int):
        registration = _registration_or_404(registration_id)
        deactivate_registration(registration, actor())
        db.session.commit()
        flash(
            f"Registration {registration.client_id} of {registration.issuer} is inactive; "
            "its launches are rejected until it is activated again."
        )
        return redirect(url_for(".overview"), code=303)

    @bp.route("/registrations/<int:registration_id>/edit", methods=["GET", "POST"])
    def edit_registration(registration_id: int):
        registration = _registration_or_404(registration_id)
        errors: dict[str, str] = {}
        values = {
            "auth_login_url": registration.auth_login_url,
            "auth_token_url": registration.auth_token_url,
            "key_set_url": registration.key_set_url,
            "auth_token_audience": registration.auth_token_audience or "",
        }
        if request.method == "POST":
            values = {name: request.form.get(name, "").strip() for name in values}
            for name in ("auth_login_url", "auth_token_url", "key_set_url"):
                try:
                    check_url(name, values[name])
                except RegistrationError as exc:
                    errors[name] = str(exc)
            if values["auth_token_audience"] and len(values["auth_token_audience"]) > 2000:
                message = "The token audience must have at most 2000 characters."
                errors["auth_token_audience"] = message
            if not errors:
                registration.auth_login_url = values["auth_login_url"]
                registration.auth_token_url = values["auth_token_url"]
                if registration.key_set_url != values["key_set_url"] and registration.key_set:
                    db.session.delete(registration.key_set)
                registration.key_set_url = values["key_set_url"]
                registration.auth_token_audience = values["auth_token_audience"] or None
                db.session.commit()
                log.info("registration edited registration=%s by=%s", registration.id, actor())
                flash("The registration's settings are saved.")
                return redirect(url_for(".overview"), code=303)
        status = 400 if errors else 200
        return render_template(
            "admin/edit_registration.html", registration=registration, values=values, errors=errors
        ), status

    @bp.post("/registrations/<int:registration_id>/deployments")
    def add_deployment(registration_id: int):
        registration = _registration_or_404(registration_id)
        deployment_id = request.form.get("deployment_id", "").strip()
        if not deployment_id or len(deployment_id) > 255:
            abort(
                400,
                description="Enter the deployment id the LMS shows for this tool "
                "(1 to 255 characters).",
            )
        if any(d.deployment_id == deployment_id for d in registration.deployments):
            flash(f"Deployment {deployment_id} is already on the list.")
        else:
            registration.deployments.append(Deployment(deployment_id=deployment_id))
            db.session.commit()
            flash(f"Deployment {deployment_id} is added and active.")
        return redirect(url_for(".overview"), code=303)

    @bp.post("/deployments/<int:deployment_id>/<any(activate, deactivate):action>")
    def set_deployment_active(deployment_id: int, action: str):
        deployment = db.session.get(Deployment, deployment_id)
        if deployment is None:
            abort(404, description="That deployment does not exist.")
        _registration_or_404(deployment.registration_id)
        if (
            not is_tool_admin()
            and deployment.id == g.launch_session.deployment_id
            and action == "deactivate"
        ):
            abort(
                400,
                description="You cannot deactivate the deployment you launched "
                "from; it would lock this console out.",
            )
        deployment.active = action == "activate"
        db.session.commit()
        log.info("deployment %sd deployment=%s by=%s", action, deployment.id, actor())
        flash(
            f"Deployment {deployment.deployment_id} is "
            f"{'active' if deployment.active else 'inactive'}."
        )
        return redirect(url_for(".overview"), code=303)

    @bp.post("/registrations/<int:registration_id>/check")
    def run_health_check(registration_id: int):
        registration = _registration_or_404(registration_id)
        result = check_platform(registration)
        db.session.commit()
        state = "passed" if result.jwks_ok and result.token_ok else "found problems"
        flash(f"The health check of {registration.issuer} {state}.")
        return redirect(url_for(".overview", _anchor=f"registration-{registration.id}"), code=303)

    @bp.get("/failures/<int:failure_id>")
    def failure(failure_id: int):
        row = db.session.get(LaunchFailure, failure_id)
        visible = {registration.id for registration in visible_registrations()}
        if row is None or (not is_tool_admin() and row.registration_id not in visible):
            abort(404, description="That launch failure is not on record.")
        return render_template("admin/failure.html", failure=row)

    @bp.post("/keys/rotate")
    def rotate():
        _require_tool_admin()
        ensure_current_key()
        rotation = rotate_keys()
        db.session.commit()
        flash(
            f"Key {rotation.current.kid} now signs tokens. Key {rotation.previous.kid} "
            "stays published until you retire it."
        )
        return redirect(url_for(".overview", _anchor="keys"), code=303)

    @bp.post("/keys/<kid>/retire")
    def retire(kid: str):
        _require_tool_admin()
        try:
            retire_key(kid, force=request.form.get("force") == "yes")
        except SigningKeyError as exc:
            abort(400, description=f"The key was not retired: {exc}.")
        db.session.commit()
        flash(f"Key {kid} is retired and no longer published.")
        return redirect(url_for(".overview", _anchor="keys"), code=303)

    @bp.post("/policy")
    def update_policy():
        _require_tool_admin()
        rule = request.form.get("approval_rule", "")
        issuers = request.form.get("trusted_issuers", "").split()
        try:
            set_policy(rule, issuers)
        except RegistrationError as exc:
            abort(400, description=f"The approval rule was not saved: {exc}.")
        db.session.commit()
        flash("The approval rule is saved.")
        return redirect(url_for(".overview", _anchor="policy"), code=303)

    @bp.post("/registration-link")
    def registration_link():
        _require_tool_admin()
        code = create_access_code(REGISTRATION_LINK_VALIDITY)
        db.session.commit()
        from ..registration.views import registration_url

        return render_template(
            "admin/registration_link.html",
            url=registration_url(code),
            hours=int(REGISTRATION_LINK_VALIDITY.total_seconds() // 3600),
        )
