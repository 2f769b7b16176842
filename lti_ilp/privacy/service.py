"""Export entry points shared by the pages and the command line."""

from __future__ import annotations

import json

from ..extensions import db
from ..people.models import Person
from .export import SCOPE_FULL, export_person
from .models import ACTION_EXPORT, PrivacyLogEntry
from .pdf import render_export_pdf

FORMATS = ("json", "pdf")


def export_bytes(person: Person, output_format: str, scope: str = SCOPE_FULL) -> bytes:
    """Return the export of ``person`` as JSON or PDF bytes."""
    if output_format not in FORMATS:
        raise ValueError(f"unknown export format {output_format!r}; use json or pdf")
    document = export_person(person, scope)
    if output_format == "pdf":
        return render_export_pdf(document)
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False).encode()


def log_export(
    person: Person,
    output_format: str,
    scope: str,
    channel: str,
    requested_by_person_id: int | None = None,
    requested_by: str = "",
) -> None:
    """Add a privacy log entry for an export; the caller commits."""
    db.session.add(
        PrivacyLogEntry(
            deployment_id=person.deployment_id,
            action=ACTION_EXPORT,
            subject_person_id=person.id,
            channel=channel,
            requested_by=requested_by,
            requested_by_person_id=requested_by_person_id,
            details={"format": output_format, "scope": scope},
        )
    )


def export_filename(person_id: int, output_format: str) -> str:
    return f"person-{person_id}-export.{output_format}"
