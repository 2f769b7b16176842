"""Launch helpers shared by the security tests."""

from __future__ import annotations

import re

from lti_ilp.demo.platform import ROLE_INSTRUCTOR, ROLE_LEARNER, LaunchRequest

SESSION_RE = re.compile(r"/s/([^/?#]+)")


def student(user: str = "student-ana", course: str = "course-algebra") -> LaunchRequest:
    return LaunchRequest(
        user_id=user, context_id=course, resource_link_id="link-1", roles=(ROLE_LEARNER,)
    )


def teacher(course: str = "course-algebra") -> LaunchRequest:
    return LaunchRequest(
        user_id="teacher-rivera",
        context_id=course,
        resource_link_id="link-1",
        roles=(ROLE_INSTRUCTOR,),
    )


def session_token(page) -> str:
    """Return the launch session token of a page reached after a launch."""
    match = SESSION_RE.search(page.url)
    assert match, page.url
    return match.group(1)
