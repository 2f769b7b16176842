"""Landing rules: the page each verified launch opens.

Packages register a landing rule for the launches they handle (a checkpoint link, the
homepage widget, a deep-linking request). Rules are tried in registration order. The
default sends course staff to the class list and everyone else to their own plan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .claims import VerifiedLaunch


@dataclass(frozen=True)
class LandingRule:
    name: str
    matches: Callable[[VerifiedLaunch], bool]
    # Returns (endpoint, url values) for url_for; the session token is added by the caller.
    target: Callable[[VerifiedLaunch], tuple[str, dict]]


_rules: list[LandingRule] = []


def register_landing(rule: LandingRule) -> None:
    if any(existing.name == rule.name for existing in _rules):
        return
    _rules.append(rule)


def landing_for(launch: VerifiedLaunch) -> tuple[str, dict]:
    for rule in _rules:
        if rule.matches(launch):
            return rule.target(launch)
    from .roles import CourseRole

    if launch.course_role is CourseRole.INSTRUCTOR:
        return "courses.learners", {}
    return "plans.show", {}
