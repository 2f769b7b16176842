"""Key rotation while a platform holds a cached copy of the tool's JWKS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lti_ilp.demo.platform import ROLE_INSTITUTION_STUDENT, ROLE_LEARNER, LaunchRequest
from lti_ilp.extensions import db, utcnow
from lti_ilp.grades.tokens import access_token, forget_access_token
from lti_ilp.install.tool_profile import SCOPE_SCORE
from lti_ilp.keys.service import (
    RETIRE_GRACE,
    find_key,
    generate_key,
    retire_key,
    rotate_keys,
)
from lti_ilp.lti.ags import AgsError
from lti_ilp.platforms.models import Registration

from ..harness import Browser


def student_launch():
    return LaunchRequest(
        user_id="student-ana",
        context_id="course-algebra",
        resource_link_id="link-1",
        roles=(ROLE_LEARNER, ROLE_INSTITUTION_STUDENT),
    )


@pytest.fixture
def token_platform(app, platform, token_host):
    """The harness platform with a token endpoint that caches the tool's JWKS for good."""
    with app.app_context():
        registration = db.session.execute(select(Registration)).scalar_one()
        registration.auth_token_url = token_host.add(platform.client_id, platform)
        generate_key()  # the next key, so the cached JWKS holds it before rotation
        db.session.commit()
    return platform


def request_token(app) -> str:
    with app.app_context():
        registration = db.session.execute(select(Registration)).scalar_one()
        forget_access_token(registration, [SCOPE_SCORE])
        token = access_token(registration, [SCOPE_SCORE])
        db.session.commit()
        return token


def test_rotation_breaks_no_token_request_or_launch(app, token_platform):
    assert request_token(app)
    cached = token_platform.registration.get_tool_key_set()
    assert cached is not None
    assert Browser().launch(token_platform, student_launch()).status_code == 200

    with app.app_context():
        rotation = rotate_keys()
        db.session.commit()
        new_kid = rotation.current.kid
        previous_kid = rotation.previous.kid

    assert new_kid in [key["kid"] for key in cached["keys"]]
    assert request_token(app)
    assert token_platform.registration.get_tool_key_set() is cached
    assert Browser().launch(token_platform, student_launch()).status_code == 200

    with app.app_context():
        current = find_key(new_kid)
        current.activated_at = utcnow() - RETIRE_GRACE - timedelta(seconds=1)
        retire_key(previous_kid)
        db.session.commit()
    assert request_token(app)
    assert Browser().launch(token_platform, student_launch()).status_code == 200


def test_second_rotation_needs_refetch(app, token_platform):
    """Two rotations move past what an old cache holds; the platform must refetch then."""
    assert request_token(app)
    with app.app_context():
        rotate_keys()
        rotate_keys()
        db.session.commit()
    with pytest.raises(AgsError):
        request_token(app)

    token_platform.registration.set_tool_key_set(None)
    assert request_token(app)
