"""Polling one feed: conditional GET with httpx, parsing the bytes with feedparser."""
from __future__ import annotations

import asyncio
import calendar
import time
import xml.sax
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import feedparser
import httpx

from tasks.http import FetchFailed, fetch_url, retry_after
from tasks.urls import BadURL, canonicalize_url
from wirecopy.settings import Settings

FUTURE_TOLERANCE = timedelta(days=1)


@dataclass(frozen=True)
class FeedState:
    """What the database remembers of a feed between polls."""

    configured_url: str
    url: str
    outlet: str
    etag: str | None = None
    last_modified: str | None = None
    consecutive_failures: int = 0
    next_poll_at: datetime | None = None
    gone: bool = False


@dataclass(frozen=True)
class FeedEntry:
    feed_url: str
    outlet: str
    entry_id: str
    url: str | None  # canonical link; None when the entry had no usable link
    title: str | None
    author: str | None
    published_at: datetime | None
    link_error: str | None = None


@dataclass
class PollResult:
    configured_url: str
    feed_url: str  # the URL polled
    outlet: str
    polled_at: datetime
    status: str  # HTTP status code, or an error kind such as 'timeout'
    ok: bool
    error: str | None = None
    moved_to: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    bytes: int = 0
    duration_ms: int = 0
    entries: list[FeedEntry] = field(default_factory=list)
    consecutive_failures: int = 0
    next_poll_at: datetime | None = None
    gone: bool = False

    @property
    def stored_url(self) -> str:
        return self.moved_to or self.feed_url


def _entry_datetime(entry: dict, now: datetime) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                when = datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
            except (OverflowError, ValueError, OSError):
                continue
            return None if when > now + FUTURE_TOLERANCE else when
    return None


def _entry_link(entry: dict) -> str | None:
    if entry.get("link"):
        return entry["link"]
    for link in entry.get("links", []) or []:
        if link.get("href") and link.get("rel", "alternate") == "alternate":
            return link["href"]
    return None


def parse_feed(body: bytes, *, feed_url: str, outlet: str, content_type: str | None,
               max_entries: int, now: datetime) -> tuple[list[FeedEntry], str | None]:
    """Entries feedparser could read, and the parse problem if any (a bozo feed still yields entries)."""
    if not body.strip():
        return [], "empty: the response had no body"
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False,
                              resolve_relative_uris=False)
    problem = None
    exc = parsed.get("bozo_exception") if parsed.bozo else None
    if parsed.bozo:
        problem = f"{type(exc).__name__}: {exc}" if exc else "malformed feed"
    # No entry, and not even well-formed XML (garbage that happens to contain "<rss"): not a feed.
    if not parsed.entries and (not parsed.get("version") or isinstance(exc, xml.sax.SAXException)):
        return [], f"not_a_feed: no RSS/Atom entries could be read ({problem or 'unknown format'})"
    entries: list[FeedEntry] = []
    seen: set[str] = set()
    links: set[str] = set()
    reused = 0
    for raw in parsed.entries[:max_entries]:
        link, link_error = _entry_link(raw), None
        url = None
        if link:
            try:
                url = canonicalize_url(link, base=feed_url)
            except BadURL as exc:
                link_error = str(exc)
        else:
            link_error = "entry has no link"
        entry_id = (raw.get("id") or "").strip() or url
        if not entry_id:
            entry_id = "title:" + (raw.get("title") or "")[:200]
        if entry_id in seen and url and url not in links:
            # A guid already used for another link (CMSs that give every item the same guid):
            # the link is new, so it is an entry of its own, identified by the link.
            entry_id, reused = url, reused + 1
        if entry_id in seen:
            continue
        seen.add(entry_id)
        if url:
            links.add(url)
        entries.append(FeedEntry(
            feed_url=feed_url, outlet=outlet, entry_id=entry_id[:2000], url=url,
            title=(raw.get("title") or None), author=(raw.get("author") or None),
            published_at=_entry_datetime(raw, now), link_error=link_error))
    if reused:
        note = (f"duplicate guid: {reused} more entries carry a guid already used for another link; "
                "identified by their link")
        problem = f"{problem}; {note}" if problem else note
    if len(parsed.entries) > max_entries:
        note = f"truncated: {len(parsed.entries)} entries, kept the first {max_entries}"
        problem = f"{problem}; {note}" if problem else note
    return entries, problem


def backoff_delay(failures: int, settings: Settings) -> timedelta:
    """Exponential backoff after consecutive failures: base, 2x base, 4x base... capped."""
    seconds = settings.backoff_base_seconds * (2 ** max(failures - 1, 0))
    return timedelta(seconds=min(seconds, settings.backoff_max_seconds))


async def poll_feed(client: httpx.AsyncClient, state: FeedState, settings: Settings,
                    now: datetime | None = None) -> PollResult:
    """One conditional GET and parse; every outcome is a PollResult, never an exception."""
    now = now or datetime.now(timezone.utc)
    started = time.monotonic()
    result = PollResult(configured_url=state.configured_url, feed_url=state.url, outlet=state.outlet,
                        polled_at=now, status="", ok=False, etag=state.etag,
                        last_modified=state.last_modified)
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/rdf+xml, "
                         "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    delay_until: datetime | None = None
    try:
        response = await fetch_url(client, state.url, settings, max_bytes=settings.feed_max_bytes,
                                   headers=headers, allowed_host=state.url)
    except FetchFailed as exc:
        result.status, result.error = exc.kind, str(exc)
    else:
        result.status = str(response.status)
        result.moved_to = response.moved_permanently_to
        result.bytes = len(response.body)
        if response.status == 304:
            result.ok = True
        elif 200 <= response.status < 300:
            result.etag = response.headers.get("etag") or None
            result.last_modified = response.headers.get("last-modified") or None
            # feedparser is pure Python and takes seconds on a large feed: off the event loop, or
            # every other feed in flight misses its time bound while this one parses.
            entries, problem = await asyncio.to_thread(
                parse_feed, response.body, feed_url=result.stored_url, outlet=state.outlet,
                content_type=response.headers.get("content-type"),
                max_entries=settings.max_entries_per_feed, now=now)
            result.entries, result.error = entries, problem
            result.ok = bool(entries) or problem is None
            if not result.ok and problem:
                result.status = problem.split(":", 1)[0]
        else:
            result.error = f"HTTP {response.status}"
            result.gone = response.status == 410
            if response.status in (429, 503):
                delay_until = retry_after(response.headers, now, settings.backoff_max_seconds)
    result.duration_ms = int((time.monotonic() - started) * 1000)
    if result.ok:
        result.consecutive_failures = 0
        result.next_poll_at = now
    else:
        result.consecutive_failures = state.consecutive_failures + 1
        result.next_poll_at = delay_until or now + backoff_delay(result.consecutive_failures, settings)
    return result
