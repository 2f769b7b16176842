"""Imports every model, so metadata and migrations see all tables."""

from .activity.models import PaceReset, PlanActivity  # noqa: F401
from .admin.models import AdminUser, LaunchFailure, PlatformHealthCheck
from .checkins.models import CheckIn, CheckInParticipant  # noqa: F401
from .checkpoints.models import Checkpoint, CheckpointPlacement, CheckpointWork  # noqa: F401
from .dashboard.models import ScheduledCheckIn  # noqa: F401
from .grades.models import OutboxScore, ServiceToken  # noqa: F401
from .growth.models import (  # noqa: F401
    DiscussionPost,
    DiscussionThread,
    GoalResource,
    Meeting,
    MeetingSignup,
    Resource,
)
from .keys.models import ToolKey
from .lti.state import LaunchState
from .nudges.clock import DemoClock  # noqa: F401
from .nudges.models import Nudge, NudgeRule, OutboxEmail  # noqa: F401
from .people.models import Course, Enrolment, Person
from .plan_templates.models import Cohort, CohortMember, Cycle, PlanTemplate  # noqa: F401
from .plans.models import (  # noqa: F401
    ActionStep,
    AuditEntry,
    Comment,
    CoordinatorGrant,
    Evidence,
    Goal,
    MentorAssignment,
    Plan,
    ProgressEntry,
    Reflection,
    StatusChange,
)
from .platforms.models import Deployment, PlatformKeySet, Registration
from .privacy.models import PrivacyLogEntry  # noqa: F401
from .registration.models import DynamicRegistration, RegistrationAccessCode, RegistrationPolicy
from .rosters.models import RosterChange, RosterMember, RosterSource  # noqa: F401
from .web.ratelimit import RateLimitCounter
from .web.session import LaunchSession

__all__ = [
    "AdminUser",
    "DynamicRegistration",
    "LaunchFailure",
    "PlatformHealthCheck",
    "RegistrationAccessCode",
    "RegistrationPolicy",
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
    "RateLimitCounter",
    "Registration",
    "ToolKey",
]
