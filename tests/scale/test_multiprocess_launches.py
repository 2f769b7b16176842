"""Four app processes against one PostgreSQL database, launched concurrently.

Every step of a launch may land on a different process, as behind a load balancer: the
login on one, the id_token POST on another, the first page on a third. Replays post one
id_token to all four processes at the same moment. Afterwards the database must show one
session per accepted launch, one acceptance per id_token, one person per user, one plan
per student, and no login state left over.
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import pytest
import requests
from sqlalchemy import func, select

from bench.config import free_port
from lti_ilp.demo.platform import (
    ROLE_INSTITUTION_STUDENT,
    ROLE_INSTRUCTOR,
    ROLE_LEARNER,
    DemoUser,
    LaunchRequest,
)
from lti_ilp.extensions import db
from lti_ilp.lti import claims
from lti_ilp.lti.state import LaunchState
from lti_ilp.people.models import Person
from lti_ilp.plans.models import Plan
from lti_ilp.web.session import LaunchSession

from ..conftest import register
from ..harness import page_text, parse_form
from .processes import start_app_processes

PROCESS_COUNT = 4
STUDENT_COUNT = 24
TEACHER = "teacher-lead"
COURSES = ("course-algebra", "course-biology", "course-civics", "course-drama")
SECOND_DEPLOYMENT = "deployment-2"
STEADY_LAUNCHES = 64
REPLAYED_TOKENS = 8
REQUEST_TIMEOUT_SECONDS = 30
SESSION_PATH_RE = re.compile(r"^/s/([^/]+)/")


def student(index: int) -> str:
    return f"student-{index:02d}"


def users() -> dict[str, DemoUser]:
    people = [
        DemoUser(student(i), f"Student {i}", f"s{i}@example.edu") for i in range(STUDENT_COUNT + 8)
    ]
    people.append(DemoUser(TEACHER, "Lee Teacher", "lee@example.edu"))
    return {user.user_id: user for user in people}


def student_launch(index: int, course: str) -> LaunchRequest:
    return LaunchRequest(
        user_id=student(index),
        context_id=course,
        resource_link_id=f"link-{course}",
        roles=(ROLE_LEARNER, ROLE_INSTITUTION_STUDENT),
    )


def teacher_launch(course: str) -> LaunchRequest:
    return LaunchRequest(
        user_id=TEACHER,
        context_id=course,
        resource_link_id=f"link-{course}",
        roles=(ROLE_INSTRUCTOR,),
    )


@dataclass
class Outcome:
    """The tool's response to one id_token POST, and the first page's status when accepted."""

    user_id: str
    status: int
    text: str
    session_token: str | None = None
    page_status: int | None = None


@dataclass
class Ledger:
    outcomes: list[Outcome] = field(default_factory=list)
    replays: list[list[Outcome]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)

    def accepted(self) -> list[Outcome]:
        single = [o for o in self.outcomes if o.session_token]
        replayed = [o for group in self.replays for o in group if o.session_token]
        return single + replayed


class LaunchClient:
    """Walks launches like a browser, sending each step to a chosen app process."""

    def __init__(self, platform, process_urls: list[str]) -> None:
        self.platform = platform
        self.process_urls = process_urls

    def to_process(self, url: str, process: int) -> str:
        """Return ``url`` with its host and port replaced by those of app ``process``."""
        target = urlsplit(self.process_urls[process])
        return urlunsplit(urlsplit(url)._replace(scheme=target.scheme, netloc=target.netloc))

    def login(
        self, http: requests.Session, launch: LaunchRequest, process: int
    ) -> tuple[str, dict[str, str]]:
        """Run login initiation and the platform's auth step, and return the form to post."""
        login_url = self.to_process(self.platform.login_initiation_url(launch), process)
        response = http.get(login_url, allow_redirects=False, timeout=REQUEST_TIMEOUT_SECONDS)
        assert response.status_code == 302, page_text(response.text)
        auth = http.get(response.headers["Location"], timeout=REQUEST_TIMEOUT_SECONDS)
        assert auth.status_code == 200, auth.text
        return parse_form(auth.text)

    def post(
        self,
        http: requests.Session,
        action: str,
        fields: dict[str, str],
        process: int,
        user_id: str,
    ) -> Outcome:
        response = http.post(
            self.to_process(action, process),
            data=fields,
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        outcome = Outcome(user_id, response.status_code, page_text(response.text))
        if response.status_code == 303:
            location = response.headers["Location"]
            match = SESSION_PATH_RE.match(urlsplit(location).path)
            outcome.session_token = match.group(1) if match else None
            outcome.page_status = self.open(http, urljoin(action, location), process + 1)
        return outcome

    def open(self, http: requests.Session, url: str, process: int) -> int:
        page = http.get(
            self.to_process(url, process % len(self.process_urls)),
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        return page.status_code

    def launch(self, launch: LaunchRequest, processes: tuple[int, int]) -> Outcome:
        with requests.Session() as http:
            action, fields = self.login(http, launch, processes[0])
            return self.post(http, action, fields, processes[1], launch.user_id)


@pytest.fixture
def app_processes(app, settings, tool_key, platform_host, tmp_path):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip(
            "the multi-process load test needs PostgreSQL: SQLite serialises "
            "writers, so it cannot show races between processes; set "
            "TEST_DATABASE_URL to a PostgreSQL database"
        )
    ports = [free_port() for _ in range(PROCESS_COUNT)]
    base_url = f"http://127.0.0.1:{ports[0]}"
    env = {
        "ILP_DATABASE_URL": settings.database_url,
        "ILP_SECRET_KEY": settings.secret_key,
        "ILP_KEY_ENCRYPTION_KEY": settings.key_encryption_key,
        "ILP_KEYS_DIR": str(settings.keys_dir),
        # All processes share one public URL, as behind a load balancer, so the redirect_uri
        # that the platform checks is the same whichever process started the login.
        "ILP_BASE_URL": base_url,
        "ILP_LOG_LEVEL": "WARNING",
        # Every launch comes from 127.0.0.1, so the per-IP limits are set out of reach. The
        # counting still runs.
        "ILP_RATE_LIMIT_LOGIN": "1000000000",
        "ILP_RATE_LIMIT_LAUNCH": "1000000000",
    }
    processes = start_app_processes(ports, env, tmp_path)
    try:
        platform = platform_host.add("lms-scale", base_url, users=users())
        register(app, platform, [platform.deployment_id, SECOND_DEPLOYMENT])
        yield platform, processes
    finally:
        for process in processes:
            process.stop()


def first_launches_at_once(client: LaunchClient, ledger: Ledger) -> None:
    """Launch four new students four times each, from four courses, with all id_token
    POSTs released together. The four launches of one student go to the four processes, so
    the first launches of one person race each other."""
    launches = [student_launch(index // 4, COURSES[index % 4]) for index in range(16)]
    sessions = [requests.Session() for _ in launches]
    forms = [
        client.login(http, launch, index % PROCESS_COUNT)
        for index, (http, launch) in enumerate(zip(sessions, launches, strict=True))
    ]
    barrier = threading.Barrier(len(launches))

    def post(index: int) -> Outcome:
        barrier.wait(timeout=REQUEST_TIMEOUT_SECONDS)
        action, fields = forms[index]
        return client.post(
            sessions[index], action, fields, index % PROCESS_COUNT, launches[index].user_id
        )

    with ThreadPoolExecutor(len(launches)) as pool:
        for outcome in pool.map(post, range(len(launches))):
            ledger.add(outcome)
    for http in sessions:
        http.close()


def new_deployment_at_once(client: LaunchClient, ledger: Ledger) -> None:
    """Launch new students from a second deployment of the same registration, all at
    once. Canvas makes a deployment per course install, and the JWKS is already cached
    then, so nothing else spaces out the first launches of the deployment."""
    client.platform.claim_overrides = {claims.DEPLOYMENT_ID: SECOND_DEPLOYMENT}
    try:
        # One course each, so that no shared course row lines the launches up.
        launches = [
            student_launch(STUDENT_COUNT + index, f"course-new-{index}") for index in range(8)
        ]
        sessions = [requests.Session() for _ in launches]
        forms = [
            client.login(http, launch, index % PROCESS_COUNT)
            for index, (http, launch) in enumerate(zip(sessions, launches, strict=True))
        ]
    finally:
        client.platform.claim_overrides = {}
    barrier = threading.Barrier(len(launches))

    def post(index: int) -> Outcome:
        barrier.wait(timeout=REQUEST_TIMEOUT_SECONDS)
        action, fields = forms[index]
        return client.post(
            sessions[index], action, fields, index % PROCESS_COUNT, launches[index].user_id
        )

    with ThreadPoolExecutor(len(launches)) as pool:
        for outcome in pool.map(post, range(len(launches))):
            ledger.add(outcome)
    for http in sessions:
        http.close()


def steady_launches(client: LaunchClient, ledger: Ledger) -> None:
    rng = random.Random(7)  # noqa: S311 (test data)
    plans = []
    for index in range(STEADY_LAUNCHES):
        course = rng.choice(COURSES)
        launch = (
            teacher_launch(course)
            if index % 12 == 0
            else student_launch(rng.randrange(STUDENT_COUNT), course)
        )
        plans.append((launch, (rng.randrange(PROCESS_COUNT), rng.randrange(PROCESS_COUNT))))

    with ThreadPoolExecutor(8) as pool:
        for outcome in pool.map(lambda item: client.launch(*item), plans):
            ledger.add(outcome)


def replayed_launches(client: LaunchClient, ledger: Ledger) -> None:
    """Post each of several id_tokens to all four processes at the same moment."""
    for index in range(REPLAYED_TOKENS):
        launch = student_launch(index, COURSES[index % len(COURSES)])
        with requests.Session() as http:
            action, fields = client.login(http, launch, index % PROCESS_COUNT)
            cookies = http.cookies.get_dict()
        barrier = threading.Barrier(PROCESS_COUNT)

        def post(
            process: int,
            action=action,
            fields=fields,
            cookies=cookies,
            barrier=barrier,
            user_id=launch.user_id,
        ) -> Outcome:
            with requests.Session() as browser:
                browser.cookies.update(cookies)
                barrier.wait(timeout=REQUEST_TIMEOUT_SECONDS)
                return client.post(browser, action, fields, process, user_id)

        with ThreadPoolExecutor(PROCESS_COUNT) as pool:
            ledger.replays.append(list(pool.map(post, range(PROCESS_COUNT))))


def server_errors(processes) -> str:
    """Return the exception lines that the app processes logged."""
    lines = []
    for process in processes:
        lines += [
            line
            for line in process.log_text().splitlines()
            if re.match(r"^\w+(\.\w+)*(Error|Exception|Violation)\b", line)
        ]
    return "\n".join(lines) or "no exception in the app logs"


def count_rows(app, query) -> int:
    with app.app_context():
        return db.session.scalar(query)


def duplicate_groups(app, *columns) -> list:
    with app.app_context():
        return db.session.execute(
            select(*columns, func.count()).group_by(*columns).having(func.count() > 1)
        ).all()


def test_four_processes_keep_one_state(app, app_processes):
    platform, processes = app_processes
    client = LaunchClient(platform, [process.url for process in processes])
    ledger = Ledger()

    first_launches_at_once(client, ledger)
    new_deployment_at_once(client, ledger)
    steady_launches(client, ledger)
    replayed_launches(client, ledger)

    statuses = Counter(outcome.status for outcome in ledger.outcomes)
    assert statuses == {303: len(ledger.outcomes)}, server_errors(processes)
    for group in ledger.replays:
        accepted = [outcome for outcome in group if outcome.status == 303]
        assert len(accepted) == 1, [(o.status, o.text[:200]) for o in group]
        for outcome in group:
            if outcome.status != 303:
                assert 400 <= outcome.status < 500, outcome.text[:300]
                assert "already used" in outcome.text, outcome.text[:300]

    accepted = ledger.accepted()
    assert all(outcome.page_status == 200 for outcome in accepted), Counter(
        outcome.page_status for outcome in accepted
    )
    tokens = [outcome.session_token for outcome in accepted]
    assert None not in tokens
    assert len(set(tokens)) == len(tokens)

    with app.app_context():
        stored = set(db.session.scalars(select(LaunchSession.token_hash)))
    expected = {hashlib.sha256(token.encode()).hexdigest() for token in tokens}
    assert stored == expected

    launched_users = {outcome.user_id for outcome in accepted}
    launched_students = {user for user in launched_users if user != TEACHER}
    # Each user launches from one deployment only, so each has one person row.
    assert count_rows(app, select(func.count(Person.id))) == len(launched_users)
    assert duplicate_groups(app, Person.deployment_id, Person.sub) == []
    assert count_rows(app, select(func.count(Plan.id))) == len(launched_students)
    assert duplicate_groups(app, Plan.person_id, Plan.cycle_id) == []
    assert count_rows(app, select(func.count()).select_from(LaunchState)) == 0

    for process in processes:
        assert process.process.poll() is None, process.log_text()
        assert "Traceback" not in process.log_text(), process.log_text()
