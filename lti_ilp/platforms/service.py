"""Adding, finding and listing platform registrations."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select

from ..extensions import db
from .models import Deployment, Registration


class RegistrationError(ValueError):
    """A registration request has invalid values."""


@dataclass(frozen=True)
class RegistrationValues:
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    auth_token_audience: str | None = None


def is_local_host(hostname: str | None) -> bool:
    return hostname in {"localhost", "127.0.0.1", "::1"} or bool(
        hostname and hostname.endswith(".localhost")
    )


def check_url(name: str, value: str) -> None:
    """Reject a URL that is not absolute https, or plain http on localhost."""
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.netloc:
        return
    if parts.scheme == "http" and is_local_host(parts.hostname):
        return
    raise RegistrationError(
        f"{name} must be an absolute https URL (plain http is allowed only for localhost), "
        f"got {value!r}"
    )


def add_registration(values: RegistrationValues, deployment_ids: list[str]) -> Registration:
    """Create a registration, or add deployments to an existing one.

    Running this again with the same issuer and client_id keeps the stored URLs unless new
    ones are given, and adds any deployment ids that are not stored yet.
    """
    if not values.issuer or not values.client_id:
        raise RegistrationError("issuer and client_id are required")
    check_url("issuer", values.issuer)
    for name in ("auth_login_url", "auth_token_url", "key_set_url"):
        check_url(name, getattr(values, name))
    for deployment_id in deployment_ids:
        if not deployment_id.strip():
            raise RegistrationError("a deployment id must not be empty")

    registration = find_registration(values.issuer, values.client_id)
    if registration is None:
        registration = Registration(issuer=values.issuer, client_id=values.client_id)
        db.session.add(registration)
    registration.auth_login_url = values.auth_login_url
    registration.auth_token_url = values.auth_token_url
    registration.key_set_url = values.key_set_url
    if values.auth_token_audience is not None:
        registration.auth_token_audience = values.auth_token_audience

    known = {deployment.deployment_id for deployment in registration.deployments}
    for deployment_id in deployment_ids:
        if deployment_id not in known:
            registration.deployments.append(Deployment(deployment_id=deployment_id))
            known.add(deployment_id)
    db.session.flush()
    return registration


def find_registration(issuer: str, client_id: str) -> Registration | None:
    return db.session.execute(
        select(Registration).where(
            Registration.issuer == issuer, Registration.client_id == client_id
        )
    ).scalar_one_or_none()


def registrations_for_issuer(issuer: str) -> list[Registration]:
    return list(
        db.session.execute(select(Registration).where(Registration.issuer == issuer)).scalars()
    )


def find_deployment(registration: Registration, deployment_id: str) -> Deployment | None:
    return db.session.execute(
        select(Deployment).where(
            Deployment.registration_id == registration.id,
            Deployment.deployment_id == deployment_id,
        )
    ).scalar_one_or_none()


def list_registrations() -> list[Registration]:
    return list(db.session.execute(select(Registration).order_by(Registration.id)).scalars())
