"""The Deep Linking 2.0 response: the signed message that returns content items to the LMS.

pylti1p3's ``DeepLink`` and ``DeepLinkResource`` build the message; this module adds what
they leave out (the user message and error message claims, the link's availability and
submission window) and signs with the tool's current key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from pylti1p3.registration import Registration as LibraryRegistration

from ..keys.service import SigningKey

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
CONTENT_ITEMS = DL + "content_items"
DATA = DL + "data"
MSG = DL + "msg"
ERRORMSG = DL + "errormsg"
LOG = DL + "log"
ERRORLOG = DL + "errorlog"
LTI_RESOURCE_LINK = "ltiResourceLink"


class DeepLinkingError(ValueError):
    """The deep-linking request cannot take the content item that the tool would return."""


@dataclass(frozen=True)
class DeepLinkingSettings:
    """The request's ``deep_linking_settings`` claim, read defensively."""

    return_url: str
    accept_types: tuple[str, ...]
    accept_multiple: bool
    # Absent means the platform did not say; the spec then lets the tool send a lineItem.
    accept_lineitem: bool
    has_data: bool
    data: Any = None
    title: str | None = None

    @classmethod
    def from_claim(cls, claim: dict[str, Any]) -> DeepLinkingSettings:
        return_url = claim.get("deep_link_return_url")
        if not isinstance(return_url, str) or not return_url:
            raise DeepLinkingError(
                "The deep-linking request has no deep_link_return_url, so there is nowhere "
                "to send the selection."
            )
        accept_types = claim.get("accept_types")
        types = (
            tuple(t for t in accept_types if isinstance(t, str))
            if isinstance(accept_types, list)
            else ()
        )
        return cls(
            return_url=return_url,
            accept_types=types,
            accept_multiple=_flag(claim.get("accept_multiple"), default=True),
            accept_lineitem=_flag(claim.get("accept_lineitem"), default=True),
            has_data="data" in claim,
            data=claim.get("data"),
            title=claim.get("title") if isinstance(claim.get("title"), str) else None,
        )

    @property
    def accepts_resource_links(self) -> bool:
        return LTI_RESOURCE_LINK in self.accept_types


def _flag(value: Any, *, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() == "true"
    return default


@dataclass(frozen=True)
class ResourceLinkItem:
    """One ``ltiResourceLink`` content item."""

    title: str
    url: str
    custom: dict[str, str]
    text: str | None = None
    # lineItem fields; score_maximum None means the link carries no line item.
    score_maximum: float | None = None
    label: str | None = None
    resource_id: str | None = None
    tag: str | None = None
    available_from: datetime | None = None
    submission_due: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class _ResourceLink(DeepLinkResource):
    """pylti1p3's resource with the optional fields the library does not write."""

    def __init__(self, item: ResourceLinkItem) -> None:
        self._item = item

    def to_dict(self) -> dict[str, object]:
        result = super().to_dict()
        if self._item.text:
            result["text"] = self._item.text
        if self._item.available_from:
            result["available"] = {"startDateTime": _iso(self._item.available_from)}
        if self._item.submission_due:
            result["submission"] = {"endDateTime": _iso(self._item.submission_due)}
        result.update(self._item.extra)
        return result


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("deep-linking dates need a timezone offset")
    return moment.isoformat(timespec="seconds")


class _SigningRegistration(LibraryRegistration):
    """pylti1p3's registration, holding our key id, which it would otherwise not know."""

    def __init__(self, issuer: str, client_id: str, key: SigningKey) -> None:
        super().__init__()
        self.set_issuer(issuer)
        self.set_client_id(client_id)
        self.set_tool_private_key(key.private_pem.decode())
        self._kid = key.kid

    def get_kid(self) -> str:
        return self._kid


def _resource(item: ResourceLinkItem, with_line_item: bool) -> DeepLinkResource:
    resource = _ResourceLink(item).set_title(item.title).set_url(item.url)
    resource.set_custom_params(dict(item.custom))
    if with_line_item and item.score_maximum is not None:
        line_item = LineItem().set_score_maximum(item.score_maximum)
        if item.label:
            line_item.set_label(item.label)
        if item.resource_id:
            line_item.set_resource_id(item.resource_id)
        if item.tag:
            line_item.set_tag(item.tag)
        resource.set_lineitem(line_item)
    return resource


def build_response_jwt(
    *,
    issuer: str,
    client_id: str,
    deployment_id: str,
    settings: DeepLinkingSettings,
    key: SigningKey,
    items: list[ResourceLinkItem],
    message: str | None = None,
    error_message: str | None = None,
    log: str | None = None,
) -> str:
    """Sign the ``LtiDeepLinkingResponse`` for ``items`` (empty when the user cancelled).

    The request's ``data`` is echoed unchanged, and only when the request had it. Items are
    checked against ``accept_types`` and ``accept_multiple``, and line items are left out
    when ``accept_lineitem`` is false.
    """
    if items and not settings.accepts_resource_links:
        raise DeepLinkingError(
            "This place in the LMS does not accept LTI resource links "
            f"(it accepts: {', '.join(settings.accept_types) or 'nothing'})."
        )
    if len(items) > 1 and not settings.accept_multiple:
        raise DeepLinkingError("This place in the LMS accepts only one item at a time.")

    registration = _SigningRegistration(issuer, client_id, key)
    deep_link = DeepLink(
        registration,
        deployment_id,
        {
            "deep_link_return_url": settings.return_url,
            "data": settings.data,
        },
    )
    resources = [_resource(item, settings.accept_lineitem) for item in items]
    body = deep_link.get_message_jwt(resources)
    if not settings.has_data:
        body.pop(DATA, None)
    for claim, value in ((MSG, message), (ERRORMSG, error_message), (LOG, log)):
        if value:
            body[claim] = value
    return deep_link.encode_jwt(body)
