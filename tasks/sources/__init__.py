"""What a feed URL can be: RSS/Atom/RDF, JSON Feed, or a news sitemap (or sitemap index).

Each kind is one module with one `Source`: given the body a poll read, it returns the entries.
Fetching, validators, backoff and scheduling are shared (tasks/feeds.py), so every kind is polled
with the same conditional GET and its entries take the same way into the fetch queue.
"""
from __future__ import annotations

import re
import zlib
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from tasks.core.kinds import ErrorKind, SourceKind
from tasks.core.records import ChildSitemap, FeedEntry
from tasks.http import HttpResult
from tasks.urls import BadURL, canonicalize_url

FUTURE_TOLERANCE = timedelta(days=1)


@dataclass(frozen=True)
class RawEntry:
    """An entry as a source module read it, before links are canonicalised and ids settled."""

    entry_id: str | None
    link: str | None
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None


Fetch = Callable[[str, dict[str, str]], Awaitable[HttpResult]]


@dataclass
class PollContext:
    """What a source may use beyond the body: limits, the clock, and a fetch for the documents
    a feed points to (a sitemap index's children), bounded and address-checked like the feed."""

    feed_url: str
    outlet: str
    now: datetime
    max_entries: int
    max_bytes: int
    recent: timedelta  # a sitemap entry or child dated before now - recent holds no new article
    fetch: Fetch
    children: list[ChildSitemap] = field(default_factory=list)


@dataclass
class SourceRead:
    entries: list[FeedEntry]
    problem: str | None = None  # what went wrong while reading, for people
    problem_kind: ErrorKind | None = None  # why nothing could be read: the poll failed, with this status
    children: list[ChildSitemap] = field(default_factory=list)  # a sitemap index's children, to store

    @classmethod
    def unreadable(cls, kind: ErrorKind, detail: str) -> SourceRead:
        """Nothing could be read: the poll fails with this kind, which the message names first."""
        return cls(entries=[], problem=f"{kind}: {detail}", problem_kind=kind)

    @property
    def readable(self) -> bool:
        """The body was read as this kind: its validators may be kept."""
        return self.problem_kind is None


class Source(ABC):
    """One kind of feed: how to ask for it and how to read it."""

    kind: ClassVar[SourceKind]
    accept: ClassVar[str]  # the Accept header of a poll

    @abstractmethod
    async def read(self, body: bytes, content_type: str | None, ctx: PollContext) -> SourceRead:
        """Entries of a body the feed URL answered with 200."""

    async def unchanged(self, ctx: PollContext) -> SourceRead:
        """The feed URL answered 304: nothing new, unless it points to documents of its own."""
        return SourceRead(entries=[], children=ctx.children)


def source_for(kind: SourceKind | str) -> Source:
    from tasks.sources import jsonfeed, rss, sitemap

    sources: dict[SourceKind, type[Source]] = {SourceKind.RSS: rss.RssSource, SourceKind.JSON: jsonfeed.JsonFeedSource,
                                               SourceKind.SITEMAP: sitemap.SitemapSource}
    return sources[SourceKind(kind)]()


ANY_KIND_ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, "
                   "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5")
_PROLOG = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>|\s)*", re.DOTALL)
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
_ROOTS = {b"rss": SourceKind.RSS, b"RDF": SourceKind.RSS, b"feed": SourceKind.RSS,
          b"urlset": SourceKind.SITEMAP, b"sitemapindex": SourceKind.SITEMAP}
_SNIFF_BYTES = 64 * 1024


def xml_root(body: bytes) -> bytes | None:
    """The local name of the first element, read past the XML declaration, comments and doctype."""
    head = body[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf")
    start = _PROLOG.match(head)
    match = _ROOT.match(head, start.end() if start else 0)
    return match.group(2) if match else None


def detect_kind(body: bytes, content_type: str | None) -> SourceKind | None:
    """The kind of a feed body, from its root element (XML) or its JSON Feed version, else its type."""
    if body[:2] == b"\x1f\x8b":  # a gzipped sitemap served as a file, not as Content-Encoding
        try:
            body = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body[:_SNIFF_BYTES], _SNIFF_BYTES)
        except zlib.error:
            return None
    head = body[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if head.startswith(b"{"):
        if b"jsonfeed.org/version" in head or mime == "application/feed+json":
            return SourceKind.JSON
        return None
    root = xml_root(head)
    if root is not None:
        return _ROOTS.get(root)
    return None


def _clamp_future(when: datetime | None, now: datetime) -> datetime | None:
    """A date more than a day ahead is a feed's mistake: dropped, not trusted."""
    return None if when is None or when > now + FUTURE_TOLERANCE else when


def collect_entries(raw: Iterable[RawEntry], *, total: int, feed_url: str, outlet: str, max_entries: int,
                    now: datetime) -> tuple[list[FeedEntry], list[str]]:
    """Entries with canonical links and settled ids, and notes on what was odd (reused ids, truncation).

    `raw` yields at most `max_entries` entries in feed order; `total` is how many the feed listed.
    """
    entries: list[FeedEntry] = []
    seen: set[str] = set()
    links: set[str] = set()
    reused = 0
    for item in raw:
        url, link_error = None, None
        if item.link:
            try:
                url = canonicalize_url(item.link, base=feed_url)
            except BadURL as exc:
                link_error = str(exc)
        else:
            link_error = "entry has no link"
        entry_id = (item.entry_id or "").strip() or url
        if not entry_id:
            entry_id = "title:" + (item.title or "")[:200]
        if entry_id in seen and url and url not in links:
            # An id already used for another link (CMSs that give every item the same guid):
            # the link is new, so it is an entry of its own, identified by the link.
            entry_id, reused = url, reused + 1
        if entry_id in seen:
            continue
        seen.add(entry_id)
        if url:
            links.add(url)
        entries.append(FeedEntry(
            feed_url=feed_url, outlet=outlet, entry_id=entry_id[:2000], url=url, title=item.title or None,
            author=item.author or None, published_at=_clamp_future(item.published_at, now),
            link_error=link_error))
    notes = []
    if reused:
        notes.append(f"duplicate guid: {reused} more entries carry a guid already used for another link; "
                     "identified by their link")
    if total > max_entries:
        notes.append(f"truncated: {total} entries, kept the first {max_entries}")
    return entries, notes


def join_problems(*problems: str | None) -> str | None:
    found = [p for p in problems if p]
    return "; ".join(found) if found else None
