"""A small LTI 1.3 platform built on the independent ``lti1p3platform`` library.

The demo LMS and the end-to-end tests both launch the tool through it. Our code here is
glue only: lti1p3platform builds the login initiation URL, checks the tool's authentication
request and signs the id_token.
"""

from __future__ import annotations

import time
import typing as t
import uuid
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from itsdangerous import BadSignature, URLSafeSerializer
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
ROLE_LEARNER = MEMBERSHIP + "Learner"
ROLE_INSTRUCTOR = MEMBERSHIP + "Instructor"
ROLE_MENTOR = MEMBERSHIP + "Mentor"
ROLE_INSTITUTION_STUDENT = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"
ROLE_ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"


class AuthRequestError(ValueError):
    """The tool's authentication request is invalid; ``error`` is the OIDC error code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


@dataclass(frozen=True)
class ToolEndpoints:
    login_url: str
    launch_url: str
    jwks_url: str


@dataclass(frozen=True)
class DemoUser:
    user_id: str
    name: str
    email: str
    given_name: str = ""
    family_name: str = ""


@dataclass(frozen=True)
class DemoCourse:
    context_id: str
    title: str
    label: str
    # user_id -> LTI role URIs in this course
    members: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class LaunchRequest:
    """What the platform launches: who, where, and any claims to add or replace."""

    user_id: str
    context_id: str | None
    resource_link_id: str
    roles: tuple[str, ...]
    message_type: str = "LtiResourceLinkRequest"
    target_link_uri: str | None = None
    custom: dict[str, str] = field(default_factory=dict)
    # The context claim's title and label; the title falls back to context_id.
    context_title: str | None = None
    context_label: str | None = None
    # Claims for this launch only, keyed by claim name: the AGS endpoint of a graded link,
    # or the deep-linking settings of a deep-linking request.
    service_claims: dict[str, t.Any] = field(default_factory=dict)


def generate_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_key_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


class ParsedKeyRegistration(Registration):
    """An lti1p3platform registration that parses its private key once.

    lti1p3platform 0.1.8 parses the private key PEM twice for every id_token it signs, and
    cryptography checks the RSA key on each parse, which costs tens of milliseconds per
    launch. This subclass keeps the parsed key and the kid.
    """

    _parsed_private_key = None
    _cached_kid: str | None = None

    def set_platform_private_key(self, platform_private_key: str) -> Registration:
        # A new key (a platform key rotation) must not be signed for with the old one.
        self._parsed_private_key = None
        self._cached_kid = None
        return super().set_platform_private_key(platform_private_key)

    def get_kid(self) -> str | None:
        if self._cached_kid is None:
            self._cached_kid = super().get_kid()
        return self._cached_kid

    def platform_encode_and_sign(self, payload: dict, expiration: int | None = None) -> str:
        if self._parsed_private_key is None:
            pem = self.get_platform_private_key().encode()
            self._parsed_private_key = serialization.load_pem_private_key(pem, password=None)
        return Registration.encode_and_sign(
            payload, self._parsed_private_key, {"kid": self.get_kid()}, expiration=expiration
        )


class _PlatformConfig(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: t.Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: t.Any) -> Registration:
        return self._registration


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: t.Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def get_preflight_response(self) -> dict[str, t.Any]:
        return self._request

    def render_launch_form(self, launch_data: dict[str, t.Any], **kwargs: t.Any) -> dict:
        return launch_data


class DemoPlatform:
    """One platform registration of the tool, with its own issuer, client and keys."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        deployment_id: str,
        private_key_pem: str,
        tool: ToolEndpoints,
        users: dict[str, DemoUser],
        hint_secret: str,
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.private_key_pem = private_key_pem
        self.tool = tool
        self.users = users
        self._hints = URLSafeSerializer(hint_secret, salt="demo-lms-message-hint")
        self.registration = (
            ParsedKeyRegistration()
            .set_iss(issuer)
            .set_client_id(client_id)
            .set_deployment_id(deployment_id)
            .set_oidc_login_url(tool.login_url)
            .set_launch_url(tool.launch_url)
            .set_tool_key_set_url(tool.jwks_url)
            .set_platform_private_key(private_key_pem)
            .set_platform_public_key(public_key_pem(private_key_pem))
        )
        # Claims that every following launch adds or replaces; tests use it to send what
        # real platforms send (``aud`` as a list, missing optional claims).
        self.claim_overrides: dict[str, t.Any] = {}
        self.claims_to_remove: set[str] = set()

    def _config(self) -> _PlatformConfig:
        return _PlatformConfig(registration=self.registration)

    def jwks(self) -> dict:
        return {"keys": self.registration.get_jwks()}

    @property
    def kid(self) -> str:
        return self.registration.get_kid()

    def login_initiation_url(self, launch: LaunchRequest) -> str:
        """Return the tool login URL that starts this launch (third-party initiated login)."""
        login = _Login(None, self._config())
        login.set_lti_message_hint(hint=self._hints.dumps(_launch_to_dict(launch)))
        if launch.target_link_uri:
            login.set_launch_url(launch.target_link_uri)
        return login.initiate_login(launch.user_id)

    def authorize(self, params: t.Mapping[str, str]) -> dict[str, str]:
        """Check the tool's authentication request and return the form to post back.

        The result has ``launch_url`` (the redirect_uri), ``id_token`` and ``state``.
        """
        request = dict(params)
        for name, expected in (
            ("scope", "openid"),
            ("response_type", "id_token"),
            ("response_mode", "form_post"),
        ):
            if request.get(name) != expected:
                raise AuthRequestError("invalid_request", f"{name} must be {expected}")
        for name in ("nonce", "state"):
            if not request.get(name):
                raise AuthRequestError("invalid_request", f"{name} is missing")
        if request.get("client_id") != self.client_id:
            raise AuthRequestError("unauthorized_client", "unknown client_id")
        if request.get("redirect_uri") != self.tool.launch_url:
            raise AuthRequestError("invalid_request", "redirect_uri is not registered")
        try:
            launch = _launch_from_dict(self._hints.loads(request.get("lti_message_hint", "")))
        except BadSignature as exc:
            raise AuthRequestError("invalid_request", "lti_message_hint is invalid") from exc
        if request.get("login_hint") != launch.user_id:
            raise AuthRequestError("login_required", "login_hint does not match the user")
        if launch.user_id not in self.users:
            raise AuthRequestError("login_required", "the user is not known to the platform")
        return self._build_launch(request, launch)

    def _build_launch(self, request: dict, launch: LaunchRequest) -> dict[str, str]:
        user = self.users[launch.user_id]
        message = _Launch(request, self._config())
        message.set_user_data(
            launch.user_id, list(launch.roles), full_name=user.name, email_address=user.email
        )
        message.set_resource_link_claim(launch.resource_link_id, title="Learning plan")
        if launch.context_id:
            message.set_launch_context_claim(
                launch.context_id,
                context_types=["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
                context_title=launch.context_title or launch.context_id,
                context_label=launch.context_label,
            )
        message.set_launch_url(launch.target_link_uri or self.tool.launch_url)
        message.set_extra_claims(
            {
                "https://purl.imsglobal.org/spec/lti/claim/tool_platform": {
                    "guid": self.issuer,
                    "name": "Demo LMS",
                    "product_family_code": "lti-ilp-demo",
                },
            }
        )
        if launch.custom:
            message.set_custom_parameters_claim(dict(launch.custom))
        if launch.message_type != "LtiResourceLinkRequest":
            message.set_extra_claims(
                {"https://purl.imsglobal.org/spec/lti/claim/message_type": launch.message_type}
            )
        if launch.service_claims:
            message.set_extra_claims(dict(launch.service_claims))
        result = message.lti_launch()
        if self.claim_overrides or self.claims_to_remove:
            result["id_token"] = self.resign(result["id_token"])
        return result

    def resign(self, id_token: str) -> str:
        """Apply the claim overrides to a signed token and sign it again with our key."""
        import jwt

        body = jwt.decode(id_token, options={"verify_signature": False})
        body.update(self.claim_overrides)
        for name in self.claims_to_remove:
            body.pop(name, None)
        return self.sign(body)

    def sign(self, body: dict, headers: dict | None = None, key_pem: str | None = None) -> str:
        """Sign ``body`` as this platform would; tests pass odd headers or keys."""
        import jwt

        header = {"kid": self.kid} if headers is None else headers
        return jwt.encode(body, key_pem or self.private_key_pem, algorithm="RS256", headers=header)

    def launch_claims(self, nonce: str, launch: LaunchRequest, lifetime: int = 300) -> dict:
        """Return a complete, valid id_token body for ``launch``; tests edit and sign it."""
        user = self.users[launch.user_id]
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": self.client_id,
            "azp": self.client_id,
            "sub": launch.user_id,
            "nonce": nonce,
            "iat": now,
            "exp": now + lifetime,
            "name": user.name,
            "email": user.email,
            "https://purl.imsglobal.org/spec/lti/claim/message_type": launch.message_type,
            "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
            "https://purl.imsglobal.org/spec/lti/claim/deployment_id": self.deployment_id,
            "https://purl.imsglobal.org/spec/lti/claim/target_link_uri": (
                launch.target_link_uri or self.tool.launch_url
            ),
            "https://purl.imsglobal.org/spec/lti/claim/resource_link": {
                "id": launch.resource_link_id
            },
            "https://purl.imsglobal.org/spec/lti/claim/roles": list(launch.roles),
        }
        if launch.context_id:
            body["https://purl.imsglobal.org/spec/lti/claim/context"] = {
                "id": launch.context_id,
                "title": launch.context_id,
            }
        return body


def _launch_to_dict(launch: LaunchRequest) -> dict:
    return {
        "user_id": launch.user_id,
        "context_id": launch.context_id,
        "resource_link_id": launch.resource_link_id,
        "roles": list(launch.roles),
        "message_type": launch.message_type,
        "target_link_uri": launch.target_link_uri,
        "custom": launch.custom,
        "context_title": launch.context_title,
        "context_label": launch.context_label,
        "service_claims": launch.service_claims,
        "nonce": uuid.uuid4().hex,
    }


def _launch_from_dict(data: dict) -> LaunchRequest:
    return LaunchRequest(
        user_id=data["user_id"],
        context_id=data.get("context_id"),
        resource_link_id=data["resource_link_id"],
        roles=tuple(data.get("roles", [])),
        message_type=data.get("message_type", "LtiResourceLinkRequest"),
        target_link_uri=data.get("target_link_uri"),
        custom=data.get("custom") or {},
        context_title=data.get("context_title"),
        context_label=data.get("context_label"),
        service_claims=data.get("service_claims") or {},
    )
