"""The grade sync worker: sends outbox scores to the platforms.

Delivery rules:

- A worker claims one due row at a time and leases it (``lease_owner``,
  ``lease_expires_at``) in a short transaction. On PostgreSQL the claim query uses
  ``FOR UPDATE SKIP LOCKED``, so concurrent workers never claim the same row. The HTTP call
  runs after that commit, without holding a database lock.
- A worker killed mid-send leaves its row pending. Once the lease runs out another worker
  sends it again, so no score is lost. When the first send had reached the platform, the
  platform answers the repeat with 409 (same timestamp), and the row counts as sent.
- Scores for one student and line item are sent in the order they were queued: a row is
  due only when no older row for the same pair is still pending.
- HTTP 429, 5xx, Canvas's 403 "Rate Limit Exceeded" and network errors are retried with
  exponential backoff and full jitter, and never sooner than the platform's Retry-After.
  A 401 drops the cached access token and retries. Any other rejection (for example 422
  when an attempt limit is reached) marks the row failed, with the platform's message.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import or_, select, update
from sqlalchemy.orm import aliased

from ..checkpoints.models import CheckpointPlacement
from ..extensions import db, utcnow
from ..http import http_session
from ..keys.service import SigningKeyError
from ..lti import ags
from ..lti.ags import AgsError, Score
from ..lti.state import purge_expired_states
from .models import OutboxScore, ScoreStatus
from .tokens import access_token, forget_access_token

log = logging.getLogger(__name__)

# How often each sync loop deletes expired login states, in seconds.
PURGE_EVERY_SECONDS = 60.0

# SQLite has no row locks; this keeps two threads of one process from creating the same
# line item. SQLite deployments run one worker process.
_sqlite_line_item_lock = threading.Lock()


@dataclass(frozen=True)
class SyncOptions:
    # Longer than the worst case of one delivery: a token request, a line item lookup or
    # creation, and the score post, each bounded by ILP_HTTP_TIMEOUT_SECONDS.
    lease_seconds: int = 300
    retry_base_seconds: float = 10.0
    retry_cap_seconds: float = 3600.0
    # Retryable failures before a score is marked failed.
    max_attempts: int = 12


@dataclass
class DrainReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    outcomes: list[str] = field(default_factory=list)


def new_worker_id() -> str:
    return f"{socket.gethostname()[:30]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def claim_next(worker_id: str, options: SyncOptions, now: datetime | None = None) -> int | None:
    """Lease the oldest due score and commit; return its id, or None when nothing is due."""
    now = now or utcnow()
    older = aliased(OutboxScore)
    older_pending = (
        select(older.id)
        .where(
            older.placement_id == OutboxScore.placement_id,
            older.person_id == OutboxScore.person_id,
            older.status == ScoreStatus.PENDING.value,
            older.id < OutboxScore.id,
        )
        .exists()
    )
    lease_free = or_(OutboxScore.lease_expires_at.is_(None), OutboxScore.lease_expires_at < now)
    query = (
        select(OutboxScore.id)
        .where(
            OutboxScore.status == ScoreStatus.PENDING.value,
            OutboxScore.next_attempt_at <= now,
            lease_free,
            ~older_pending,
        )
        .order_by(OutboxScore.next_attempt_at, OutboxScore.id)
        .limit(1)
    )
    if _is_postgresql():
        query = query.with_for_update(skip_locked=True, of=OutboxScore)
    row_id = db.session.execute(query).scalar_one_or_none()
    if row_id is None:
        db.session.commit()
        return None

    # The conditional update is what makes the claim safe on SQLite, where the select
    # takes no lock: a row leased by another worker in between matches no row here.
    result = db.session.execute(
        update(OutboxScore)
        .where(
            OutboxScore.id == row_id, OutboxScore.status == ScoreStatus.PENDING.value, lease_free
        )
        .values(
            lease_owner=worker_id,
            lease_expires_at=now + timedelta(seconds=options.lease_seconds),
            attempts=OutboxScore.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return row_id if result.rowcount == 1 else None


def _scopes(placement: CheckpointPlacement) -> list[str]:
    granted = [scope for scope in placement.scopes or [] if scope in ags.GRADE_SCOPES]
    if placement.lineitem_url:
        requested = [ags.SCOPE_SCORE]
    else:
        requested = [ags.SCOPE_SCORE, ags.SCOPE_LINEITEM]
        if ags.SCOPE_LINEITEM not in granted and ags.SCOPE_LINEITEM_READONLY in granted:
            requested = [ags.SCOPE_SCORE, ags.SCOPE_LINEITEM_READONLY]
    if granted:
        requested = [scope for scope in requested if scope in granted] or [ags.SCOPE_SCORE]
    return requested


def deliver(row_id: int, worker_id: str, options: SyncOptions) -> str:
    """Send one leased score and record the outcome; return "sent", "failed" or "retry"."""
    row = db.session.get(OutboxScore, row_id)
    if row is None or row.lease_owner != worker_id:
        db.session.rollback()
        log.warning("score lease lost before sending outbox=%s worker=%s", row_id, worker_id)
        return "lost"

    placement = row.placement
    registration = placement.deployment.registration
    scopes = _scopes(placement)
    ids = (
        row.id,
        registration.issuer,
        registration.client_id,
        placement.deployment_id,
        row.person_id,
    )

    try:
        token = access_token(registration, scopes)
        lineitem_url = resolve_line_item(placement.id, token)
        score = Score(
            user_id=row.person.sub,
            score_given=row.score_given,
            score_maximum=row.score_maximum,
            activity_progress=row.activity_progress,
            grading_progress=row.grading_progress,
            timestamp=row.scored_at,
            comment=row.comment,
        )
        ags.post_score(http_session(), token, lineitem_url, score)
    except AgsError as exc:
        if exc.status_code == 409:
            # The platform already has a score with this timestamp or a newer one. Scores of
            # one student and line item go out in order, so this one was delivered before,
            # by a worker that died before it could record the success.
            _record_success(row_id, worker_id, note=f"Already in the gradebook. {exc.message}")
            log.info("score already at the platform outbox=%s", row_id)
            return "sent"
        if exc.unauthorized:
            forget_access_token(registration, scopes)
        return _record_failure(row_id, worker_id, options, exc)
    except SigningKeyError as exc:
        return _record_failure(row_id, worker_id, options, AgsError(str(exc), retryable=True))

    _record_success(row_id, worker_id)
    log.info("score sent outbox=%s issuer=%s client_id=%s deployment=%s person=%s", *ids)
    return "sent"


def _record_success(row_id: int, worker_id: str, note: str | None = None) -> None:
    db.session.rollback()
    now = utcnow()
    db.session.execute(
        update(OutboxScore)
        .where(OutboxScore.id == row_id, OutboxScore.lease_owner == worker_id)
        .values(
            status=ScoreStatus.SENT.value,
            sent_at=now,
            updated_at=now,
            lease_owner=None,
            lease_expires_at=None,
            last_error=note,
            last_status_code=None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def retry_delay(attempts: int, options: SyncOptions, retry_after: float | None) -> float:
    """Exponential backoff with full jitter, never shorter than the platform's Retry-After."""
    ceiling = min(options.retry_cap_seconds, options.retry_base_seconds * 2 ** (attempts - 1))
    delay = random.uniform(0, ceiling)  # noqa: S311 (jitter, not a secret)
    if retry_after is not None:
        delay = max(delay, min(retry_after, options.retry_cap_seconds))
    return delay


