"""Absolute URLs of the tool, as platforms must see them."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request, url_for


def tool_base_url() -> str:
    """Return the public base URL without a trailing slash.

    ILP_BASE_URL wins; without it the URL comes from the request, which is right only when
    the proxy in front of the tool passes the original host and scheme (ILP_PROXY_HOPS).
    """
    configured = current_app.config["ILP_SETTINGS"].base_url
    if configured:
        return configured.rstrip("/")
    return request.host_url.rstrip("/")


def external_url(endpoint: str, **values) -> str:
    return tool_base_url() + url_for(endpoint, **values)


def is_tool_url(url: str) -> bool:
    """True when ``url`` points at this tool, so redirecting to it is safe."""
    base = urlsplit(tool_base_url())
    target = urlsplit(url)
    return (target.scheme, target.netloc) == (base.scheme, base.netloc)
