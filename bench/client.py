"""The browser side of the benchmark: walks whole launches over HTTP, from several processes.

One launch is four requests, like a browser inside an LMS page: the login initiation GET
to the tool, the platform's auth step, the id_token form POST back to the tool and, for
lti-ilp, the plan page that the launch redirects to. Every launch has its own cookie jar.
"""

from __future__ import annotations

import multiprocessing
import random
import re
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import urljoin, urlsplit

import requests

from lti_ilp.demo.platform import ROLE_INSTITUTION_STUDENT, ROLE_LEARNER, LaunchRequest

from .config import RunConfig, build_platform, course_id, user_id

REQUEST_TIMEOUT_SECONDS = 30
FORM_ACTION_RE = re.compile(r'<form method="post" action="([^"]+)">')
HIDDEN_INPUT_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


class LaunchFailed(RuntimeError):
    """A step of a launch returned something other than what a valid launch returns."""


def _expect(response: requests.Response, status: int, step: str) -> None:
    if response.status_code != status:
        raise LaunchFailed(f"{step}: expected HTTP {status}, got {response.status_code}")


def parse_auto_post_form(page: str) -> tuple[str, dict[str, str]]:
    """Return the action and the hidden fields of the platform's auto-submitting form."""
    action = FORM_ACTION_RE.search(page)
    if action is None:
        raise LaunchFailed("platform auth: the response has no form")
    fields = {name: unescape(value) for name, value in HIDDEN_INPUT_RE.findall(page)}
    return unescape(action.group(1)), fields


class LaunchWalker:
    """Walks launches of one platform's tool. ``opens_landing_page`` is True for lti-ilp,
    whose launch answers 303 to the plan page, and False for the baseline, which answers
    200 after validating."""

    def __init__(self, config: RunConfig, platform_name: str, opens_landing_page: bool) -> None:
        self.platform = build_platform(config, platform_name)
        self.opens_landing_page = opens_landing_page

    def launch_request(self, user_index: int, course_index: int) -> LaunchRequest:
        return LaunchRequest(
            user_id=user_id(user_index),
            context_id=course_id(course_index),
            resource_link_id=f"link-{course_index:03d}",
            roles=(ROLE_LEARNER, ROLE_INSTITUTION_STUDENT),
        )

    def walk(self, launch: LaunchRequest) -> float:
        """Walk one launch and return its latency in seconds; raise ``LaunchFailed``."""
        login_url = self.platform.login_initiation_url(launch)
        started = time.perf_counter()
        with requests.Session() as http:
            login = http.get(login_url, allow_redirects=False, timeout=REQUEST_TIMEOUT_SECONDS)
            _expect(login, 302, "login")
            auth = http.get(login.headers["Location"], timeout=REQUEST_TIMEOUT_SECONDS)
            _expect(auth, 200, "platform auth")
            action, fields = parse_auto_post_form(auth.text)
            posted = http.post(
                action, data=fields, allow_redirects=False, timeout=REQUEST_TIMEOUT_SECONDS
            )
            if self.opens_landing_page:
                self._open_landing_page(http, action, posted)
            else:
                _expect(posted, 200, "launch")
        return time.perf_counter() - started

    def _open_landing_page(
        self, http: requests.Session, action: str, posted: requests.Response
    ) -> None:
        _expect(posted, 303, "launch")
        target = urljoin(action, posted.headers["Location"])
        if not urlsplit(target).path.endswith("/plan"):
            raise LaunchFailed(f"launch: redirected to {urlsplit(target).path}, not a plan")
        page = http.get(target, allow_redirects=False, timeout=REQUEST_TIMEOUT_SECONDS)
        _expect(page, 200, "plan page")


@dataclass
class LoadResult:
    """The launches of one load phase, from all client processes."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    started_at: float = float("inf")
    finished_at: float = 0.0

    @property
    def wall_seconds(self) -> float:
        return max(self.finished_at - self.started_at, 1e-9)

    @property
    def launches_per_second(self) -> float:
        return len(self.latencies) / self.wall_seconds

    def merge(self, other: LoadResult) -> None:
        self.latencies.extend(other.latencies)
        self.errors.update(other.errors)
        self.started_at = min(self.started_at, other.started_at)
        self.finished_at = max(self.finished_at, other.finished_at)


@dataclass(frozen=True)
class LoadPlan:
    platform_name: str
    opens_landing_page: bool
    concurrency: int
    max_launches: int
    max_seconds: float
    seed: int


def _client_loop(config_path: str, plan: LoadPlan, client_index: int) -> LoadResult:
    config = RunConfig.read(config_path)
    walker = LaunchWalker(config, plan.platform_name, plan.opens_landing_page)
    rng = random.Random(plan.seed * 1000 + client_index)  # noqa: S311 (not for security)
    budget = plan.max_launches // plan.concurrency
    if client_index < plan.max_launches % plan.concurrency:
        budget += 1
    result = LoadResult(started_at=time.time())
    deadline = time.monotonic() + plan.max_seconds
    for _ in range(budget):
        if time.monotonic() >= deadline:
            break
        launch = walker.launch_request(
            rng.randrange(config.user_count), rng.randrange(config.course_count)
        )
        try:
            result.latencies.append(walker.walk(launch))
        except (LaunchFailed, requests.RequestException) as exc:
            result.errors[str(exc)[:120]] += 1
    result.finished_at = time.time()
    return result


def run_load(config_path: str, plan: LoadPlan) -> LoadResult:
    """Drive ``plan`` from ``plan.concurrency`` client processes and merge their results."""
    context = multiprocessing.get_context("fork")
    total = LoadResult()
    with ProcessPoolExecutor(max_workers=plan.concurrency, mp_context=context) as pool:
        futures = [
            pool.submit(_client_loop, config_path, plan, index)
            for index in range(plan.concurrency)
        ]
        for future in futures:
            total.merge(future.result())
    return total
