"""A run's polling step: which feeds are due, poll them concurrently, decide what is new, stage it."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tasks import db, staging, store
from tasks.core import records
from tasks.core.kinds import ErrorKind, QueueStatus
from tasks.core.records import FeedConfig, FeedState, FetchItem, PollResult
from tasks.core.settings import Settings
from tasks.feeds import poll_feed
from tasks.http import make_client
from tasks.schedule import WINDOW

# Runs start on their schedule and poll a moment later: a healthy feed due within this much of the
# run's start is polled now, not a whole schedule interval later. Backoff and Retry-After are kept exactly.
DUE_SLACK = timedelta(seconds=60)


@dataclass
class RunPlan:
    due: list[FeedState]
    not_due: list[FeedState]
    gone: list[FeedState]
    retries: list[FetchItem]


@dataclass
class PollSummary:
    feeds_polled: int = 0
    not_modified: int = 0
    failed: int = 0
    entries_seen: int = 0
    entries_new: int = 0
    new_items: list[FetchItem] = field(default_factory=list)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (outlet, url, error)
    seconds: float = 0.0  # polling, deciding what is new, staging


def plan_run(feeds: list[FeedConfig], settings: Settings, *, force: bool = False,
             now: datetime | None = None) -> RunPlan:
    """Read feed state and due page retries; feeds in backoff, or gone (410), wait."""
    now = now or datetime.now(UTC)
    with db.reader(settings.db_path, wait_seconds=settings.db_wait_seconds) as con:
        states = store.read_feed_states(con)
        retries = [FetchItem(url=r[0], feed_url=r[1], outlet=r[2], feed_title=r[3],
                             feed_published_at=r[4], attempts=r[5], robots_fingerprint=r[6])
                   for r in store.read_due_fetches(con, now=now, max_attempts=settings.max_page_attempts,
                                                   limit=50_000, respect_robots=settings.respect_robots)]
    plan = RunPlan(due=[], not_due=[], gone=[], retries=retries)
    for feed in feeds:
        state = states.get(feed.url)
        if state is None:
            state = FeedState(configured_url=feed.url, url=feed.url, outlet=feed.outlet)
        forced = feed.extra.get("type")
        state = FeedState(**{**state.__dict__, "outlet": feed.outlet, "kind": forced or state.kind,
                             "kind_forced": bool(forced)})
        if state.gone:
            plan.gone.append(state)
        elif (force or state.next_poll_at is None
              or state.next_poll_at <= now + (DUE_SLACK if state.consecutive_failures == 0 else timedelta(0))):
            plan.due.append(state)
        else:
            plan.not_due.append(state)
    return plan


async def _poll_all(states: list[FeedState], settings: Settings, known: records.PollHistory) -> list[PollResult]:
    limit = asyncio.Semaphore(settings.feed_concurrency)

    async def one(state: FeedState, client) -> PollResult:
        async with limit:
            return await poll_feed(client, state, settings, history=known.entries.get(state.url, {}),
                                   children=known.children.get(state.url, []))

    async with make_client(settings, max_connections=settings.feed_concurrency) as client:
        return list(await asyncio.gather(*(one(s, client) for s in states)))


def poll_feeds(states: list[FeedState], settings: Settings) -> PollSummary:
    """Poll every due feed, find the entries wirecopy has not seen, and stage it all."""
    started = time.perf_counter()
    with db.reader(settings.db_path, wait_seconds=settings.db_wait_seconds) as con:
        history = store.read_poll_history(con, [s.url for s in states], since=datetime.now(UTC) - WINDOW)
    results = asyncio.run(_poll_all(states, settings, history)) if states else []
    candidates = list(dict.fromkeys(e.url for r in results for e in r.entries if e.url))
    with db.reader(settings.db_path, wait_seconds=settings.db_wait_seconds) as con:
        known = store.read_known_urls(con, candidates)
    summary = PollSummary()
    rows: dict[str, list[dict]] = {t: [] for t in ("feed_state", "feed_polls", "feed_entries",
                                                   "sitemap_children", "fetch_queue", "page_errors")}
    queued: set[str] = set()
    for r in results:
        new = 0
        for e in r.entries:
            rows["feed_entries"].append(dict(feed_url=r.stored_url, entry_id=e.entry_id, url=e.url,
                                             title=e.title, author=e.author, published_at=e.published_at,
                                             first_seen_at=r.polled_at))
            if e.url is None:
                rows["page_errors"].append(dict(url=e.entry_id, feed_url=r.stored_url,
                                                attempted_at=r.polled_at, kind=ErrorKind.BAD_LINK,
                                                error=e.link_error))
                continue
            if e.url in known or e.url in queued:
                continue
            queued.add(e.url)
            new += 1
            item = FetchItem(url=e.url, feed_url=r.stored_url, outlet=r.outlet, feed_title=e.title,
                             feed_published_at=e.published_at)
            summary.new_items.append(item)
            rows["fetch_queue"].append(item.queue_row(QueueStatus.PENDING, updated_at=r.polled_at))
        rows["feed_polls"].append(dict(feed_url=r.feed_url, polled_at=r.polled_at, status=r.status,
                                       error=r.error, entries_seen=len(r.entries), entries_new=new,
                                       bytes=r.bytes, duration_ms=r.duration_ms, blocked_by=r.blocked_by))
        rows["feed_state"].append(dict(
            configured_url=r.configured_url, url=r.stored_url, outlet=r.outlet, etag=r.etag,
            last_modified=r.last_modified, last_polled_at=r.polled_at, last_status=r.status,
            last_error=r.error, consecutive_failures=r.consecutive_failures,
            next_poll_at=r.next_poll_at, gone=r.gone, kind=r.kind,
            poll_interval_seconds=r.poll_interval_seconds, poll_reason=r.poll_reason))
        rows["sitemap_children"] += [dict(feed_url=r.stored_url, updated_at=r.polled_at, **c.__dict__)
                                     for c in r.children]
        summary.feeds_polled += 1
        summary.entries_seen += len(r.entries)
        summary.entries_new += new
        if r.status == "304":
            summary.not_modified += 1
        if not r.ok:
            summary.failed += 1
            summary.failures.append((r.outlet, r.feed_url, r.error or r.status))
    staging.write_batch(settings.staging_dir, rows)
    summary.seconds = time.perf_counter() - started
    return summary
