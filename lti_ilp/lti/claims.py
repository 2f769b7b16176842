"""The verified launch, in the tool's own terms.

Code outside ``lti_ilp.lti`` reads launches only through ``VerifiedLaunch``; it never sees
raw claims or JWTs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .roles import CourseRole, course_role, is_platform_administrator

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
TARGET_LINK_URI = LTI + "target_link_uri"
RESOURCE_LINK = LTI + "resource_link"
ROLES = LTI + "roles"
CONTEXT = LTI + "context"
CUSTOM = LTI + "custom"
TOOL_PLATFORM = LTI + "tool_platform"
ROLE_SCOPE_MENTOR = LTI + "role_scope_mentor"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _mentee_subs(value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        return None
    return tuple(item for item in value if isinstance(item, str) and item.strip())


@dataclass(frozen=True)
class CourseContext:
    context_id: str
    title: str | None
    label: str | None


@dataclass(frozen=True)
class VerifiedLaunch:
    issuer: str
    client_id: str
    deployment_id: str
    message_type: str
    sub: str
    roles: tuple[str, ...]
    target_link_uri: str
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    context: CourseContext | None = None
    resource_link_id: str | None = None
    resource_link_title: str | None = None
    custom: dict[str, str] = field(default_factory=dict)
    # Service endpoints the platform granted; kept for grade and roster sync.
    services: dict[str, Any] = field(default_factory=dict)
    # The role_scope_mentor claim: subs of the users this person mentors. None when the
    # claim is absent, which is not the same as an empty list.
    mentee_subs: tuple[str, ...] | None = None

    @property
    def course_role(self) -> CourseRole:
        return course_role(self.roles)

    @property
    def is_platform_administrator(self) -> bool:
        return is_platform_administrator(self.roles)

    @property
    def is_deep_linking(self) -> bool:
        return self.message_type == DEEP_LINKING_REQUEST

    @classmethod
    def from_claims(cls, body: dict[str, Any], client_id: str) -> VerifiedLaunch:
        """Build from claims that were already verified; optional claims may be absent."""
        context_claim = _mapping(body.get(CONTEXT))
        context = None
        context_id = _text(context_claim.get("id"))
        if context_id:
            context = CourseContext(
                context_id=context_id,
                title=_text(context_claim.get("title")),
                label=_text(context_claim.get("label")),
            )
        resource_link = _mapping(body.get(RESOURCE_LINK))
        roles = body.get(ROLES)
        custom = {
            str(key): str(value)
            for key, value in _mapping(body.get(CUSTOM)).items()
            if isinstance(value, str | int | float | bool)
        }
        services = {}
        for name, claim in (("nrps", NRPS), ("ags", AGS), ("deep_linking", DEEP_LINKING_SETTINGS)):
            if isinstance(body.get(claim), dict):
                services[name] = body[claim]
        return cls(
            issuer=body["iss"],
            client_id=client_id,
            deployment_id=body[DEPLOYMENT_ID],
            message_type=body[MESSAGE_TYPE],
            sub=body["sub"],
            roles=tuple(role for role in roles if isinstance(role, str)),
            target_link_uri=body[TARGET_LINK_URI],
            name=_text(body.get("name")),
            given_name=_text(body.get("given_name")),
            family_name=_text(body.get("family_name")),
            email=_text(body.get("email")),
            context=context,
            resource_link_id=_text(resource_link.get("id")),
            resource_link_title=_text(resource_link.get("title")),
            custom=custom,
            services=services,
            mentee_subs=_mentee_subs(body.get(ROLE_SCOPE_MENTOR)),
        )
