"""The Canvas LTI 1.3 developer key JSON configuration.

Field names follow Canvas's "Configuring LTI Advantage Tools" page
(canvas.instructure.com/doc/api/file.lti_dev_key_config.html): top-level title,
description, oidc_initiation_url, target_link_uri, public_jwk_url, scopes and custom_fields,
and one extension for the platform ``canvas.instructure.com`` whose settings list the
placements.
"""

from __future__ import annotations

from .tool_profile import (
    PLACEMENTS,
    SCOPES,
    TOOL_DESCRIPTION,
    TOOL_TITLE,
    tool_domain,
    tool_urls,
)

CANVAS_PLATFORM = "canvas.instructure.com"
# "public" sends names and email, which teachers need to recognise their students' plans.
PRIVACY_LEVEL = "public"
TOOL_ID = "lti-ilp"

# Custom fields on every launch; Canvas expands the $ variable. They name the LMS and course
# in support questions and carry no personal data.
CUSTOM_FIELDS = {
    "ilp_lms": "canvas",
    "canvas_course_id": "$Canvas.course.id",
}


def canvas_configuration() -> dict:
    """Build the JSON a Canvas admin pastes, or links, into an LTI developer key."""
    urls = tool_urls()
    placements = []
    for placement in PLACEMENTS:
        for canvas_placement in placement.canvas_placements:
            entry = {
                "placement": canvas_placement,
                "message_type": placement.message_type,
                "target_link_uri": urls["target_link_uri"],
                "text": placement.label,
                "enabled": True,
            }
            if placement.custom:
                entry["custom_fields"] = dict(placement.custom)
            placements.append(entry)
    return {
        "title": TOOL_TITLE,
        "description": TOOL_DESCRIPTION,
        "oidc_initiation_url": urls["oidc_initiation_url"],
        "target_link_uri": urls["target_link_uri"],
        "public_jwk_url": urls["public_jwk_url"],
        "scopes": list(SCOPES),
        "custom_fields": dict(CUSTOM_FIELDS),
        "extensions": [
            {
                "platform": CANVAS_PLATFORM,
                "domain": tool_domain(),
                "tool_id": TOOL_ID,
                "privacy_level": PRIVACY_LEVEL,
                "settings": {
                    "text": TOOL_TITLE,
                    "placements": placements,
                },
            }
        ],
    }
