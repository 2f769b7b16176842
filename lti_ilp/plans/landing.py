"""Landing rules for mentors and coordinators."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..lti.claims import VerifiedLaunch
from ..lti.roles import CourseRole
from ..lti.routing import LandingRule, register_landing
from ..people.models import Person
from ..platforms.models import Deployment, Registration
from .models import CoordinatorGrant


def _has_coordinator_grant(launch: VerifiedLaunch) -> bool:
    return (
        db.session.scalar(
            select(CoordinatorGrant.id)
            .join(Person, Person.id == CoordinatorGrant.person_id)
            .join(Deployment, Deployment.id == Person.deployment_id)
            .join(Registration, Registration.id == Deployment.registration_id)
            .where(
                Registration.issuer == launch.issuer,
                Registration.client_id == launch.client_id,
                Deployment.deployment_id == launch.deployment_id,
                Person.sub == launch.sub,
            )
        )
        is not None
    )


def _is_coordinator_launch(launch: VerifiedLaunch) -> bool:
    if launch.is_deep_linking:
        return False
    return launch.is_platform_administrator or _has_coordinator_grant(launch)


def register_plan_landings() -> None:
    register_landing(
        LandingRule(
            name="plans-coordinator",
            matches=_is_coordinator_launch,
            target=lambda launch: ("growth.home", {}),
        )
    )
    register_landing(
        LandingRule(
            name="plans-mentor",
            matches=lambda launch: (
                not launch.is_deep_linking and launch.course_role is CourseRole.MENTOR
            ),
            target=lambda launch: ("plans.mentees", {}),
        )
    )
