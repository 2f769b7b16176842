"""The Canvas JSON configuration, /lti/config and the manual setup pages."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from lti_ilp.extensions import db
from lti_ilp.keys.service import ensure_current_key

from ..harness import page_text

# Placement names and message types that Canvas documents for LTI 1.3 developer keys.
CANVAS_PLACEMENTS = {
    "account_navigation",
    "assignment_edit",
    "assignment_group_menu",
    "assignment_index_menu",
    "assignment_menu",
    "assignment_selection",
    "assignment_view",
    "collaboration",
    "conference_selection",
    "course_assignments_menu",
    "course_home_sub_navigation",
    "course_navigation",
    "course_settings_sub_navigation",
    "discussion_topic_index_menu",
    "discussion_topic_menu",
    "editor_button",
    "file_index_menu",
    "file_menu",
    "global_navigation",
    "homework_submission",
    "link_selection",
    "migration_selection",
    "module_group_menu",
    "module_index_menu",
    "module_index_menu_modal",
    "module_menu",
    "module_menu_modal",
    "post_grades",
    "quiz_index_menu",
    "quiz_menu",
    "resource_selection",
    "student_context_card",
    "submission_type_selection",
    "tool_configuration",
    "top_navigation",
    "user_navigation",
    "wiki_index_menu",
    "wiki_page_menu",
}
MESSAGE_TYPES = {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
PRIVACY_LEVELS = {"public", "name_only", "email_only", "anonymous"}
DEEP_LINKING_PLACEMENTS = {"assignment_selection", "link_selection", "editor_button"}
LTI_SCOPE_PREFIXES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/",
    "https://canvas.instructure.com/lti/",
)


@pytest.fixture
def canvas_config(tool_server):
    config = requests.get(f"{tool_server.url}/lti/config", timeout=10).json()
    url = config["canvas_config_url"]
    assert url.startswith(tool_server.url)
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def test_canvas_required_top_level_fields(canvas_config, tool_server):
    for name in ("title", "description", "oidc_initiation_url", "target_link_uri"):
        assert isinstance(canvas_config.get(name), str), name
        assert canvas_config[name].strip(), name
    assert "public_jwk_url" in canvas_config or "public_jwk" in canvas_config
    assert canvas_config["oidc_initiation_url"] == f"{tool_server.url}/lti/login"
    assert canvas_config["target_link_uri"] == f"{tool_server.url}/lti/launch"
    assert canvas_config["public_jwk_url"] == f"{tool_server.url}/lti/jwks"


def test_canvas_scopes_are_lti_scopes(canvas_config):
    scopes = canvas_config["scopes"]
    assert isinstance(scopes, list)
    assert scopes
    for scope in scopes:
        assert scope.startswith(LTI_SCOPE_PREFIXES), scope
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in scopes
    assert "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly" in scopes


def test_canvas_extension_and_privacy(canvas_config, tool_server):
    extensions = canvas_config["extensions"]
    assert isinstance(extensions, list)
    assert len(extensions) == 1
    extension = extensions[0]
    assert extension["platform"] == "canvas.instructure.com"
    assert extension["privacy_level"] in PRIVACY_LEVELS
    assert extension["domain"] == urlsplit(tool_server.url).netloc
    assert isinstance(extension["settings"]["placements"], list)


def test_canvas_placements_valid(canvas_config):
    placements = canvas_config["extensions"][0]["settings"]["placements"]
    names = set()
    for placement in placements:
        assert placement["placement"] in CANVAS_PLACEMENTS, placement
        assert placement["message_type"] in MESSAGE_TYPES, placement
        assert absolute(placement["target_link_uri"]), placement
        assert isinstance(placement["text"], str) and placement["text"].strip()
        custom = placement.get("custom_fields", {})
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in custom.items())
        if placement["placement"] in DEEP_LINKING_PLACEMENTS:
            assert placement["message_type"] == "LtiDeepLinkingRequest", placement
        names.add(placement["placement"])
    assert {
        "course_navigation",
        "assignment_selection",
        "link_selection",
        "editor_button",
    } <= names


def test_canvas_custom_fields_are_strings(canvas_config):
    custom = canvas_config["custom_fields"]
    assert isinstance(custom, dict)
    assert custom
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in custom.items())


def test_canvas_public_jwk_url_serves_current_key(app, canvas_config):
    with app.app_context():
        key = ensure_current_key()
        db.session.commit()
        kid = key.kid
    served = requests.get(canvas_config["public_jwk_url"], timeout=10).json()
    assert kid in [entry["kid"] for entry in served["keys"]]


def test_lti_config_names_registration_urls(tool_server):
    config = requests.get(f"{tool_server.url}/lti/config", timeout=10).json()
    assert config["dynamic_registration_url"] == f"{tool_server.url}/lti/register"
    assert config["setup_pages_url"] == f"{tool_server.url}/install/"


@pytest.mark.parametrize(
    ("lms", "expected"),
    [
        ("canvas", ["/lti/canvas.json", "/lti/login", "/lti/jwks", "Deployment ID"]),
        ("moodle", ["/lti/login", "Keyset URL", "--deployment-id"]),
        ("brightspace", ["--auth-token-audience", "OAuth2 Audience"]),
        ("schoology", ["Schoology keyset URL", "keyset URL"]),
        ("blackboard", ["Deployment step", "Application ID"]),
        ("sakai", ["/lti/launch", "--key-set-url"]),
    ],
)
def test_setup_page_lists_values(tool_server, lms, expected):
    page = requests.get(f"{tool_server.url}/install/{lms}", timeout=10)
    assert page.status_code == 200
    text = page_text(page.text)
    for value in expected:
        assert value in text, value
    assert f"{tool_server.url}/lti/launch" in text


def test_setup_page_unknown_lms(tool_server):
    page = requests.get(f"{tool_server.url}/install/ilias", timeout=10)
    assert page.status_code == 404
    assert "canvas" in page_text(page.text)


def test_canvas_view_placements_carry_custom_view(canvas_config):
    placements = {
        entry["placement"]: entry
        for entry in canvas_config["extensions"][0]["settings"]["placements"]
    }
    assert placements["global_navigation"]["custom_fields"] == {"ilp_view": "widget"}
    assert placements["account_navigation"]["custom_fields"] == {"ilp_view": "admin"}
    assert "custom_fields" not in placements["course_navigation"]
