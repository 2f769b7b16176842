"""Manual setup instructions for each LMS: the values to paste and the values to get back.

NOTE: the menu paths and usual endpoint values were written from general knowledge of each
LMS, not checked against a live instance or the vendor's current guide. So the pages tell
admins to use what their own LMS shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..registration.views import registration_url
from ..urls import external_url
from .tool_profile import SCOPES, TOOL_TITLE, tool_domain, tool_urls


@dataclass(frozen=True)
class SetupValue:
    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class ReturnedValue:
    """A value the admin copies from the LMS, and the ``platforms add`` option it fills."""

    label: str
    option: str
    example: str = ""


@dataclass(frozen=True)
class LmsGuide:
    key: str
    name: str
    where: str
    paste: list[SetupValue]
    get_back: list[ReturnedValue]
    steps: list[str] = field(default_factory=list)
    supports_dynamic_registration: bool = False


def _common_paste() -> list[SetupValue]:
    urls = tool_urls()
    return [
        SetupValue("Tool name", TOOL_TITLE),
        SetupValue("Domain", tool_domain()),
        SetupValue("OpenID Connect login (initiation) URL", urls["oidc_initiation_url"]),
        SetupValue("Target link URI / launch URL", urls["target_link_uri"]),
        SetupValue(
            "Redirect URI",
            urls["redirect_uri"],
            "Enter it exactly; the LMS compares it character by character.",
        ),
        SetupValue("Tool public key set (JWKS) URL", urls["public_jwk_url"]),
    ]


def _standard_get_back() -> list[ReturnedValue]:
    return [
        ReturnedValue("Issuer (platform id)", "--issuer"),
        ReturnedValue("Client ID", "--client-id"),
        ReturnedValue("Deployment ID", "--deployment-id"),
        ReturnedValue("OIDC authentication request URL", "--auth-login-url"),
        ReturnedValue("Access token URL", "--auth-token-url"),
        ReturnedValue("Platform public key set URL", "--key-set-url"),
    ]


def guides() -> list[LmsGuide]:
    scopes = ", ".join(SCOPES)
    return [
        LmsGuide(
            key="canvas",
            name="Canvas",
            where="Admin > Developer Keys > + Developer Key > + LTI Key",
            paste=[
                SetupValue(
                    "Method", "Enter URL", "Or choose Manual Entry and paste the values below."
                ),
                SetupValue("JSON URL", external_url("install.canvas_config")),
                *_common_paste(),
                SetupValue("LTI Advantage services", scopes),
            ],
            steps=[
                "Save the key, then switch its state to On.",
                "Copy the number in the Details column: it is the Client ID.",
                "Go to Admin > Settings > Apps > + App, choose By Client ID, paste the Client "
                "ID and install.",
                "Open the app's settings menu > Deployment Id and copy it.",
            ],
            get_back=[
                ReturnedValue("Issuer", "--issuer", "https://canvas.instructure.com"),
                ReturnedValue("Client ID (developer key number)", "--client-id"),
                ReturnedValue("Deployment ID", "--deployment-id"),
                ReturnedValue(
                    "OIDC authentication request URL",
                    "--auth-login-url",
                    "https://sso.canvaslms.com/api/lti/authorize_redirect",
                ),
                ReturnedValue(
                    "Access token URL",
                    "--auth-token-url",
                    "https://sso.canvaslms.com/login/oauth2/token",
                ),
                ReturnedValue(
                    "Platform public key set URL",
                    "--key-set-url",
                    "https://sso.canvaslms.com/api/lti/security/jwks",
                ),
            ],
            supports_dynamic_registration=True,
        ),
        LmsGuide(
            key="moodle",
            name="Moodle",
            where="Site administration > Plugins > Activity modules > External tool > "
            "Manage tools > configure a tool manually",
            paste=[
                *_common_paste(),
                SetupValue("LTI version", "LTI 1.3"),
                SetupValue("Public key type", "Keyset URL"),
                SetupValue("Supports Deep Linking (Content-Item Message)", "Yes"),
                SetupValue(
                    "Services",
                    "IMS LTI Assignment and Grade Services: use this "
                    "service for grade sync and column management; IMS LTI Names and "
                    "Role Provisioning: use this service to retrieve members' "
                    "information",
                ),
                SetupValue("Privacy", "Share launcher's name and email: Always"),
            ],
            steps=["Save, then open the tool's View configuration details (the list icon)."],
            get_back=_standard_get_back(),
            supports_dynamic_registration=True,
        ),
        LmsGuide(
            key="brightspace",
            name="Brightspace (D2L)",
            where="Admin Tools > Manage Extensibility > LTI Advantage > Register Tool > Standard",
            paste=[
                *_common_paste(),
                SetupValue(
                    "Extensions",
                    "Assignment and Grade Services, Deep Linking, Names "
                    "and Role Provisioning Services",
                ),
                SetupValue("Roles", "Send Institution Role"),
            ],
            steps=[
                "Register the tool, then choose View Deployments > New Deployment.",
                "In the deployment, allow name and email under Security Settings and pick the "
                "org units that may use the tool.",
                "Add a link of type Basic Launch to the launch URL, and one of type Deep "
                "Linking Quicklink for checkpoints.",
            ],
            get_back=[
                *_standard_get_back(),
                ReturnedValue(
                    "Brightspace OAuth2 Audience (token audience; it differs from the token URL)",
                    "--auth-token-audience",
                    "https://api.brightspace.com/auth/token",
                ),
            ],
            supports_dynamic_registration=True,
        ),
        LmsGuide(
            key="schoology",
            name="Schoology",
            where="App Center > Developer > Create an LTI 1.3 App (then install it for the "
            "school)",
            paste=[
                *_common_paste(),
                SetupValue(
                    "JWK method",
                    "Keyset URL",
                    "Schoology asks for the tool's keyset URL: use the JWKS URL above.",
                ),
                SetupValue("Privacy", "Send name and email"),
                SetupValue(
                    "Services",
                    "Assignment and Grade Services, Names and Role Provisioning, Deep Linking",
                ),
            ],
            steps=[
                "Schoology sends aud as a list; the plan tool accepts that.",
                "Install the app for the school, then copy the values from the app's LTI 1.3 "
                "configuration page.",
            ],
            get_back=[
                ReturnedValue("Issuer", "--issuer", "https://schoology.schoology.com"),
                ReturnedValue("Client ID", "--client-id"),
                ReturnedValue("Deployment ID", "--deployment-id"),
                ReturnedValue(
                    "OIDC authentication request URL",
                    "--auth-login-url",
                    "https://lti-service.svc.schoology.com/lti-service/authorize-redirect",
                ),
                ReturnedValue(
                    "Access token URL",
                    "--auth-token-url",
                    "https://lti-service.svc.schoology.com/lti-service/access-token",
                ),
                ReturnedValue(
                    "Schoology keyset URL",
                    "--key-set-url",
                    "https://lti-service.svc.schoology.com/lti-service/.well-known/jwks",
                ),
            ],
        ),
        LmsGuide(
            key="blackboard",
            name="Blackboard Learn",
            where="developer.blackboard.com > My Applications > Register an LTI 1.3 tool",
            paste=[
                *_common_paste(),
                SetupValue("Signing algorithm", "RS256"),
            ],
            steps=[
                "Copy the Application ID: it is the Client ID, the same for every institution.",
                "Deployment step: in Learn, go to Administrator Panel > Integrations > LTI "
                "Tool Providers > Register LTI 1.3/Advantage Tool, paste the Client ID and "
                "submit. Learn then shows the Deployment ID.",
                "In the tool provider's settings, allow sending the user's name, email and "
                "role, and allow grade service access and membership service access.",
            ],
            get_back=[
                ReturnedValue("Issuer", "--issuer", "https://blackboard.com"),
                ReturnedValue("Application ID (client ID)", "--client-id"),
                ReturnedValue("Deployment ID (from the deployment step)", "--deployment-id"),
                ReturnedValue(
                    "OIDC authentication request URL",
                    "--auth-login-url",
                    "https://developer.blackboard.com/api/v1/gateway/oidcauth",
                ),
                ReturnedValue(
                    "Access token URL",
                    "--auth-token-url",
                    "https://developer.blackboard.com/api/v1/gateway/oauth2/jwttoken",
                ),
                ReturnedValue(
                    "Platform public key set URL",
                    "--key-set-url",
                    "https://developer.blackboard.com/api/v1/management/"
                    "applications/CLIENT_ID/jwks.json",
                ),
            ],
        ),
        LmsGuide(
            key="sakai",
            name="Sakai",
            where="Administration Workspace > External Tools > Install LTI 1.x Tool",
            paste=[
                *_common_paste(),
                SetupValue("LTI 1.3", "On"),
                SetupValue("Send names and email", "Yes"),
                SetupValue("Allow the tool to use Assignments and Grades, and Roster", "Yes"),
                SetupValue(
                    "Allow the tool to be used from the rich content editor (Deep Linking)", "Yes"
                ),
            ],
            steps=["Save, then open the tool and copy the LTI 1.3 values Sakai shows."],
            get_back=_standard_get_back(),
            supports_dynamic_registration=True,
        ),
    ]


def find_guide(key: str) -> LmsGuide | None:
    return next((guide for guide in guides() if guide.key == key), None)


def dynamic_registration_url() -> str:
    return registration_url()