def _record_failure(row_id: int, worker_id: str, options: SyncOptions, error: AgsError) -> str:
    db.session.rollback()
    row = db.session.get(OutboxScore, row_id)
    if row is None or row.lease_owner != worker_id:
        db.session.rollback()
        log.warning(
            "score lease lost before recording a failure outbox=%s worker=%s error=%s",
            row_id,
            worker_id,
            error.message,
        )
        return "lost"

    now = utcnow()
    row.last_error = error.message
    row.last_status_code = error.status_code
    row.lease_owner = None
    row.lease_expires_at = None
    row.updated_at = now

    retry = (error.retryable or error.unauthorized) and row.attempts < options.max_attempts
    if retry:
        delay = (
            0.0
            if error.unauthorized and row.attempts == 1
            else retry_delay(row.attempts, options, error.retry_after)
        )
        row.next_attempt_at = now + timedelta(seconds=delay)
        outcome = "retry"
    else:
        row.status = ScoreStatus.FAILED.value
        if error.retryable:
            row.last_error = f"Gave up after {row.attempts} attempts. {error.message}"
        outcome = "failed"

    db.session.commit()
    log.warning(
        "score not sent outbox=%s placement=%s person=%s status=%s attempts=%s outcome=%s "
        "error=%s",
        row.id,
        row.placement_id,
        row.person_id,
        error.status_code,
        row.attempts,
        outcome,
        error.message,
    )
    return outcome


