"""OIDC third-party-initiated login: the first step of every launch."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import current_app

from ..platforms.models import Registration
from ..platforms.service import find_registration, registrations_for_issuer
from ..urls import external_url, is_tool_url
from .errors import BadLaunchRequest, PlatformNotRegistered
from .state import LaunchState, create_state

log = logging.getLogger(__name__)


def find_login_registration(params: Mapping[str, str]) -> Registration:
    issuer = params.get("iss")
    if not issuer:
        raise BadLaunchRequest(
            "The LMS started a login without saying who it is (no iss parameter).",
            "Ask your LMS administrator to check the tool's login URL setting.",
            reason="missing_iss",
        )
    client_id = params.get("client_id")
    if client_id:
        registration = find_registration(issuer, client_id)
        if registration is None:
            raise PlatformNotRegistered(
                f"This course's LMS is not registered with the plan tool: no registration for "
                f"issuer {issuer} with client_id {client_id}.",
                f"Ask your LMS administrator to register issuer {issuer} and client_id "
                f"{client_id} with the plan tool.",
                reason="unknown_registration",
            )
        return registration

    # Some platforms (older Sakai) send no client_id at login.
    candidates = registrations_for_issuer(issuer)
    if not candidates:
        raise PlatformNotRegistered(
            f"This course's LMS is not registered with the plan tool: issuer {issuer} is unknown.",
            f"Ask your LMS administrator to register issuer {issuer} with the plan tool.",
            reason="unknown_issuer",
        )
    if len(candidates) > 1:
        raise BadLaunchRequest(
            f"The LMS {issuer} has several registrations with the plan tool, and its login "
            "request did not say which one (no client_id parameter).",
            "Ask your LMS administrator to make the LMS send client_id at login.",
            reason="ambiguous_registration",
        )
    return candidates[0]


def start_login(params: Mapping[str, str]) -> tuple[str, LaunchState]:
    """Record a login and return the platform authorization URL to redirect to."""
    registration = find_login_registration(params)
    if not registration.active:
        raise PlatformNotRegistered(
            f"The registration of {registration.issuer} is not active yet.",
            "Ask your LMS administrator to approve the plan tool's registration.",
            reason="registration_inactive",
        )
    login_hint = params.get("login_hint")
    if not login_hint:
        raise BadLaunchRequest(
            "The LMS started a login without a login_hint.", reason="missing_login_hint"
        )
    target_link_uri = params.get("target_link_uri") or external_url("lti.launch")
    if not is_tool_url(target_link_uri):
        raise BadLaunchRequest(
            "The login asks to open a page that is not part of the plan tool.",
            "Ask your LMS administrator to check the tool's target link URI.",
            reason="foreign_target_link_uri",
        )

    settings = current_app.config["ILP_SETTINGS"]
    state = create_state(registration.id, target_link_uri, settings.launch_state_ttl_seconds)
    auth_params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": registration.client_id,
        # Always the one registered launch URL: platforms compare redirect_uri exactly, and
        # reject a deep-linked target URL that carries a query string.
        "redirect_uri": external_url("lti.launch"),
        "state": state.state,
        "nonce": state.nonce,
        "login_hint": login_hint,
    }
    if params.get("lti_message_hint"):
        auth_params["lti_message_hint"] = params["lti_message_hint"]
    log.info(
        "login started registration=%s issuer=%s client_id=%s",
        registration.id,
        registration.issuer,
        registration.client_id,
    )
    return _with_query(registration.auth_login_url, auth_params), state


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))
