"""Verifying an LTI 1.3 launch (the id_token POST that ends the OIDC login).

The checks run in an order that leaves nothing changed when a launch is rejected: the
state row, which carries the one-time nonce, is deleted only after every other check has
passed, in the same transaction that records the person.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import jwt
from flask import current_app
from pylti1p3.exception import LtiException
from pylti1p3.message_validators import get_validators

from ..platforms.models import Deployment, Registration
from ..platforms.service import find_deployment
from . import claims
from .claims import VerifiedLaunch
from .errors import (
    BadLaunchRequest,
    DeploymentNotAllowed,
    LaunchError,
    LaunchNotAuthentic,
    PlatformNotRegistered,
)
from .platform_keys import platform_public_key_pem
from .state import LaunchState, consume_state, find_state
from .storage import BrowserBindingMissing, storage_binding_matches

log = logging.getLogger(__name__)

SUPPORTED_MESSAGE_TYPES = {claims.RESOURCE_LINK_REQUEST, claims.DEEP_LINKING_REQUEST}


@dataclass(frozen=True)
class AcceptedLaunch:
    launch: VerifiedLaunch
    registration: Registration
    deployment: Deployment


def state_cookie_name(state: str) -> str:
    return f"ilp-state-{state}"


def verify_launch(form: Mapping[str, str], cookies: Mapping[str, str]) -> AcceptedLaunch:
    """Check every part of a launch POST and consume its state; raise ``LaunchError``.

    A raised error carries ``unverified_claims``: the token's claims decoded without any
    check (None when the token cannot be decoded), so the admin console can show what a
    rejected launch contained. Nothing else may trust them.
    """
    try:
        return _verify_launch(form, cookies)
    except LaunchError as exc:
        exc.unverified_claims = _claims_for_diagnosis(form.get("id_token"))
        raise


def _claims_for_diagnosis(id_token: str | None) -> dict | None:
    if not id_token:
        return None
    try:
        body = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return None
    return body if isinstance(body, dict) else None


def _verify_launch(form: Mapping[str, str], cookies: Mapping[str, str]) -> AcceptedLaunch:
    id_token = form.get("id_token")
    state_value = form.get("state")
    if not id_token:
        raise BadLaunchRequest(
            "The LMS sent no id_token with this launch.", reason="missing_id_token"
        )
    if not state_value:
        raise BadLaunchRequest("The LMS sent no state with this launch.", reason="missing_state")

    state = _checked_state(state_value, cookies)
    registration = state.registration
    header = _checked_header(id_token)
    unverified = _unverified_body(id_token)
    _check_audience(unverified, registration)
    if not registration.active:
        raise PlatformNotRegistered(
            f"The registration of {registration.issuer} (client_id {registration.client_id}) "
            "is not active yet.",
            "Ask your LMS administrator to approve the plan tool's registration.",
            reason="registration_inactive",
        )

    body = _verified_body(id_token, header["kid"], registration)
    if body.get("nonce") != state.nonce:
        raise LaunchNotAuthentic(
            "The launch's nonce does not match the login that started it.", reason="nonce_mismatch"
        )
    deployment = _checked_deployment(body, registration)
    _check_message(body)

    if not consume_state(state.state, state.nonce):
        raise LaunchNotAuthentic(
            "This launch was already used.",
            "Open the plan again from your course.",
            reason="replayed",
        )
    launch = VerifiedLaunch.from_claims(body, registration.client_id)
    return AcceptedLaunch(launch=launch, registration=registration, deployment=deployment)


def _checked_state(state_value: str, cookies: Mapping[str, str]) -> LaunchState:
    state = find_state(state_value)
    if state is None:
        raise LaunchNotAuthentic(
            "This launch has expired or was already used.",
            "Open the plan again from your course.",
            reason="unknown_state",
        )
    cookie_matches = cookies.get(state_cookie_name(state_value)) == state_value
    # Without the cookie, LTI client-side storage can stand in as the browser binding.
    if not cookie_matches and not storage_binding_matches(state_value):
        raise BrowserBindingMissing(state)
    return state


def _checked_header(id_token: str) -> dict:
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.DecodeError as exc:
        raise BadLaunchRequest("The id_token is not a valid JWT.", reason="malformed_jwt") from exc
    if header.get("alg") != "RS256":
        raise LaunchNotAuthentic(
            f"The id_token uses the signing algorithm {header.get('alg')!r}; only RS256 is "
            "accepted.",
            reason="bad_alg",
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise LaunchNotAuthentic(
            "The id_token header has no key id (kid), so its signature cannot be checked.",
            reason="missing_kid",
        )
    return header


def _unverified_body(id_token: str) -> dict:
    try:
        body = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.DecodeError as exc:
        raise BadLaunchRequest("The id_token is not a valid JWT.", reason="malformed_jwt") from exc
    if not isinstance(body, dict):
        raise BadLaunchRequest("The id_token body is not a JSON object.", reason="malformed_jwt")
    return body


def _check_audience(body: dict, registration: Registration) -> None:
    """Check iss, aud and azp before the key lookup, so a foreign token fetches no JWKS."""
    if body.get("iss") != registration.issuer:
        raise LaunchNotAuthentic(
            f"The id_token's issuer {body.get('iss')!r} is not the issuer that started this "
            f"login ({registration.issuer}).",
            reason="issuer_mismatch",
        )
    aud = body.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if registration.client_id not in audiences:
        raise LaunchNotAuthentic(
            f"The id_token is not addressed to this tool's client_id {registration.client_id}.",
            reason="audience_mismatch",
        )
    azp = body.get("azp")
    if len(audiences) > 1 and azp is None:
        raise LaunchNotAuthentic(
            "The id_token names several audiences but no authorized party (azp).",
            reason="azp_missing",
        )
    if azp is not None and azp != registration.client_id:
        raise LaunchNotAuthentic(
            f"The id_token's authorized party (azp) {azp!r} is not this tool's client_id.",
            reason="azp_mismatch",
        )


def _verified_body(id_token: str, kid: str, registration: Registration) -> dict:
    settings = current_app.config["ILP_SETTINGS"]
    public_pem = platform_public_key_pem(registration, kid)
    try:
        return jwt.decode(
            id_token,
            public_pem,
            algorithms=["RS256"],
            audience=registration.client_id,
            issuer=registration.issuer,
            leeway=settings.jwt_leeway_seconds,
            options={"require": ["exp", "iat", "iss", "aud", "nonce"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise LaunchNotAuthentic(
            "This launch has expired.",
            "Open the plan again from your course. If it keeps happening, the LMS server's "
            "clock may be wrong.",
            reason="expired",
        ) from exc
    except jwt.ImmatureSignatureError as exc:
        raise LaunchNotAuthentic(
            "The id_token was issued in the future (iat), so the LMS clock and the plan "
            "tool's clock disagree.",
            "Ask your LMS administrator to check the LMS server's clock.",
            reason="issued_in_future",
        ) from exc
    except jwt.MissingRequiredClaimError as exc:
        raise BadLaunchRequest(
            f"The id_token has no {exc.claim!r} claim.", reason=f"missing_{exc.claim}"
        ) from exc
    except jwt.InvalidSignatureError as exc:
        raise LaunchNotAuthentic(
            "The id_token's signature does not match the LMS's key.", reason="bad_signature"
        ) from exc
    except jwt.InvalidTokenError as exc:
        raise LaunchNotAuthentic(
            f"The id_token is invalid: {exc}.", reason="invalid_token"
        ) from exc


def _checked_deployment(body: dict, registration: Registration) -> Deployment:
    deployment_id = body.get(claims.DEPLOYMENT_ID)
    if not isinstance(deployment_id, str) or not deployment_id:
        raise BadLaunchRequest("The launch names no deployment_id.", reason="missing_deployment")
    deployment = find_deployment(registration, deployment_id)
    if deployment is None or not deployment.active:
        raise DeploymentNotAllowed(
            f"The deployment {deployment_id!r} of {registration.issuer} is not on the plan "
            "tool's list of allowed deployments.",
            "Ask your LMS administrator to add this deployment id to the plan tool "
            "(lti-ilp platforms add ... --deployment-id).",
            reason="unknown_deployment",
        )
    return deployment


def _check_message(body: dict) -> None:
    message_type = body.get(claims.MESSAGE_TYPE)
    if not message_type:
        raise BadLaunchRequest(
            "The launch has no message_type claim.", reason="missing_message_type"
        )
    if not isinstance(message_type, str) or message_type not in SUPPORTED_MESSAGE_TYPES:
        raise BadLaunchRequest(
            f"The plan tool does not handle {message_type!r} messages.",
            reason="unsupported_message_type",
        )
    if body.get(claims.VERSION) != "1.3.0":
        raise BadLaunchRequest(
            f"The launch has LTI version {body.get(claims.VERSION)!r}; the plan tool needs 1.3.0.",
            reason="wrong_version",
        )
    if not isinstance(body.get("sub"), str) or not body["sub"]:
        raise BadLaunchRequest(
            "The LMS did not say who you are (no sub claim). A learning plan belongs to a "
            "person, so anonymous launches cannot open one.",
            "Ask your LMS administrator to send the user id to the plan tool.",
            reason="missing_sub",
        )
    if not isinstance(body.get(claims.ROLES), list):
        raise BadLaunchRequest("The launch has no roles claim.", reason="missing_roles")
    target = body.get(claims.TARGET_LINK_URI)
    if not isinstance(target, str) or not target:
        raise BadLaunchRequest(
            "The launch has no target_link_uri claim.", reason="missing_target_link_uri"
        )
    if message_type == claims.RESOURCE_LINK_REQUEST:
        resource_link = body.get(claims.RESOURCE_LINK)
        if not isinstance(resource_link, dict) or not resource_link.get("id"):
            raise BadLaunchRequest(
                "The launch has no resource_link id.", reason="missing_resource_link"
            )
    _run_library_validators(body)


def _run_library_validators(body: dict) -> None:
    """Run pylti1p3's message validators too, for the deep-linking settings rules."""
    for validator in get_validators():
        if not validator.can_validate(body):
            continue
        try:
            validator.validate(body)
        except LtiException as exc:
            raise BadLaunchRequest(
                f"The launch is invalid: {exc}.", reason="invalid_message"
            ) from exc
