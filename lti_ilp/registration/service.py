"""LTI Dynamic Registration 1.0, tool side.

The LMS opens the tool's registration page with ``openid_configuration`` (and usually a
``registration_token``). The tool reads that configuration, posts its own configuration to
the platform's ``registration_endpoint`` and stores the ``client_id`` it gets back.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from sqlalchemy import select, update

from ..extensions import db, utcnow
from ..http import http_session
from ..install.tool_profile import (
    CLAIMS,
    PLACEMENTS,
    SCOPES,
    TOOL_DESCRIPTION,
    TOOL_TITLE,
    tool_domain,
    tool_urls,
)
from ..platforms.models import Deployment, Registration
from ..platforms.service import RegistrationError, check_url, find_registration
from .models import (
    ApprovalRule,
    DynamicRegistration,
    RegistrationAccessCode,
    RegistrationPolicy,
)

log = logging.getLogger(__name__)

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"

# The platform's error text is shown to the admin; longer bodies are cut.
MAX_PLATFORM_MESSAGE_CHARS = 600


class RegistrationFailed(Exception):
    """A registration step failed; ``message`` and ``next_step`` are shown to the admin."""

    def __init__(
        self,
        message: str,
        next_step: str,
        *,
        status: int = 502,
        platform_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.next_step = next_step
        self.status = status
        self.platform_message = platform_message


# Access codes ------------------------------------------------------------------------------


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def create_access_code(valid_for: timedelta) -> str:
    """Store a new one-time access code and return it; only its hash is kept."""
    code = secrets.token_urlsafe(24)
    db.session.add(
        RegistrationAccessCode(code_hash=_hash_code(code), expires_at=utcnow() + valid_for)
    )
    db.session.flush()
    return code


def find_usable_code(code: str | None) -> RegistrationAccessCode | None:
    if not code or len(code) > 100:
        return None
    row = db.session.execute(
        select(RegistrationAccessCode).where(RegistrationAccessCode.code_hash == _hash_code(code))
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def consume_access_code(code: str, registration: Registration) -> bool:
    """Mark the code used; return False when it was already used or has expired.

    One UPDATE with ``used_at IS NULL`` in its condition, so two concurrent requests cannot
    both use the code.
    """
    now = utcnow()
    result = db.session.execute(
        update(RegistrationAccessCode)
        .where(
            RegistrationAccessCode.code_hash == _hash_code(code),
            RegistrationAccessCode.used_at.is_(None),
            RegistrationAccessCode.expires_at > now,
        )
        .values(used_at=now, used_by_registration_id=registration.id)
    )
    return result.rowcount == 1


# The platform's configuration ----------------------------------------------------------------


@dataclass(frozen=True)
class PlatformConfiguration:
    url: str
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    # The audience for client assertions when it differs from the token endpoint.
    token_audience: str | None
    scopes_supported: tuple[str, ...] | None
    product_family_code: str | None
    version: str | None
    messages_supported: tuple[str, ...]

    def as_dict(self) -> dict:
        return {
            "url": self.url,
            "issuer": self.issuer,
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "jwks_uri": self.jwks_uri,
            "registration_endpoint": self.registration_endpoint,
            "token_audience": self.token_audience,
            "scopes_supported": list(self.scopes_supported)
            if self.scopes_supported is not None
            else None,
            "product_family_code": self.product_family_code,
            "version": self.version,
            "messages_supported": list(self.messages_supported),
        }

    @classmethod
    def from_dict(cls, data: dict) -> PlatformConfiguration:
        scopes = data.get("scopes_supported")
        return cls(
            url=data["url"],
            issuer=data["issuer"],
            authorization_endpoint=data["authorization_endpoint"],
            token_endpoint=data["token_endpoint"],
            jwks_uri=data["jwks_uri"],
            registration_endpoint=data["registration_endpoint"],
            token_audience=data.get("token_audience"),
            scopes_supported=tuple(scopes) if scopes is not None else None,
            product_family_code=data.get("product_family_code"),
            version=data.get("version"),
            messages_supported=tuple(data.get("messages_supported") or ()),
        )


def _bearer(registration_token: str | None) -> dict[str, str]:
    # Brightspace may send no registration_token; the request then carries no bearer.
    return {"Authorization": f"Bearer {registration_token}"} if registration_token else {}


def issuer_prefixes_url(issuer: str, url: str) -> bool:
    """True when ``url`` starts with ``issuer`` on a path boundary, on the same origin.

    NOTE: not tried against a live Canvas, Moodle, Brightspace or Sakai. A platform that
    serves its configuration from another host than its issuer is rejected here, and its
    admin is sent to the manual setup page.
    """
    issuer_parts = urlsplit(issuer)
    url_parts = urlsplit(url)
    if (issuer_parts.scheme, issuer_parts.netloc) != (url_parts.scheme, url_parts.netloc):
        return False
    issuer_path = issuer_parts.path.rstrip("/")
    return url_parts.path == issuer_path or url_parts.path.startswith(issuer_path + "/")


def fetch_platform_configuration(
    url: str, registration_token: str | None
) -> PlatformConfiguration:
    """Read and check the platform's OpenID configuration."""
    try:
        check_url("openid_configuration", url)
    except RegistrationError as exc:
        raise RegistrationFailed(
            f"The LMS gave an invalid configuration address: {exc}.",
            "Start the registration again from the LMS.",
            status=400,
        ) from exc

    try:
        response = http_session().get(
            url, headers={"Accept": "application/json", **_bearer(registration_token)}
        )
    except requests.RequestException as exc:
        log.warning("openid configuration fetch failed url=%s error=%s", url, type(exc).__name__)
        raise RegistrationFailed(
            f"The plan tool could not reach the LMS at {url} ({type(exc).__name__}).",
            "Check that the LMS is reachable from the plan tool's server, then start the "
            "registration again.",
        ) from exc
    if response.status_code != 200:
        raise RegistrationFailed(
            f"The LMS returned HTTP {response.status_code} when the plan tool read its "
            f"configuration at {url}.",
            "The registration link may have expired. Start the registration again from the LMS.",
            platform_message=platform_error_text(response),
        )
    try:
        data = response.json()
    except ValueError as exc:
        raise RegistrationFailed(
            f"The LMS's configuration at {url} is not JSON.",
            "Check that the LMS supports LTI Dynamic Registration.",
        ) from exc
    return _checked_configuration(url, data)


