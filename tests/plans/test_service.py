"""Plan service behaviour that needs no browser."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from lti_ilp.extensions import db
from lti_ilp.people.models import Person
from lti_ilp.plans.models import Plan
from lti_ilp.plans.service import ensure_plan
from lti_ilp.platforms.models import Deployment, Registration


def _person(app) -> int:
    with app.app_context():
        registration = Registration(
            issuer="https://lms.example.edu",
            client_id="c1",
            auth_login_url="https://lms.example.edu/auth",
            auth_token_url="https://lms.example.edu/token",
            key_set_url="https://lms.example.edu/jwks",
        )
        deployment = Deployment(registration=registration, deployment_id="d1")
        person = Person(deployment=deployment, sub="learner-1")
        db.session.add_all([registration, deployment, person])
        db.session.commit()
        return person.id


def test_ensure_plan_concurrent_first_use(app):
    person_id = _person(app)
    with app.app_context():
        # Configure the mappers once; the rollback leaves no cycle, template or plan behind,
        # so the two threads race to create all of them.
        ensure_plan(db.session.get(Person, person_id))
        db.session.rollback()
    barrier = threading.Barrier(2)
    failures = []

    def open_plan():
        with app.app_context():
            try:
                person = db.session.get(Person, person_id)
                barrier.wait(timeout=10)
                ensure_plan(person)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 (the test reports any failure)
                failures.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=open_plan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    with app.app_context():
        assert db.session.scalar(select(func.count(Plan.id))) == 1
