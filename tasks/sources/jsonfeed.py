"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), which feedparser does not read."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from tasks.core.kinds import ErrorKind, SourceKind
from tasks.sources import PollContext, RawEntry, Source, SourceRead, collect_entries, join_problems

VERSION_PREFIX = "https://jsonfeed.org/version/"


def _date(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def _author(item: dict, feed: dict) -> str | None:
    """1.1's `authors` list, else 1.0's `author`, of the item, else of the feed."""
    for holder in (item, feed):
        people = holder.get("authors")
        if not isinstance(people, list):
            people = [holder["author"]] if isinstance(holder.get("author"), dict) else []
        names = [p["name"].strip() for p in people if isinstance(p, dict) and isinstance(p.get("name"), str)
                 and p["name"].strip()]
        if names:
            return ", ".join(names)
    return None


def _text(value: object) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # 1.0 allowed numeric ids
    if isinstance(value, str):
        return value.strip() or None
    return None


def parse_json_feed(body: bytes, *, feed_url: str, outlet: str, max_entries: int, now: datetime) -> SourceRead:
    """Entries of a JSON Feed, and the problem if any; a body that is not one is unreadable, 'not_a_feed'."""
    if not body.strip():
        return SourceRead.unreadable(ErrorKind.EMPTY, "the response had no body")
    try:
        feed = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return SourceRead.unreadable(ErrorKind.NOT_A_FEED, f"not JSON ({type(exc).__name__}: {str(exc)[:200]})")
    if not isinstance(feed, dict) or not str(feed.get("version", "")).startswith(VERSION_PREFIX):
        return SourceRead.unreadable(ErrorKind.NOT_A_FEED,
                                     "JSON without a JSON Feed version (https://jsonfeed.org/version/1.1)")
    items = feed.get("items")
    if not isinstance(items, list):
        return SourceRead.unreadable(ErrorKind.NOT_A_FEED, "JSON Feed without an items list")
    problem = None
    usable = [i for i in items if isinstance(i, dict)]
    if len(usable) < len(items):
        problem = f"malformed items: {len(items) - len(usable)} items are not objects"
    raw = (RawEntry(entry_id=_text(i.get("id")), link=_text(i.get("url")) or _text(i.get("external_url")),
                    title=_text(i.get("title")), author=_author(i, feed),
                    published_at=_date(i.get("date_published")) or _date(i.get("date_modified")))
           for i in usable[:max_entries])
    entries, notes = collect_entries(raw, total=len(usable), feed_url=feed_url, outlet=outlet,
                                     max_entries=max_entries, now=now)
    return SourceRead(entries=entries, problem=join_problems(problem, *notes))


class JsonFeedSource(Source):
    kind = SourceKind.JSON
    accept = "application/feed+json, application/json;q=0.9, */*;q=0.5"

    async def read(self, body: bytes, content_type: str | None, ctx: PollContext) -> SourceRead:
        return parse_json_feed(body, feed_url=ctx.feed_url, outlet=ctx.outlet, max_entries=ctx.max_entries,
                               now=ctx.now)
