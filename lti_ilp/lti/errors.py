"""Errors raised while checking a login or launch, each with the page a user sees."""

from __future__ import annotations


class LaunchError(Exception):
    """A rejected login or launch.

    ``message`` says what failed, ``next_step`` what the user or admin can do about it.
    Neither may contain tokens or personal data, because both are shown and logged.
    """

    status = 400
    title = "This launch could not be completed"

    def __init__(self, message: str, next_step: str | None = None, *, reason: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.next_step = next_step or (
            "Go back to your course and open the plan again. If this keeps happening, "
            "tell your LMS administrator what this page says."
        )
        self.reason = reason or type(self).__name__


class BadLaunchRequest(LaunchError):
    status = 400


class LaunchNotAuthentic(LaunchError):
    status = 401
    title = "This launch could not be verified"


class PlatformNotRegistered(LaunchError):
    status = 403
    title = "This LMS is not set up for the plan tool"


class DeploymentNotAllowed(LaunchError):
    status = 403
    title = "This LMS deployment is not set up for the plan tool"
