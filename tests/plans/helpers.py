"""Launch and form helpers for the plan tests."""

from __future__ import annotations

import re

import requests

from lti_ilp.demo.platform import (
    ROLE_ADMINISTRATOR,
    ROLE_INSTITUTION_STUDENT,
    ROLE_INSTRUCTOR,
    ROLE_LEARNER,
    ROLE_MENTOR,
    LaunchRequest,
)

from ..harness import find_form

MENTOR_SCOPE = "https://purl.imsglobal.org/spec/lti/claim/role_scope_mentor"


def student(user="student-ana", course="course-algebra"):
    return LaunchRequest(
        user_id=user,
        context_id=course,
        resource_link_id="link-1",
        roles=(ROLE_LEARNER, ROLE_INSTITUTION_STUDENT),
    )


def teacher(course="course-algebra", user="teacher-rivera"):
    return LaunchRequest(
        user_id=user, context_id=course, resource_link_id="link-1", roles=(ROLE_INSTRUCTOR,)
    )


def mentor(course="course-algebra"):
    return LaunchRequest(
        user_id="mentor-kim", context_id=course, resource_link_id="link-1", roles=(ROLE_MENTOR,)
    )


def coordinator(course="course-pd", user="teacher-rivera"):
    return LaunchRequest(
        user_id=user,
        context_id=course,
        resource_link_id="link-1",
        roles=(ROLE_ADMINISTRATOR, ROLE_INSTRUCTOR),
    )


def launch_mentor(browser, platform, mentees=("student-ana",), course="course-algebra"):
    """Launch the mentor with a role_scope_mentor claim naming ``mentees``."""
    platform.claim_overrides[MENTOR_SCOPE] = list(mentees)
    try:
        return browser.launch(platform, mentor(course))
    finally:
        platform.claim_overrides.pop(MENTOR_SCOPE, None)


def session_base(page: requests.Response) -> str:
    match = re.match(r"(https?://[^/]+/s/[^/]+)", page.url)
    assert match, page.url
    return match.group(1)


def csrf_of(browser, page: requests.Response) -> str:
    """Return the session's CSRF token, from ``page`` or from the session's own plan page
    (the token depends only on the session)."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if match is None:
        own = browser.http.get(session_base(page) + "/plan", allow_redirects=False)
        match = re.search(r'name="csrf_token" value="([^"]+)"', own.text)
    assert match, "no page of this session has a form"
    return match.group(1)


def post(
    browser, page: requests.Response, path: str, data: dict | None = None, files=None
) -> requests.Response:
    """Post to ``path`` (relative to the session) with the session's CSRF token, without
    following redirects."""
    body = {"csrf_token": csrf_of(browser, page), **(data or {})}
    return browser.http.post(
        session_base(page) + path, data=body, files=files, allow_redirects=False
    )


def get(browser, page: requests.Response, path: str) -> requests.Response:
    return browser.http.get(session_base(page) + path, allow_redirects=False)


def follow(browser, response: requests.Response) -> requests.Response:
    assert response.status_code == 303, (response.status_code, response.text[:500])
    return browser.http.get(requests.compat.urljoin(response.url, response.headers["Location"]))


def plan_id_of(page: requests.Response) -> int:
    match = re.search(r"/plans/(\d+)/", page.text)
    assert match, "page links to no plan"
    return int(match.group(1))


def goal_ids_of(page: requests.Response) -> list[int]:
    return [int(value) for value in re.findall(r'<article id="goal-(\d+)"', page.text)]


def submit(browser, page, pattern, data):
    return browser.submit(page, pattern, data)


__all__ = ["find_form"]
