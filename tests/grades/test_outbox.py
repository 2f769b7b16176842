"""The outbox and its workers: ordering, timestamps, leases and concurrent workers."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from lti_ilp.checkpoints.models import Checkpoint, CheckpointPlacement
from lti_ilp.demo import lms_grades
from lti_ilp.extensions import db, utcnow
from lti_ilp.grades.models import OutboxScore, ScoreStatus
from lti_ilp.grades.service import (
    enqueue_score,
    goal_progress_score,
    on_goal_progress_changed,
)
from lti_ilp.grades.worker import SyncOptions, claim_next, drain
from lti_ilp.people.models import Person
from lti_ilp.platforms.models import Deployment

from .conftest import ALGEBRA

IMMEDIATE = SyncOptions(retry_base_seconds=0, retry_cap_seconds=0)


def _seed(app, demo_lms, subs: list[str], progress_steps=(60,)) -> int:
    """Add a placement on a real LMS line item and queue scores for ``subs``."""
    record = lms_grades.add_line_item(
        demo_lms.lms, ALGEBRA, label="Goal check", score_maximum=10, resource_link_id="link-x"
    )
    with app.app_context():
        deployment = db.session.execute(select(Deployment)).scalar_one()
        checkpoint = Checkpoint(
            public_id="c" * 24,
            deployment_id=deployment.id,
            kind="goal_progress",
            title="Goal check",
            points=10,
        )
        db.session.add(checkpoint)
        db.session.flush()
        placement = CheckpointPlacement(
            checkpoint_id=checkpoint.id,
            deployment_id=deployment.id,
            resource_link_id="link-x",
            scopes=[],
            lineitem_url=lms_grades.lineitem_url(demo_lms.lms, record),
        )
        db.session.add(placement)
        people = [Person(deployment_id=deployment.id, sub=sub) for sub in subs]
        db.session.add_all(people)
        db.session.flush()
        for progress in progress_steps:
            for person in people:
                enqueue_score(placement, person.id, goal_progress_score(progress, 10))
        db.session.commit()
        return placement.id


def _statuses(app) -> Counter:
    with app.app_context():
        return Counter(db.session.execute(select(OutboxScore.status)).scalars())


def test_timestamps_strictly_increase(app, demo_lms):
    placement_id = _seed(app, demo_lms, ["student-ana"], progress_steps=())
    with app.app_context():
        placement = db.session.get(CheckpointPlacement, placement_id)
        person = db.session.execute(select(Person)).scalar_one()
        moment = utcnow()
        rows = [
            enqueue_score(placement, person.id, goal_progress_score(p, 10), now=moment)
            for p in (10, 20, 30)
        ]
        stamps = [row.scored_at for row in rows]
        assert stamps[0] < stamps[1] < stamps[2]
        sent = [row.scored_at.isoformat(timespec="milliseconds") for row in rows]
        assert sent[0] < sent[1] < sent[2]
        close = enqueue_score(
            placement,
            person.id,
            goal_progress_score(50, 10),
            now=stamps[2] + timedelta(microseconds=300),
        )
        assert close.scored_at - stamps[2] >= timedelta(milliseconds=1)
        earlier = enqueue_score(
            placement, person.id, goal_progress_score(40, 10), now=moment - timedelta(hours=1)
        )
        assert earlier.scored_at > stamps[2]
        db.session.rollback()


def test_scores_sent_in_queue_order(app, demo_lms):
    _seed(app, demo_lms, ["student-ana"], progress_steps=(20, 50, 80))
    with app.app_context():
        report = drain(options=IMMEDIATE)
    assert report.sent == 3
    assert len(demo_lms.state.received) == 3
    [score] = demo_lms.state.scores.values()
    assert score.score_given == 8


def test_older_pending_score_blocks_newer(app, demo_lms):
    _seed(app, demo_lms, ["student-ana"], progress_steps=(20, 50))
    with app.app_context():
        first = claim_next("worker-a", IMMEDIATE)
        second = claim_next("worker-b", IMMEDIATE)
        assert first is not None
        assert second is None


def test_killed_worker_loses_no_score(app, demo_lms):
    _seed(app, demo_lms, ["student-ana"])
    with app.app_context():
        claimed = claim_next("worker-that-dies", SyncOptions(lease_seconds=300))
        assert claimed is not None
        # While the lease runs, no other worker takes the row.
        assert drain(options=IMMEDIATE).sent == 0
        # The dead worker never reports back; its lease runs out.
        db.session.execute(
            update(OutboxScore).values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        report = drain(options=IMMEDIATE)
    assert report.sent == 1
    assert len(demo_lms.state.received) == 1
    assert _statuses(app) == Counter({ScoreStatus.SENT.value: 1})


def test_receiver_ignores_incomplete_event(app_context):
    on_goal_progress_changed(None, goal=None, actor_id=None)
    on_goal_progress_changed(None, goal=object(), actor_id=1)
    assert db.session.execute(select(func.count(OutboxScore.id))).scalar_one() == 0


def test_token_shared_between_scores(app, demo_lms):
    _seed(app, demo_lms, ["student-ana", "student-ben"], progress_steps=(10, 30))
    with app.app_context():
        drain(options=IMMEDIATE)
    with app.app_context():
        drain(options=IMMEDIATE)
    assert len(demo_lms.state.received) == 4
    assert demo_lms.state.token_requests == 1


def test_expired_token_is_replaced(app, demo_lms):
    from lti_ilp.grades.models import ServiceToken

    _seed(app, demo_lms, ["student-ana"], progress_steps=(10,))
    with app.app_context():
        drain(options=IMMEDIATE)
        db.session.execute(
            update(ServiceToken).values(expires_at=utcnow() + timedelta(seconds=30))
        )
        db.session.commit()
    _seed_more(app, demo_lms, "student-ana", 40)
    with app.app_context():
        drain(options=IMMEDIATE)
    assert demo_lms.state.token_requests == 2
    assert len(demo_lms.state.received) == 2


def _seed_more(app, demo_lms, sub, progress):
    with app.app_context():
        placement = db.session.execute(select(CheckpointPlacement)).scalar_one()
        person = db.session.execute(select(Person).where(Person.sub == sub)).scalar_one()
        enqueue_score(placement, person.id, goal_progress_score(progress, 10))
        db.session.commit()


@pytest.mark.parametrize("demo_lms", [60], indirect=True)
def test_two_workers_send_each_score_once(app, demo_lms):
    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect != "postgresql":
        pytest.skip(
            "concurrent workers need PostgreSQL row locks (FOR UPDATE SKIP LOCKED); "
            "set TEST_DATABASE_URL to a PostgreSQL database to run this test"
        )
    subs = [f"student-{index:03d}" for index in range(60)]
    _seed(app, demo_lms, subs, progress_steps=(40, 70))
    start = threading.Barrier(2)
    reports = []

    def work(name):
        with app.app_context():
            start.wait()
            reports.append(drain(worker_id=name, options=IMMEDIATE))

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    received = Counter((number, user) for number, user, _ in demo_lms.state.received)
    assert len(demo_lms.state.score_posts) == 120
    assert len(demo_lms.state.received) == 120
    assert set(received.values()) == {2}
    assert sum(report.sent for report in reports) == 120
    assert all(report.sent > 0 for report in reports)
    assert _statuses(app) == Counter({ScoreStatus.SENT.value: 120})
    assert {score.score_given for score in demo_lms.state.scores.values()} == {7.0}


def test_in_app_sync_thread_sends(app, demo_lms):
    from lti_ilp.grades.worker import start_background_sync

    loop = start_background_sync(app, interval=0.2)
    try:
        _seed(app, demo_lms, ["student-ana"])
        deadline = time.monotonic() + 30
        while not demo_lms.state.received and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        loop.stop()
        app.extensions.pop("ilp_grade_sync", None)
    assert len(demo_lms.state.received) == 1


def test_sync_command_once(app, settings, demo_lms, monkeypatch):
    from click.testing import CliRunner

    from lti_ilp.cli import main

    _seed(app, demo_lms, ["student-ana", "student-ben"])
    monkeypatch.setenv("ILP_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ILP_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("ILP_KEY_ENCRYPTION_KEY", settings.key_encryption_key)
    monkeypatch.setenv("ILP_KEYS_DIR", str(settings.keys_dir))

    result = CliRunner().invoke(main, ["sync", "--once", "--workers", "2"])

    assert result.exit_code == 0, result.output
    assert "sent 2, failed 0" in result.output
    assert len(demo_lms.state.received) == 2


def test_resend_after_crash_counts_as_sent(app, demo_lms):
    _seed(app, demo_lms, ["student-ana"])
    with app.app_context():
        drain(options=IMMEDIATE)
        # A worker that died after the platform accepted the score, before it recorded it.
        db.session.execute(
            update(OutboxScore).values(status=ScoreStatus.PENDING.value, sent_at=None)
        )
        db.session.commit()
        report = drain(options=IMMEDIATE)
        row = db.session.execute(select(OutboxScore)).scalar_one()
        assert row.status == ScoreStatus.SENT.value
        assert "Already in the gradebook" in row.last_error
    assert report.sent == 1
    assert len(demo_lms.state.score_posts) == 2
    assert len(demo_lms.state.received) == 1
