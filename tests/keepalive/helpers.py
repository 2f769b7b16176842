"""Launch helpers for the demo LMS and the worker steps the tests run by hand."""

from __future__ import annotations

import re
from datetime import timedelta

import requests
from sqlalchemy import select

from lti_ilp.demo.lms_roster import add_sample_students
from lti_ilp.demo.seed import ALGEBRA, ilp_link_id
from lti_ilp.extensions import db
from lti_ilp.nudges import clock
from lti_ilp.nudges.service import run_nudges
from lti_ilp.people.models import Person
from lti_ilp.rosters.service import run_due_syncs

from ..demo.conftest import LmsBrowser


class DemoBrowser(LmsBrowser):
    """Opens the tool as any member of a demo course, through any of its tool links."""

    def open_as(
        self, user_id: str, course_id: str = ALGEBRA, link_id: str | None = None
    ) -> requests.Response:
        self._launch = (user_id, link_id or ilp_link_id(course_id))
        return self.open_ilp(course_id, "")

    def start_launch(self, course_id: str, button_text: str) -> requests.Response:
        user_id, link_id = self._launch
        return self.http.get(
            f"{self.demo.url}/courses/{course_id}/launch",
            params={"user": user_id, "link": link_id},
            allow_redirects=False,
        )

    def get(self, page: requests.Response, path: str) -> requests.Response:
        """Open another page of the same launch session, e.g. ``/dashboard?sort=name``."""
        token = re.search(r"/s/([^/]+)/", page.url).group(1)
        base = page.url.split("/s/")[0]
        return self.http.get(f"{base}/s/{token}{path}")


def sync_rosters(app, interval: timedelta = timedelta(hours=24)) -> list[tuple[int, str]]:
    with app.app_context():
        return run_due_syncs(clock.now(), interval)


def run_nudge_job(app, about: str | None = None) -> list[tuple[str, str]]:
    """Run the nudge job and return (level, recipient sub) for each nudge it sent.

    With ``about`` (a sub), only nudges about that person's plan are returned.
    """
    with app.app_context():
        report = run_nudges(clock.now())
        sent = [(nudge.level, nudge.recipient_id, nudge.subject_id) for nudge in report.sent]
        db.session.commit()
        subs = dict(db.session.execute(select(Person.id, Person.sub)).all())
        return [
            (level, subs[recipient])
            for level, recipient, subject in sent
            if about is None or subs[subject] == about
        ]


def advance_clock(app, days: int) -> None:
    with app.app_context():
        clock.advance(timedelta(days=days))
        db.session.commit()


def grow_course(demo, students: int) -> list[str]:
    """Add students to the Algebra course of the demo LMS; return their user ids."""
    return add_sample_students(demo.lms, ALGEBRA, students)


def dashboard_rows(page_html: str) -> list[dict]:
    """Return the dashboard rows in page order with their person id and tags."""
    rows = []
    for match in re.finditer(
        r'<tr class="([^"]*)" data-person-id="(\d+)">(.*?)</tr>', page_html, re.S
    ):
        stale = re.search(r'data-stale-days="(\d+)"', match.group(3))
        rows.append(
            {
                "person_id": int(match.group(2)),
                "classes": match.group(1).split(),
                "not_started": "Not started" in match.group(3),
                "stale_days": int(stale.group(1)) if stale else None,
                "html": match.group(3),
            }
        )
    return rows
