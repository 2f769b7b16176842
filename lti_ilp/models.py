"""Imports every model, so metadata and migrations see all tables."""

from .keys.models import ToolKey
from .lti.state import LaunchState
from .people.models import Course, Enrolment, Person
from .plans.models import ActionStep, Goal, Plan
from .platforms.models import Deployment, PlatformKeySet, Registration
from .web.session import LaunchSession

__all__ = [
    "ActionStep",
    "Course",
    "Deployment",
    "Enrolment",
    "Goal",
    "LaunchSession",
    "LaunchState",
    "Person",
    "Plan",
    "PlatformKeySet",
    "Registration",
    "ToolKey",
]