def _checked_configuration(url: str, data: object) -> PlatformConfiguration:
    if not isinstance(data, dict):
        raise RegistrationFailed(
            f"The LMS's configuration at {url} is not a JSON object.",
            "Check that the LMS supports LTI Dynamic Registration.",
        )
    missing = [
        name
        for name in (
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "registration_endpoint",
        )
        if not isinstance(data.get(name), str) or not data.get(name)
    ]
    if missing:
        raise RegistrationFailed(
            f"The LMS's configuration at {url} has no {', '.join(missing)}.",
            "Check that the LMS supports LTI Dynamic Registration, or set the tool up by hand "
            "from the setup page.",
        )
    issuer = data["issuer"]
    if not issuer_prefixes_url(issuer, url):
        raise RegistrationFailed(
            f"The LMS's configuration address {url} does not start with the issuer it "
            f"advertises ({issuer}), so the configuration cannot be trusted.",
            "Ask the LMS vendor to serve the configuration under its issuer, or set the tool "
            "up by hand from the setup page.",
        )
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint"):
        try:
            check_url(name, data[name])
        except RegistrationError as exc:
            raise RegistrationFailed(
                f"The LMS's configuration is invalid: {exc}.",
                "Ask the LMS vendor to fix its configuration, or set the tool up by hand.",
            ) from exc
    algorithms = data.get("id_token_signing_alg_values_supported")
    if isinstance(algorithms, list) and "RS256" not in algorithms:
        raise RegistrationFailed(
            "The LMS does not sign launches with RS256, the only algorithm that LTI 1.3 "
            "requires and the plan tool accepts.",
            "Ask the LMS vendor to enable RS256.",
        )

    platform = data.get(PLATFORM_CONFIGURATION)
    platform = platform if isinstance(platform, dict) else {}
    messages = [
        message.get("type")
        for message in platform.get("messages_supported") or []
        if isinstance(message, dict) and isinstance(message.get("type"), str)
    ]
    scopes = data.get("scopes_supported")
    audience = data.get("authorization_server")
    return PlatformConfiguration(
        url=url,
        issuer=issuer,
        authorization_endpoint=data["authorization_endpoint"],
        token_endpoint=data["token_endpoint"],
        jwks_uri=data["jwks_uri"],
        registration_endpoint=data["registration_endpoint"],
        token_audience=audience if isinstance(audience, str) and audience else None,
        scopes_supported=tuple(s for s in scopes if isinstance(s, str))
        if isinstance(scopes, list)
        else None,
        product_family_code=_short_text(platform.get("product_family_code")),
        version=_short_text(platform.get("version")),
        messages_supported=tuple(messages),
    )


def _short_text(value: object) -> str | None:
    return value[:255] if isinstance(value, str) and value else None


# The tool's registration request --------------------------------------------------------------


