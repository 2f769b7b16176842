"""Rich text sanitising and safe file responses.

Rich text (a reflection or comment with formatting) is cleaned with nh3, the Python binding
of the Ammonia sanitiser, against a short allow-list. Templates use the ``rich_text``
filter; every other value stays autoescaped by Jinja.

Uploaded files are sent back only as downloads: ``Content-Disposition: attachment``, a
content type from an allow-list (anything else becomes ``application/octet-stream``), and a
sandboxing Content-Security-Policy, so a browser never runs an upload as a page.
"""

from __future__ import annotations

import re
import unicodedata

import nh3
from flask import Flask, Response, abort, request
from markupsafe import Markup

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "blockquote", "a", "code"}
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})

# Types an upload may be served as. HTML, SVG and XML are missing on purpose: a browser
# runs scripts in them.
SERVABLE_TYPES = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "text/plain",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
    }
)

DOWNLOAD_CSP = "default-src 'none'; sandbox"

_UNSAFE_FILENAME_RE = re.compile(r"[^A-Za-z0-9._ -]+")


def clean_rich_text(value: str | None) -> Markup:
    """Return ``value`` with every tag, attribute and URL scheme outside the allow-list
    removed, marked safe for templates."""
    if not value:
        return Markup("")
    cleaned = nh3.clean(
        value,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(cleaned)  # noqa: S704 (nh3 returned sanitised HTML)


def safe_download_name(filename: str | None) -> str:
    """Return an ASCII file name without path parts or quotes, for Content-Disposition."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    name = _UNSAFE_FILENAME_RE.sub("_", name).strip(" .")
    return name[:120] or "download"


def servable_type(content_type: str | None) -> str:
    """Return the type to send an upload as: its own when allowed, else octet-stream."""
    base = (content_type or "").split(";", 1)[0].strip().lower()
    if base not in SERVABLE_TYPES:
        return "application/octet-stream"
    if base.startswith("text/"):
        return f"{base}; charset=utf-8"
    return base


def upload_response(data: bytes, filename: str | None, content_type: str | None) -> Response:
    """Build the response that sends an uploaded file as a download."""
    response = Response(data, content_type=servable_type(content_type))
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{safe_download_name(filename)}"'
    )
    harden_download(response)
    return response


def harden_download(response: Response) -> None:
    """Make a download response safe even when a view built it by hand: sandboxed, never
    sniffed, and typed as octet-stream unless its type is on the allow-list."""
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    if servable_type(response.mimetype) == "application/octet-stream":
        response.headers["Content-Type"] = "application/octet-stream"
    disposition = response.headers.get("Content-Disposition", "")
    if not disposition.lower().startswith("attachment"):
        response.headers["Content-Disposition"] = "attachment"


def _contains_nul(values) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in values.items(multi=True))


def reject_nul_characters() -> None:
    """Reject a request whose path, query or form fields contain a NUL character.

    PostgreSQL text columns cannot store NUL, so such a value would fail deep inside a
    query. Uploaded file contents are not checked: they are stored as bytes.
    """
    if "\x00" in request.path or _contains_nul(request.args):
        abort(400, description="The address contains a NUL character, which is not allowed.")
    if request.method in {"POST", "PUT", "PATCH"} and _contains_nul(request.form):
        abort(
            400,
            description="A form field contains a NUL character, which is not allowed. "
            "Remove it and send the form again.",
        )


def register_sanitize(app: Flask) -> None:
    app.add_template_filter(clean_rich_text, "rich_text")
    app.before_request(reject_nul_characters)