def resolve_line_item(placement_id: int, token: str) -> str:
    """Return the placement's line item URL, finding or creating the line item once.

    A platform that launches without a line item claim (Brightspace can) gets a lookup by
    resourceId, then by tag, before a new line item is created, so no duplicate appears.
    The placement row is locked while this runs, so two workers cannot both create one.
    """
    placement = db.session.get(CheckpointPlacement, placement_id)
    if placement.lineitem_url:
        return placement.lineitem_url
    if _is_postgresql():
        db.session.execute(
            select(CheckpointPlacement.id)
            .where(CheckpointPlacement.id == placement_id)
            .with_for_update()
        )
        db.session.refresh(placement)
        return _find_or_create_line_item(placement, token)
    with _sqlite_line_item_lock:
        db.session.refresh(placement)
        return _find_or_create_line_item(placement, token)


def _find_or_create_line_item(placement: CheckpointPlacement, token: str) -> str:
    if placement.lineitem_url:
        db.session.commit()
        return placement.lineitem_url
    if not placement.lineitems_url:
        db.session.rollback()
        raise AgsError(
            "The LMS launched this checkpoint without a grade column (line item) and "
            "without access to its line items, so there is nowhere to send the score. "
            "Ask the LMS administrator to enable grade passback (Assignment and Grade "
            "Services) for the plan tool, then open the checkpoint once from the course."
        )
    checkpoint = placement.checkpoint
    http = http_session()
    items = ags.list_line_items(
        http,
        token,
        placement.lineitems_url,
        resource_id=checkpoint.resource_id,
        resource_link_id=placement.resource_link_id,
    )
    found = _matching_line_item(
        items, checkpoint.resource_id, checkpoint.tag, placement.resource_link_id
    )
    if found is None:
        found = ags.create_line_item(
            http, token, placement.lineitems_url, _new_line_item(placement)
        )
        log.info("line item created placement=%s", placement.id)
    placement.lineitem_url = found["id"]
    placement.updated_at = utcnow()
    db.session.commit()
    return found["id"]


def _matching_line_item(
    items: list[dict], resource_id: str, tag: str, resource_link_id: str
) -> dict | None:
    def usable(item: dict) -> bool:
        return isinstance(item.get("id"), str) and item.get("resourceLinkId") in (
            None,
            resource_link_id,
        )

    by_resource = [
        item for item in items if item.get("resourceId") == resource_id and usable(item)
    ]
    by_tag = [
        item
        for item in items
        if item.get("tag") == tag
        and item.get("resourceLinkId") == resource_link_id
        and usable(item)
    ]
    for candidates in (by_resource, by_tag):
        linked = [item for item in candidates if item.get("resourceLinkId") == resource_link_id]
        if linked:
            return linked[0]
        if candidates:
            return candidates[0]
    return None


def _new_line_item(placement: CheckpointPlacement) -> dict:
    checkpoint = placement.checkpoint
    body = {
        "label": checkpoint.title,
        "scoreMaximum": checkpoint.points,
        "resourceId": checkpoint.resource_id,
        "tag": checkpoint.tag,
        "resourceLinkId": placement.resource_link_id,
    }
    if checkpoint.opens_at:
        body["startDateTime"] = checkpoint.opens_at.isoformat(timespec="seconds")
    if checkpoint.due_at:
        body["endDateTime"] = checkpoint.due_at.isoformat(timespec="seconds")
    return body