def requested_scopes(config: PlatformConfiguration) -> list[str]:
    """Return the tool's scopes, limited to those the platform lists when it lists any."""
    if config.scopes_supported is None:
        return list(SCOPES)
    return [scope for scope in SCOPES if scope in config.scopes_supported]


def registration_request(config: PlatformConfiguration) -> dict:
    """Build the client registration body (OpenID Connect Dynamic Client Registration with
    the LTI tool configuration claim)."""
    urls = tool_urls()
    messages = []
    for placement in PLACEMENTS:
        if config.messages_supported and placement.message_type not in config.messages_supported:
            continue
        messages.append(
            {
                "type": placement.message_type,
                "target_link_uri": urls["target_link_uri"],
                "label": placement.label,
                "custom_parameters": dict(placement.custom),
                "placements": list(placement.canvas_placements),
            }
        )
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls["oidc_initiation_url"],
        "redirect_uris": [urls["redirect_uri"]],
        "client_name": TOOL_TITLE,
        "jwks_uri": urls["public_jwk_url"],
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(requested_scopes(config)),
        TOOL_CONFIGURATION: {
            "domain": tool_domain(),
            "description": TOOL_DESCRIPTION,
            "target_link_uri": urls["target_link_uri"],
            "claims": list(CLAIMS),
            "messages": messages,
        },
    }


