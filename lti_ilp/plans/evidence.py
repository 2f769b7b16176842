"""Evidence: links and uploaded files, each linked to goals of the same plan.

Uploads are stored in the database, limited in size and type. The stored Content-Type is
chosen from the file extension and checked against the file's first bytes, so an upload
can never be served back as HTML or script.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePath
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from ..extensions import db
from ..people.models import Person
from . import audit
from .forms import PlanFormError, text
from .models import Evidence, Goal, Plan

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
OFFICE_ZIP = b"PK\x03\x04"
# Extension -> (Content-Type served on download, accepted leading bytes).
ALLOWED_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".txt": ("text/plain; charset=utf-8", ()),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (OFFICE_ZIP,),
    ),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (OFFICE_ZIP,)),
    ".pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        (OFFICE_ZIP,),
    ),
}
ALLOWED_LIST = ", ".join(sorted(ALLOWED_TYPES))


def _goals_from_form(plan: Plan, goal_ids: Sequence[str], errors: dict) -> list[Goal]:
    """Return the plan's goals named in the form; an id from another plan is an error."""
    wanted = set()
    for raw in goal_ids:
        try:
            wanted.add(int(raw))
        except ValueError:
            errors["goal_ids"] = "Choose goals from the list."
    if not wanted:
        return []
    goals = list(
        db.session.scalars(select(Goal).where(Goal.plan_id == plan.id, Goal.id.in_(wanted)))
    )
    if len(goals) != len(wanted):
        errors["goal_ids"] = "Choose goals from the list."
    return goals


def _check_url(url: str, errors: dict) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        errors["url"] = "Enter a web address that starts with https:// or http://."


def add_link(
    plan: Plan, actor: Person, form: Mapping[str, str], goal_ids: Sequence[str]
) -> Evidence:
    errors: dict[str, str] = {}
    url = text(form, "url", errors, required=True)
    if url and "url" not in errors:
        _check_url(url, errors)
    caption = text(form, "caption", errors)
    goals = _goals_from_form(plan, goal_ids, errors)
    if errors:
        raise PlanFormError(errors)
    return _save(plan, actor, Evidence(kind="link", url=url, caption=caption), goals)


def _file_type(filename: str, head: bytes, errors: dict) -> str | None:
    extension = PurePath(filename).suffix.casefold()
    if extension not in ALLOWED_TYPES:
        errors["file"] = f"Files of this type are not accepted. Upload one of: {ALLOWED_LIST}."
        return None
    content_type, signatures = ALLOWED_TYPES[extension]
    if signatures and not head.startswith(signatures):
        errors["file"] = (
            f"This file does not look like a {extension} file. Save it again "
            "in that format, or choose another file."
        )
        return None
    return content_type


def _check_text(data: bytes, errors: dict) -> None:
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        errors["file"] = "Text files must be saved as UTF-8."
        return
    if "\x00" in decoded:
        errors["file"] = "This file is not plain text. Upload it in one of the other formats."


def add_file(
    plan: Plan,
    actor: Person,
    form: Mapping[str, str],
    upload: FileStorage | None,
    goal_ids: Sequence[str],
) -> Evidence:
    errors: dict[str, str] = {}
    caption = text(form, "caption", errors)
    goals = _goals_from_form(plan, goal_ids, errors)
    if upload is None or not upload.filename:
        errors["file"] = "Choose a file to upload."
        raise PlanFormError(errors)
    data = upload.stream.read(MAX_UPLOAD_BYTES + 1)
    filename = secure_filename(upload.filename)[-200:] or "evidence"
    if len(data) > MAX_UPLOAD_BYTES:
        errors["file"] = f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
    elif not data:
        errors["file"] = "The file is empty."
    content_type = None if errors.get("file") else _file_type(filename, data[:16], errors)
    if content_type and content_type.startswith("text/plain"):
        _check_text(data, errors)
    if errors:
        raise PlanFormError(errors)
    evidence = Evidence(
        kind="file",
        caption=caption,
        filename=filename,
        content_type=content_type,
        size=len(data),
        data=data,
    )
    return _save(plan, actor, evidence, goals)


def _save(plan: Plan, actor: Person, evidence: Evidence, goals: list[Goal]) -> Evidence:
    evidence.plan_id = plan.id
    evidence.created_by_id = actor.id
    evidence.goals = goals
    db.session.add(evidence)
    db.session.flush()
    audit.record(
        plan,
        actor.id,
        "evidence",
        evidence.id,
        "created",
        None,
        evidence.caption or evidence.url or evidence.filename,
    )
    audit.activity(plan, actor.id, "evidence")
    return evidence


def find_evidence(plan: Plan, evidence_id: int) -> Evidence | None:
    return db.session.execute(
        select(Evidence).where(Evidence.id == evidence_id, Evidence.plan_id == plan.id)
    ).scalar_one_or_none()


def list_evidence(plan: Plan) -> list[Evidence]:
    """Return the plan's evidence, oldest first, with the goals of each item loaded."""
    return list(
        db.session.scalars(
            select(Evidence)
            .where(Evidence.plan_id == plan.id)
            .options(joinedload(Evidence.goals))
            .order_by(Evidence.id)
        ).unique()
    )


def delete_evidence(plan: Plan, actor: Person, evidence: Evidence) -> None:
    audit.record(
        plan,
        actor.id,
        "evidence",
        evidence.id,
        "deleted",
        evidence.caption or evidence.url or evidence.filename,
        None,
        evidence.visibility,
    )
    db.session.delete(evidence)
    audit.activity(plan, actor.id, "evidence")
