"""RSS 0.9x/1.0 (RDF)/2.0 and Atom, read by feedparser from the bytes httpx fetched."""
from __future__ import annotations

import asyncio
import calendar
import xml.sax
from datetime import UTC, datetime

import feedparser

from tasks.core.kinds import ErrorKind, SourceKind
from tasks.sources import PollContext, RawEntry, Source, SourceRead, collect_entries, join_problems


def _entry_datetime(entry: dict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _entry_link(entry: dict) -> str | None:
    if entry.get("link"):
        return entry["link"]
    for link in entry.get("links", []) or []:
        if link.get("href") and link.get("rel", "alternate") == "alternate":
            return link["href"]
    return None


def parse_feed(body: bytes, *, feed_url: str, outlet: str, content_type: str | None,
               max_entries: int, now: datetime) -> SourceRead:
    """Entries feedparser could read, and the parse problem if any (a bozo feed still yields entries)."""
    if not body.strip():
        return SourceRead.unreadable(ErrorKind.EMPTY, "the response had no body")
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False,
                              resolve_relative_uris=False)
    problem = None
    exc = parsed.get("bozo_exception") if parsed.bozo else None
    if parsed.bozo:
        problem = f"{type(exc).__name__}: {exc}" if exc else "malformed feed"
    # No entry, and not even well-formed XML (garbage that happens to contain "<rss"): not a feed.
    if not parsed.entries and (not parsed.get("version") or isinstance(exc, xml.sax.SAXException)):
        return SourceRead.unreadable(ErrorKind.NOT_A_FEED,
                                     f"no RSS/Atom entries could be read ({problem or 'unknown format'})")
    raw = (RawEntry(entry_id=e.get("id"), link=_entry_link(e), title=e.get("title"), author=e.get("author"),
                    published_at=_entry_datetime(e)) for e in parsed.entries[:max_entries])
    entries, notes = collect_entries(raw, total=len(parsed.entries), feed_url=feed_url, outlet=outlet,
                                     max_entries=max_entries, now=now)
    problem = join_problems(problem, *notes)
    # A feed, but what was said of it left no entry (a bozo channel, served as text/html): not read.
    return SourceRead(entries=entries, problem=problem,
                      problem_kind=ErrorKind.MALFORMED if problem and not entries else None)


class RssSource(Source):
    kind = SourceKind.RSS
    accept = ("application/rss+xml, application/atom+xml, application/rdf+xml, "
              "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")

    async def read(self, body: bytes, content_type: str | None, ctx: PollContext) -> SourceRead:
        # feedparser is pure Python and takes seconds on a large feed: off the event loop, or
        # every other feed in flight misses its time bound while this one parses.
        return await asyncio.to_thread(
            parse_feed, body, feed_url=ctx.feed_url, outlet=ctx.outlet, content_type=content_type,
            max_entries=ctx.max_entries, now=ctx.now)
