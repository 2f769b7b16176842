"""A running demo LMS with assignments and a gradebook, registered with the tool."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lti_ilp.demo import lms_grades
from lti_ilp.demo.lms import DemoLms, create_lms_app
from lti_ilp.demo.platform import (
    ROLE_ADMINISTRATOR,
    ROLE_INSTITUTION_STUDENT,
    ROLE_INSTRUCTOR,
    ROLE_LEARNER,
    DemoPlatform,
    ToolEndpoints,
    generate_private_key_pem,
)
from lti_ilp.demo.store import Course, LmsStore, User
from lti_ilp.extensions import db
from lti_ilp.people.models import Person
from lti_ilp.plans.service import add_goal, ensure_plan

from ..conftest import register
from ..harness import Browser, ServerThread, parse_form

ALGEBRA = "course-algebra"
ENGLISH = "course-english"
TEACHER = "teacher-rivera"
STUDENTS = ("student-ana", "student-ben")
ADMIN = "admin-morgan"


class _LateApp:
    """A WSGI app that is set after the server has a port, because the LMS needs its URL."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def build_store(extra_students: int = 0) -> LmsStore:
    store = LmsStore()
    store.add_user(User(TEACHER, "Dana Rivera", "rivera@example.edu"))
    names = {"student-ana": "Ana Lopez", "student-ben": "Ben Okafor"}
    for user_id, name in names.items():
        store.add_user(
            User(
                user_id,
                name,
                f"{user_id}@example.edu",
                institution_roles=(ROLE_INSTITUTION_STUDENT,),
            )
        )
    store.add_user(
        User(ADMIN, "Pat Morgan", "morgan@example.edu", institution_roles=(ROLE_ADMINISTRATOR,))
    )
    for index in range(extra_students):
        user_id = f"student-{index:03d}"
        store.add_user(User(user_id, f"Student {index}", f"{user_id}@example.edu"))
    for course_id, title in ((ALGEBRA, "Algebra I"), (ENGLISH, "English 10")):
        store.add_course(Course(course_id, title, title[:4].upper()))
        store.enrol(course_id, TEACHER, [ROLE_INSTRUCTOR])
        store.enrol(course_id, ADMIN, [])
        for user in store.users():
            if user.user_id.startswith("student-"):
                store.enrol(course_id, user.user_id, [ROLE_LEARNER])
    return store


@dataclass
class RunningLms:
    lms: DemoLms
    server: ServerThread
    url: str

    @property
    def platform(self) -> DemoPlatform:
        return self.lms.platform

    @property
    def state(self) -> lms_grades.GradesState:
        return lms_grades.grades_state(self.lms)


@pytest.fixture
def demo_lms(app, tool_server, tool_key, request):
    """The demo LMS served on localhost and registered with the tool, fresh per test."""
    late = _LateApp()
    server = ServerThread(late)
    # Parametrize indirectly with a number to enrol that many more students.
    store = build_store(getattr(request, "param", 0))
    platform = DemoPlatform(
        issuer=server.url,
        client_id="client-demo-lms",
        deployment_id="deployment-1",
        private_key_pem=generate_private_key_pem(),
        tool=ToolEndpoints(
            login_url=f"{tool_server.url}/lti/login",
            launch_url=f"{tool_server.url}/lti/launch",
            jwks_url=f"{tool_server.url}/lti/jwks",
        ),
        users=store.user_directory(),
        hint_secret="grades-tests",
    )
    platform.auth_url = f"{server.url}/auth"
    platform.jwks_url = f"{server.url}/jwks"
    lms = DemoLms(
        platform=platform, store=store, base_url=server.url, tool_base_url=tool_server.url
    )
    late.app = create_lms_app(lms)
    register(app, platform)
    yield RunningLms(lms, server, server.url)
    server.stop()


def place_checkpoint(
    running: RunningLms,
    course_id: str = ALGEBRA,
    *,
    placement: str = "assignment_selection",
    form: dict | None = None,
    browser: Browser | None = None,
):
    """Walk the whole deep-linking flow as the teacher; return the created assignments."""
    browser = browser or Browser()
    launch = lms_grades.deep_linking_launch_request(running.lms, course_id, TEACHER, placement)
    page = browser.launch(running.platform, launch)
    assert page.status_code == 200, page.text
    values = {
        "kind": "goal_progress",
        "title": "Goal check",
        "points": "10",
        "goal_domain": "academic",
    }
    values.update(form or {})
    answer = browser.submit(page, r"/checkpoints/deep-link$", values)
    assert answer.status_code == 200, answer.text
    action, fields = parse_form(answer.text)
    returned = browser.http.post(action, data={"JWT": fields["JWT"]})
    assert returned.status_code == 200, returned.text
    return [a for a in running.state.assignments.values() if a.course_id == course_id]


def add_student_goal(
    app, sub: str, statement: str = "Raise my algebra grade to a B", domain: str = "academic"
) -> int:
    """Give a student who has launched once a goal in their plan; return its id."""
    with app.app_context():
        person = db.session.execute(db.select(Person).where(Person.sub == sub)).scalar_one()
        plan = ensure_plan(person)
        goal = add_goal(plan, person, {"statement": statement, "domain": domain})
        db.session.commit()
        return goal.id


def launch_assignment(
    running: RunningLms, link_id: str, user_id: str, browser: Browser | None = None
):
    browser = browser or Browser()
    launch = lms_grades.assignment_launch_request(running.lms, link_id, user_id)
    return browser, browser.launch(running.platform, launch)