def platform_error_text(response: requests.Response) -> str:
    """Turn a platform's error body into plain text for the admin.

    Canvas returns 422 with ``{"errors": [...]}``. Moodle and others return
    ``{"error": ..., "error_description": ...}`` or plain text.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    parts: list[str] = []
    if isinstance(body, dict):
        for name in ("error", "error_description", "message"):
            if isinstance(body.get(name), str):
                parts.append(body[name])
        parts.extend(_error_list_text(body.get("errors")))
    elif isinstance(body, list):
        parts.extend(_error_list_text(body))
    if not parts:
        parts.append(_visible_text(response.text))
    text = "; ".join(part.strip() for part in parts if part and part.strip())
    text = text or f"HTTP {response.status_code} with an empty body"
    if len(text) > MAX_PLATFORM_MESSAGE_CHARS:
        text = text[:MAX_PLATFORM_MESSAGE_CHARS] + "…"
    return text


def _visible_text(body: str) -> str:
    """Return the words of a plain-text or HTML error body, without markup."""
    text = re.sub(r"<(script|style)\b[^>]*>.*?</\1\s*>", " ", body, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(html.unescape(text).split())


def _error_list_text(errors: object) -> list[str]:
    if isinstance(errors, str):
        return [errors]
    if isinstance(errors, dict):
        return [
            f"{field}: {'; '.join(_error_list_text(value))}" for field, value in errors.items()
        ]
    if not isinstance(errors, list):
        return []
    texts = []
    for item in errors:
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, dict):
            message = item.get("message") or item.get("error") or item.get("detail")
            field = item.get("field") or item.get("attribute")
            if isinstance(message, str):
                texts.append(f"{field}: {message}" if isinstance(field, str) else message)
    return texts


def send_registration(
    config: PlatformConfiguration, registration_token: str | None, body: dict
) -> dict:
    """Post the registration to the platform and return its JSON response."""
    try:
        response = http_session().post(
            config.registration_endpoint,
            json=body,
            headers={"Accept": "application/json", **_bearer(registration_token)},
        )
    except requests.RequestException as exc:
        log.warning(
            "registration post failed issuer=%s error=%s", config.issuer, type(exc).__name__
        )
        raise RegistrationFailed(
            f"The plan tool could not reach the LMS's registration address "
            f"{config.registration_endpoint} ({type(exc).__name__}).",
            "Check that the LMS is reachable from the plan tool's server, then start the "
            "registration again.",
        ) from exc
    if response.status_code not in (200, 201):
        log.warning(
            "registration rejected issuer=%s status=%s", config.issuer, response.status_code
        )
        raise RegistrationFailed(
            f"The LMS rejected the plan tool's registration (HTTP {response.status_code}).",
            "Read the LMS's message below. Fix the setting it names in the LMS, then start "
            "the registration again; or set the tool up by hand from the setup page.",
            platform_message=platform_error_text(response),
        )
    try:
        answer = response.json()
    except ValueError as exc:
        raise RegistrationFailed(
            "The LMS accepted the registration but its response is not JSON, so the plan tool "
            "did not learn its client_id.",
            "Remove the half-made registration in the LMS, then set the tool up by hand.",
        ) from exc
    if (
        not isinstance(answer, dict)
        or not isinstance(answer.get("client_id"), str)
        or not answer["client_id"]
    ):
        raise RegistrationFailed(
            "The LMS's response to the registration has no client_id.",
            "Remove the half-made registration in the LMS, then set the tool up by hand.",
        )
    return answer


# Storing and approving ------------------------------------------------------------------------


def current_policy() -> RegistrationPolicy:
    policy = db.session.get(RegistrationPolicy, 1)
    if policy is None:
        policy = RegistrationPolicy(id=1, approval_rule=ApprovalRule.MANUAL, trusted_issuers=[])
        db.session.add(policy)
        db.session.flush()
    return policy


def set_policy(approval_rule: str, trusted_issuers: list[str]) -> RegistrationPolicy:
    if approval_rule not in ApprovalRule.ALL:
        raise RegistrationError(
            f"approval rule must be one of {', '.join(ApprovalRule.ALL)}, got {approval_rule!r}"
        )
    cleaned = []
    for issuer in trusted_issuers:
        issuer = issuer.strip()
        if not issuer:
            continue
        check_url("trusted issuer", issuer)
        cleaned.append(issuer)
    policy = current_policy()
    policy.approval_rule = approval_rule
    policy.trusted_issuers = cleaned
    db.session.flush()
    return policy


def _approved_by_rule(issuer: str) -> bool:
    policy = current_policy()
    return policy.approval_rule == ApprovalRule.TRUSTED_ISSUERS and issuer in (
        policy.trusted_issuers or []
    )


def save_registration(
    config: PlatformConfiguration, request_body: dict, answer: dict
) -> Registration:
    """Store the platform's response as a registration that waits for approval.

    A registration from an issuer that the approval rule trusts is active at once.
    """
    client_id = answer["client_id"][:255]
    registration = find_registration(config.issuer, client_id)
    if registration is None:
        registration = Registration(issuer=config.issuer, client_id=client_id, active=False)
        db.session.add(registration)
    registration.auth_login_url = config.authorization_endpoint
    registration.auth_token_url = config.token_endpoint
    registration.key_set_url = config.jwks_uri
    if config.token_audience and config.token_audience != config.token_endpoint:
        registration.auth_token_audience = config.token_audience
    db.session.flush()

    tool_configuration = answer.get(TOOL_CONFIGURATION)
    deployment_id = None
    if isinstance(tool_configuration, dict):
        deployment_id = tool_configuration.get("deployment_id")
    if isinstance(deployment_id, str) and deployment_id.strip():
        known = {deployment.deployment_id for deployment in registration.deployments}
        if deployment_id not in known:
            registration.deployments.append(Deployment(deployment_id=deployment_id[:255]))

    granted = answer.get("scope")
    record = db.session.execute(
        select(DynamicRegistration).where(DynamicRegistration.registration_id == registration.id)
    ).scalar_one_or_none()
    if record is None:
        record = DynamicRegistration(registration_id=registration.id)
        db.session.add(record)
    record.openid_configuration_url = config.url
    record.product_family_code = config.product_family_code
    record.platform_version = config.version
    record.requested_scopes = request_body["scope"].split()
    record.granted_scopes = granted.split() if isinstance(granted, str) else None

    if not registration.active and _approved_by_rule(config.issuer):
        _activate(registration, record, "rule")
    db.session.flush()
    log.info(
        "dynamic registration stored registration=%s issuer=%s client_id=%s active=%s",
        registration.id,
        registration.issuer,
        registration.client_id,
        registration.active,
    )
    return registration


def find_dynamic_record(registration: Registration) -> DynamicRegistration | None:
    return db.session.execute(
        select(DynamicRegistration).where(DynamicRegistration.registration_id == registration.id)
    ).scalar_one_or_none()


def _activate(
    registration: Registration, record: DynamicRegistration | None, approved_by: str
) -> None:
    registration.active = True
    if record is not None:
        record.approved_at = utcnow()
        record.approved_by = approved_by[:255]


def activate_registration(registration: Registration, approved_by: str) -> None:
    """Approve a registration, so its launches are accepted."""
    _activate(registration, find_dynamic_record(registration), approved_by)
    db.session.flush()
    log.info("registration activated registration=%s by=%s", registration.id, approved_by)


def deactivate_registration(registration: Registration, by: str) -> None:
    registration.active = False
    db.session.flush()
    log.info("registration deactivated registration=%s by=%s", registration.id, by)


def register_with_platform(
    config: PlatformConfiguration, registration_token: str | None
) -> Registration:
    """Run the registration exchange and store its result."""
    body = registration_request(config)
    answer = send_registration(config, registration_token, body)
    return save_registration(config, body, answer)
