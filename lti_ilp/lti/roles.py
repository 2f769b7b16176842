"""Turning LTI role URIs into the tool's course roles.

Course authority comes from membership (context) roles only. Canvas mixes institution and
system roles into the same claim, and an institution "Instructor" must not see a course's
plans. An empty roles claim is valid and gives learner rights at most.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
MEMBERSHIP_SUBROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership/"
ADMINISTRATOR_ROLES = frozenset(
    {
        "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator",
        "http://purl.imsglobal.org/vocab/lis/v2/system/person#SysAdmin",
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
    }
)


class CourseRole(StrEnum):
    INSTRUCTOR = "instructor"
    MENTOR = "mentor"
    LEARNER = "learner"


# LTI 1.3 still allows the simple names of context roles, so "Instructor" counts as the
# membership role.
_SIMPLE_NAMES = {
    "Instructor": "Instructor",
    "Learner": "Learner",
    "Mentor": "Mentor",
    "Administrator": "Administrator",
}


def _membership_name(role: str) -> str | None:
    if role.startswith(MEMBERSHIP):
        return role.removeprefix(MEMBERSHIP)
    if role.startswith(MEMBERSHIP_SUBROLE):
        # e.g. membership/Instructor#TeachingAssistant is a kind of Instructor.
        return role.removeprefix(MEMBERSHIP_SUBROLE).split("#", 1)[0]
    return _SIMPLE_NAMES.get(role)


def course_role(roles: Iterable[str]) -> CourseRole:
    names = {_membership_name(role) for role in roles if isinstance(role, str)}
    if names & {"Instructor", "Administrator"}:
        return CourseRole.INSTRUCTOR
    if "Mentor" in names:
        return CourseRole.MENTOR
    return CourseRole.LEARNER


def is_platform_administrator(roles: Iterable[str]) -> bool:
    return any(role in ADMINISTRATOR_ROLES for role in roles if isinstance(role, str))