def drain(
    worker_id: str | None = None,
    options: SyncOptions | None = None,
    max_deliveries: int | None = None,
) -> DrainReport:
    """Send every score that is due now, then return. Runs inside an app context."""
    worker_id = worker_id or new_worker_id()
    options = options or SyncOptions()
    report = DrainReport()
    while max_deliveries is None or len(report.outcomes) < max_deliveries:
        row_id = claim_next(worker_id, options)
        if row_id is None:
            break
        outcome = deliver(row_id, worker_id, options)
        report.outcomes.append(outcome)
        if outcome == "sent":
            report.sent += 1
        elif outcome == "failed":
            report.failed += 1
        elif outcome == "retry":
            report.retrying += 1
    db.session.remove()
    return report


class SyncLoop:
    """Drains the outbox every ``interval`` seconds until stopped; one per thread."""

    def __init__(
        self, app: Flask, options: SyncOptions | None = None, interval: float = 5.0
    ) -> None:
        self.app = app
        self.options = options or SyncOptions()
        self.interval = interval
        self.worker_id = new_worker_id()
        self.stop_event = threading.Event()
        self.wake_event = threading.Event()
        self.purged_at: float | None = None

    def run(self) -> None:
        log.info("grade sync worker started worker=%s", self.worker_id)
        while not self.stop_event.is_set():
            with self.app.app_context():
                try:
                    drain(self.worker_id, self.options)
                except Exception:
                    # The loop must survive a database outage; the next round retries.
                    log.exception("grade sync round failed worker=%s", self.worker_id)
                    db.session.remove()
                self.purge_expired_logins()
            self.wake_event.wait(self.interval)
            self.wake_event.clear()
        log.info("grade sync worker stopped worker=%s", self.worker_id)

    def purge_expired_logins(self) -> None:
        """Delete expired login states, which carry the LMS's login hint, at most once per
        ``PURGE_EVERY_SECONDS``. Logins do not delete expired rows themselves, so besides
        ``lti-ilp privacy purge-closed`` only this loop removes abandoned logins."""
        now = time.monotonic()
        if self.purged_at is not None and now - self.purged_at < PURGE_EVERY_SECONDS:
            return
        self.purged_at = now
        try:
            deleted = purge_expired_states()
            db.session.commit()
        except Exception:
            log.exception("purging expired logins failed worker=%s", self.worker_id)
            db.session.remove()
            return
        if deleted:
            log.info("deleted expired logins count=%s worker=%s", deleted, self.worker_id)

    def stop(self) -> None:
        self.stop_event.set()
        self.wake_event.set()


def start_background_sync(app: Flask, interval: float = 5.0) -> SyncLoop:
    """Run a sync loop in a daemon thread of this process."""
    loop = SyncLoop(app, interval=interval)
    thread = threading.Thread(target=loop.run, name="grade-sync", daemon=True)
    thread.start()
    app.extensions["ilp_grade_sync"] = loop
    return loop


def run_sync(app: Flask, *, once: bool, workers: int = 1, interval: float = 5.0) -> DrainReport:
    """Run ``workers`` sync threads: one drain each with ``once``, else until interrupted."""
    if not logging.getLogger().handlers:
        # A long-running worker must show its starts, stops and retries.
        logging.basicConfig(
            level=app.config["ILP_SETTINGS"].log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s %(message)s",
        )
    if once:
        reports: list[DrainReport] = []

        def drain_in_context() -> None:
            with app.app_context():
                reports.append(drain())

        threads = [threading.Thread(target=drain_in_context) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        total = DrainReport()
        for report in reports:
            total.sent += report.sent
            total.failed += report.failed
            total.retrying += report.retrying
        return total

    loops = [SyncLoop(app, interval=interval) for _ in range(workers)]
    threads = [
        threading.Thread(target=loop.run, name=f"grade-sync-{index}")
        for index, loop in enumerate(loops)
    ]
    for thread in threads:
        thread.start()

    def stop_all(signum, frame) -> None:
        log.info("grade sync stopping on signal %s", signum)
        for loop in loops:
            loop.stop()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop_all)
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=1.0)
    except KeyboardInterrupt:
        log.info("grade sync stopping on interrupt")
    finally:
        for loop in loops:
            loop.stop()
        for thread in threads:
            thread.join()
    return DrainReport()
