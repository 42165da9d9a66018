"""Canonical article URLs: the key that makes every load idempotent."""
from __future__ import annotations

import hashlib
from urllib.parse import urljoin, urlsplit, urlunsplit

import courlan

ALLOWED_SCHEMES = ("http", "https")


class BadURL(ValueError):
    """A link wirecopy will not follow (not http/https, or unparseable)."""


def canonicalize_url(url: str, base: str | None = None) -> str:
    """Absolute, normalised, without fragment or tracking parameters (utm_*, fbclid, ref=rss...)."""
    url = (url or "").strip()
    if not url:
        raise BadURL("empty link")
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise BadURL(f"scheme {parts.scheme or '(none)'!r} is not http or https: {url[:200]}")
    if not parts.hostname:
        raise BadURL(f"no host in link: {url[:200]}")
    try:
        normalized = courlan.normalize_url(url, strict=False)
    except ValueError as exc:
        raise BadURL(f"unparseable link {url[:200]}: {exc}") from None
    return urlunsplit(urlsplit(normalized)._replace(fragment=""))


def article_id_for(url: str) -> str:
    """Stable id derived from the canonical URL, so re-ingesting gives the same key."""
    return hashlib.sha1(url.encode("utf-8")).hexdigest()[:20]
