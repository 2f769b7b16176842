"""What the tool requests from every LMS: its placements, service scopes and claims.

Dynamic Registration, the Canvas JSON configuration and the manual setup pages all read
from here, so the three ways to install the tool request the same things.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..urls import external_url, tool_base_url

TOOL_TITLE = "Individualized Learning Plan"
TOOL_DESCRIPTION = (
    "Each student keeps one learning plan across every course; teachers and mentors follow "
    "their students' plans."
)

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_MEMBERSHIP_READONLY = (
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
)
SCOPES = (SCOPE_LINEITEM, SCOPE_RESULT_READONLY, SCOPE_SCORE, SCOPE_MEMBERSHIP_READONLY)

# Claims the tool reads from a launch. Names and email label plans for teachers.
CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")

# The custom parameter that selects the page a launch lands on; see the landing rules in
# lti_ilp/widget/views.py and lti_ilp/admin/views.py.
VIEW_PARAMETER = "ilp_view"
WIDGET_VIEW = "widget"
ADMIN_VIEW = "admin"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"


@dataclass(frozen=True)
class Placement:
    """One place in the LMS where the tool appears."""

    key: str
    label: str
    message_type: str
    # Placement names as Canvas spells them, in the JSON configuration and in Dynamic
    # Registration. NOTE: other platforms are expected to ignore names they do not know;
    # that was not tried against a live Moodle, Brightspace or Sakai.
    canvas_placements: tuple[str, ...]
    custom: dict[str, str] = field(default_factory=dict)


PLACEMENTS = (
    Placement(
        key="plan_tab",
        label="Learning plan",
        message_type=RESOURCE_LINK_REQUEST,
        canvas_placements=("course_navigation",),
    ),
    Placement(
        key="homepage_widget",
        label="My learning plan",
        message_type=RESOURCE_LINK_REQUEST,
        canvas_placements=("global_navigation",),
        custom={VIEW_PARAMETER: WIDGET_VIEW},
    ),
    Placement(
        key="checkpoint",
        label="Learning plan checkpoint",
        message_type=DEEP_LINKING_REQUEST,
        canvas_placements=("assignment_selection", "link_selection", "editor_button"),
    ),
    Placement(
        key="admin_console",
        label="Learning plan admin",
        message_type=RESOURCE_LINK_REQUEST,
        canvas_placements=("account_navigation",),
        custom={VIEW_PARAMETER: ADMIN_VIEW},
    ),
)


def tool_domain() -> str:
    """Return the tool's host (with port when one is given), which Moodle matches."""
    return urlsplit(tool_base_url()).netloc


def tool_urls() -> dict[str, str]:
    return {
        "oidc_initiation_url": external_url("lti.login"),
        "target_link_uri": external_url("lti.launch"),
        "redirect_uri": external_url("lti.launch"),
        "public_jwk_url": external_url("lti.jwks"),
    }
