"""Platform JWKS caching: refetch on an unknown kid, at most once per refetch interval."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lti_ilp.admin.models import LaunchFailure
from lti_ilp.demo.platform import (
    ROLE_INSTITUTION_STUDENT,
    ROLE_LEARNER,
    LaunchRequest,
    generate_private_key_pem,
    public_key_pem,
)
from lti_ilp.extensions import db
from lti_ilp.platforms.models import PlatformKeySet

from ..harness import Browser


def student_launch():
    return LaunchRequest(
        user_id="student-ana",
        context_id="course-algebra",
        resource_link_id="link-1",
        roles=(ROLE_LEARNER, ROLE_INSTITUTION_STUDENT),
    )


def rotate_platform_key(platform) -> None:
    new_key = generate_private_key_pem()
    platform.private_key_pem = new_key
    platform.registration.set_platform_private_key(new_key)
    platform.registration.set_platform_public_key(public_key_pem(new_key))


def age_cached_jwks(app, seconds: int) -> None:
    with app.app_context():
        row = db.session.execute(select(PlatformKeySet)).scalar_one()
        row.fetched_at = row.fetched_at - timedelta(seconds=seconds)
        db.session.commit()


def test_cached_jwks_reused(app, platform, platform_host):
    before = platform_host.jwks_requests
    assert Browser().launch(platform, student_launch()).status_code == 200
    assert Browser().launch(platform, student_launch()).status_code == 200
    assert platform_host.jwks_requests == before + 1


def test_new_platform_key_refetched(app, platform, platform_host, settings):
    assert Browser().launch(platform, student_launch()).status_code == 200
    age_cached_jwks(app, settings.jwks_refetch_interval_seconds + 1)
    rotate_platform_key(platform)
    before = platform_host.jwks_requests

    assert Browser().launch(platform, student_launch()).status_code == 200
    assert platform_host.jwks_requests == before + 1


def test_unknown_kid_refetch_rate_limited(app, platform, platform_host):
    assert Browser().launch(platform, student_launch()).status_code == 200
    rotate_platform_key(platform)
    before = platform_host.jwks_requests

    browser = Browser()
    pending = browser.start_login(platform, student_launch())
    fields = browser.authorize(platform, pending)
    response = browser.post_launch(platform, fields)

    assert response.status_code == 401
    assert platform_host.jwks_requests == before
    with app.app_context():
        failure = db.session.execute(select(LaunchFailure)).scalar_one()
        assert failure.reason == "unknown_kid"
