"""Checkpoint tests reuse the demo LMS fixture of the grade tests."""

from ..grades.conftest import demo_lms  # noqa: F401
