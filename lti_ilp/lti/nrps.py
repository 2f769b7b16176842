"""Names and Role Provisioning Services 2.0: reading a course's memberships.

This module speaks the protocol only: it follows ``Link: <...>; rel="next"`` pages to the
end and retries without ``rlid`` when a platform rejects it. Storing the roster belongs to
``lti_ilp.rosters``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from requests.utils import parse_header_links

SCOPE_MEMBERSHIP_READONLY = (
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
)
MEMBERSHIP_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
# A guard against a platform whose next links never end: 1,000 pages of 50 is 50,000
# members, well above any course.
MAX_PAGES = 1000
MAX_MESSAGE_LENGTH = 500


class NrpsError(Exception):
    """A membership request failed; ``status_code`` is None when no response arrived."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


@dataclass(frozen=True)
class Membership:
    user_id: str
    roles: tuple[str, ...]
    # "Active", "Inactive" or "Deleted"; NRPS defaults a missing status to Active.
    status: str
    name: str | None
    given_name: str | None
    family_name: str | None
    email: str | None

    @property
    def is_active(self) -> bool:
        return self.status.lower() == "active"


@dataclass(frozen=True)
class Roster:
    members: list[Membership]
    pages: int
    # False when the platform rejected ``rlid`` and the course roster was read instead.
    used_rlid: bool
    rlid_rejected: bool


def next_page_url(response: requests.Response) -> str | None:
    """Return the ``rel="next"`` URL of a response, resolved against the request URL.

    Header names and rel values are matched case-insensitively. The URL keeps its case.
    """
    for name, value in response.headers.items():
        if name.lower() != "link":
            continue
        for link in parse_header_links(value):
            relations = str(link.get("rel", "")).lower().split()
            if "next" in relations and link.get("url"):
                return urljoin(response.url or "", link["url"])
    return None


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def fetch_roster(
    http: requests.Session, access_token: str, memberships_url: str, rlid: str | None = None
) -> Roster:
    """Read every page of a course's memberships.

    With ``rlid``, a 4xx answer to the first page makes the request again without it,
    because some platforms reject the parameter.
    """
    if rlid:
        try:
            members, pages = _read_pages(
                http, access_token, with_query(memberships_url, rlid=rlid)
            )
            return Roster(members, pages, used_rlid=True, rlid_rejected=False)
        except NrpsError as exc:
            if exc.status_code is None or not 400 <= exc.status_code < 500:
                raise
    members, pages = _read_pages(http, access_token, memberships_url)
    return Roster(members, pages, used_rlid=False, rlid_rejected=bool(rlid))


def _read_pages(
    http: requests.Session, access_token: str, url: str
) -> tuple[list[Membership], int]:
    members: list[Membership] = []
    seen: set[str] = set()
    request_url: str | None = url
    pages = 0
    while request_url:
        if request_url in seen:
            raise NrpsError(f"The roster page {request_url} links back to an earlier page.")
        if pages >= MAX_PAGES:
            raise NrpsError(f"The roster at {url} has more than {MAX_PAGES} pages.")
        seen.add(request_url)
        response = _get(http, access_token, request_url)
        members.extend(_parse_members(response, request_url))
        pages += 1
        request_url = next_page_url(response)
    return members, pages


def _get(http: requests.Session, access_token: str, url: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {access_token}", "Accept": MEMBERSHIP_MEDIA_TYPE}
    try:
        response = http.get(url, headers=headers, allow_redirects=False)
    except requests.Timeout as exc:
        raise NrpsError(f"The roster request to {url} timed out.") from exc
    except requests.RequestException as exc:
        raise NrpsError(f"The roster request to {url} failed: {type(exc).__name__}.") from exc
    if response.status_code >= 300:
        text = (response.text or "").strip()[:MAX_MESSAGE_LENGTH]
        raise NrpsError(
            f"The roster request to {url} failed with HTTP {response.status_code}: "
            f"{text or 'no message'}",
            status_code=response.status_code,
        )
    return response


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _parse_members(response: requests.Response, url: str) -> list[Membership]:
    try:
        body = response.json()
    except ValueError as exc:
        raise NrpsError(
            f"The roster page {url} is not JSON.", status_code=response.status_code
        ) from exc
    raw_members = body.get("members") if isinstance(body, dict) else None
    if not isinstance(raw_members, list):
        raise NrpsError(
            f"The roster page {url} has no members list.", status_code=response.status_code
        )
    members = []
    for item in raw_members:
        if not isinstance(item, dict):
            continue
        user_id = _text(item.get("user_id"))
        if user_id is None:
            continue
        roles = item.get("roles")
        members.append(
            Membership(
                user_id=user_id,
                roles=tuple(role for role in roles or () if isinstance(role, str)),
                status=_text(item.get("status")) or "Active",
                name=_text(item.get("name")),
                given_name=_text(item.get("given_name")),
                family_name=_text(item.get("family_name")),
                email=_text(item.get("email")),
            )
        )
    return members
