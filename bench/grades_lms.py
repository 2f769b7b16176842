"""The demo LMS with its grade service, as the sync worker's target.

It keeps its gradebook in process memory, so gunicorn serves it with one worker and
several threads.
"""

from __future__ import annotations

from flask import Flask

from lti_ilp.demo.lms import DemoLms, create_lms_app
from lti_ilp.demo.platform import ROLE_LEARNER, DemoPlatform, ToolEndpoints
from lti_ilp.demo.store import Course, LmsStore, User

from .config import RunConfig

SYNC_COURSE = "sync-course"
LMS_PLATFORM = "lms"


def sync_student(index: int) -> str:
    return f"sync-student-{index:04d}"


def build_store(student_count: int) -> LmsStore:
    store = LmsStore()
    store.add_course(Course(SYNC_COURSE, "Sync course", "SYNC"))
    for index in range(student_count):
        user_id = sync_student(index)
        store.add_user(User(user_id, f"Student {index}", f"{user_id}@example.edu"))
        store.enrol(SYNC_COURSE, user_id, [ROLE_LEARNER])
    return store


def create_grades_lms_app() -> Flask:
    config = RunConfig.read()
    values = config.platforms[LMS_PLATFORM]
    store = build_store(config.sync_students)
    platform = DemoPlatform(
        issuer=values.issuer,
        client_id=values.client_id,
        deployment_id=values.deployment_id,
        private_key_pem=values.private_key_pem,
        tool=ToolEndpoints(
            login_url=f"{values.tool_url}/lti/login",
            launch_url=f"{values.tool_url}/lti/launch",
            jwks_url=f"{values.tool_url}/lti/jwks",
        ),
        users=store.user_directory(),
        hint_secret="bench-hint-" + LMS_PLATFORM,
    )
    platform.auth_url = f"{values.issuer}/auth"
    platform.jwks_url = f"{values.issuer}/jwks"
    lms = DemoLms(
        platform=platform, store=store, base_url=values.issuer, tool_base_url=values.tool_url
    )
    return create_lms_app(lms)
