"""Nudge emails: written into the outbox table, delivered later by the worker.

Emails never carry a launch token or any other session URL. They tell the reader where
the plan is in the LMS, because only a launch from the LMS can open it.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from sqlalchemy import select

from ..extensions import db, utcnow
from ..people.models import Course, Enrolment, Person
from .config import EMAIL_OFF, EMAIL_OUTBOX, MailSettings, mail_settings
from .models import (
    EMAIL_FAILED,
    EMAIL_KEPT,
    EMAIL_PENDING,
    EMAIL_SENT,
    LEVEL_COORDINATOR,
    LEVEL_MANUAL,
    LEVEL_STAFF,
    LEVEL_STUDENT,
    Nudge,
    OutboxEmail,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def _course_titles(person_id: int) -> list[str]:
    rows = db.session.execute(
        select(Course.title, Course.label, Course.context_id)
        .join(Enrolment, Enrolment.course_id == Course.id)
        .where(Enrolment.person_id == person_id)
        .order_by(Course.id)
    ).all()
    return [title or label or context_id for title, label, context_id in rows]


def _where_to_find(person_id: int) -> str:
    titles = _course_titles(person_id)
    if not titles:
        return "Open the ILP tab in one of your courses in the LMS."
    return "Open the ILP tab in your course: " + "; ".join(titles[:3]) + "."


def compose(nudge: Nudge, recipient: Person, subject: Person) -> tuple[str, str]:
    """Return the subject line and plain-text body of a nudge email."""
    days = nudge.stale_days
    quiet = f"for {days} days" if days else "for a while"
    if nudge.level == LEVEL_STUDENT and nudge.window_key.startswith("goal:"):
        title = "One of your goals needs a progress update"
        body = (
            f"Hello {recipient.display_name},\n\n"
            f"One of the goals in your learning plan has had no progress update {quiet}. "
            f"Record where you are, even if it is a small step.\n\n"
            f"{_where_to_find(recipient.id)}\n"
        )
    elif nudge.level in (LEVEL_STUDENT, LEVEL_MANUAL):
        title = "Time to update your learning plan"
        body = (
            f"Hello {recipient.display_name},\n\n"
            f"Your learning plan has had no updates {quiet}. A short progress update or "
            f"a finished action step keeps it on track.\n\n{_where_to_find(recipient.id)}\n"
        )
    elif nudge.level == LEVEL_STAFF:
        title = "A learning plan in your class has gone quiet"
        body = (
            f"Hello {recipient.display_name},\n\n"
            f"The learning plan of {subject.display_name} has had no updates {quiet}, "
            f"and a reminder to the learner did not change that. The triage dashboard "
            f"lists the plan.\n\n{_where_to_find(recipient.id)}\n"
        )
    elif nudge.level == LEVEL_COORDINATOR:
        title = "A learning plan needs attention"
        body = (
            f"Hello {recipient.display_name},\n\n"
            f"The learning plan of {subject.display_name} has had no updates {quiet}. The "
            f"learner and their teachers or mentors were reminded first.\n\n"
            f"{_where_to_find(recipient.id)}\n"
        )
    else:
        raise ValueError(f"unknown nudge level {nudge.level!r}")
    return title, body + "\nThis message was sent by the learning plan tool.\n"


def queue_nudge_email(nudge: Nudge) -> bool:
    """Put an email for ``nudge`` in the outbox; return False when none is sent."""
    settings = mail_settings()
    if settings.mode == EMAIL_OFF:
        return False
    recipient = db.session.get(Person, nudge.recipient_id)
    if recipient is None or not recipient.email:
        return False
    subject = db.session.get(Person, nudge.subject_id)
    title, body = compose(nudge, recipient, subject)
    db.session.add(
        OutboxEmail(
            nudge_id=nudge.id,
            recipient_id=recipient.id,
            to_address=recipient.email,
            subject=title,
            body=body,
            status=EMAIL_KEPT if settings.mode == EMAIL_OUTBOX else EMAIL_PENDING,
        )
    )
    return True


def deliver_pending(settings: MailSettings | None = None) -> tuple[int, int]:
    """Send pending outbox emails over SMTP; return (sent, failed). The caller commits."""
    settings = settings or mail_settings()
    pending = list(
        db.session.execute(
            select(OutboxEmail)
            .where(OutboxEmail.status == EMAIL_PENDING)
            .order_by(OutboxEmail.id)
            .limit(200)
        ).scalars()
    )
    if not pending:
        return 0, 0
    sent = failed = 0
    try:
        connection = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning(
            "SMTP connection failed host=%s port=%s error=%s",
            settings.smtp_host,
            settings.smtp_port,
            type(exc).__name__,
        )
        for email in pending:
            _record_failure(email, f"connection failed: {type(exc).__name__}")
        return 0, len(pending)
    with connection:
        for email in pending:
            try:
                connection.send_message(_message(settings, email))
            except smtplib.SMTPException as exc:
                _record_failure(email, type(exc).__name__)
                failed += 1
                continue
            email.status = EMAIL_SENT
            email.sent_at = utcnow()
            email.attempts += 1
            sent += 1
    log.info("outbox delivery finished sent=%s failed=%s", sent, failed)
    return sent, failed


def _connect(settings: MailSettings) -> smtplib.SMTP:
    connection = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
    if settings.smtp_starttls:
        connection.starttls(context=ssl.create_default_context())
    if settings.smtp_username:
        connection.login(settings.smtp_username, settings.smtp_password or "")
    return connection


def _message(settings: MailSettings, email: OutboxEmail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message.set_content(email.body)
    return message


def _record_failure(email: OutboxEmail, error: str) -> None:
    email.attempts += 1
    email.last_error = error[:500]
    if email.attempts >= MAX_ATTEMPTS:
        email.status = EMAIL_FAILED
    log.warning(
        "email delivery failed email=%s attempts=%s error=%s", email.id, email.attempts, error
    )
