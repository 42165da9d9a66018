"""Polling one feed: conditional GET with httpx; the body is read by the module of its kind (tasks/sources/)."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx

from tasks.botwall import CHALLENGE_STATUSES, challenge_vendor
from tasks.core.errors import FetchFailed
from tasks.core.kinds import ErrorKind, SourceKind
from tasks.core.records import ChildSitemap, FeedState, PollResult
from tasks.core.settings import Settings
from tasks.http import HttpResult, fetch_url, retry_after
from tasks.schedule import PollSchedule, backoff_delay, describe_interval, entry_frequency
from tasks.sources import ANY_KIND_ACCEPT, PollContext, SourceRead, detect_kind, source_for

READ_BODY_FOR = frozenset(range(200, 300)) | CHALLENGE_STATUSES


def _context(client: httpx.AsyncClient, state: FeedState, settings: Settings, feed_url: str, now: datetime,
             children: list[ChildSitemap]) -> PollContext:
    async def fetch(url: str, headers: dict[str, str]) -> HttpResult:
        return await fetch_url(client, url, settings, max_bytes=settings.feed_max_bytes, headers=headers,
                               allowed_host=state.url)

    return PollContext(feed_url=feed_url, outlet=state.outlet, now=now, max_entries=settings.max_entries_per_feed,
                       max_bytes=settings.feed_max_bytes, recent=timedelta(days=settings.sitemap_recent_days),
                       fetch=fetch, children=children)


def _read_as(state: FeedState, response: HttpResult) -> SourceKind:
    """The forced kind, else the detected one; a body of no known shape goes to feedparser, which
    reads much that is broken (a PHP warning before <rss>) and says 'not_a_feed' of the rest."""
    if state.kind_forced and state.kind:
        return SourceKind(state.kind)
    return detect_kind(response.body, response.headers.get("content-type")) or SourceKind.RSS


async def poll_feed(client: httpx.AsyncClient, state: FeedState, settings: Settings, now: datetime | None = None,
                    *, history: dict[str, datetime] | None = None,
                    children: list[ChildSitemap] | None = None) -> PollResult:
    """One conditional GET and read; every outcome is a PollResult, never an exception.

    `history` maps the ids of the feed's entries of the last week to when each appeared; with
    this poll's entries it sets the next poll (tasks/schedule.py). `children` are a sitemap
    index's children as stored.
    """
    now = now or datetime.now(UTC)
    started = time.monotonic()
    result = PollResult(configured_url=state.configured_url, feed_url=state.url, outlet=state.outlet,
                        polled_at=now, status="", ok=False, etag=state.etag,
                        last_modified=state.last_modified, kind=state.kind, children=list(children or []))
    headers = {"Accept": source_for(state.kind).accept if state.kind else ANY_KIND_ACCEPT}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    delay_until: datetime | None = None
    try:
        response = await fetch_url(client, state.url, settings, max_bytes=settings.feed_max_bytes,
                                   headers=headers, allowed_host=state.url, read_body_for=READ_BODY_FOR)
    except FetchFailed as exc:
        result.status, result.error = exc.kind, str(exc)
    else:
        result.status = str(response.status)
        result.moved_to = response.moved_permanently_to
        result.bytes = len(response.body)
        ctx = _context(client, state, settings, result.stored_url, now, result.children)
        read: SourceRead | None = None
        if response.status == 304:
            result.ok = True
            if state.kind:
                read = await source_for(state.kind).unchanged(ctx)
        elif 200 <= response.status < 300:
            kind = _read_as(state, response)
            read = await source_for(kind).read(response.body, response.headers.get("content-type"), ctx)
            if read.readable:
                result.kind = kind
            result.ok = read.readable
            if read.problem_kind is not None:  # nothing could be read: the poll failed, and why
                result.status = read.problem_kind
            else:  # validators only from a response that was read: a 304 must mean "seen"
                result.etag = response.headers.get("etag") or None
                result.last_modified = response.headers.get("last-modified") or None
        elif vendor := challenge_vendor(response.status, response.headers, response.body):
            result.status, result.blocked_by = ErrorKind.BLOCKED, vendor
            result.error = f"blocked by {vendor}: a challenge page answered HTTP {response.status}"
            if response.status in (429, 503):
                delay_until = retry_after(response.headers, now, settings.backoff_max_seconds)
        else:
            result.error = f"HTTP {response.status}"
            result.gone = response.status == 410
            if response.status in (429, 503):
                delay_until = retry_after(response.headers, now, settings.backoff_max_seconds)
        if read is not None:
            result.entries, result.children = read.entries, read.children
            if read.problem:
                result.error = read.problem
    result.duration_ms = int((time.monotonic() - started) * 1000)
    schedule = _schedule(result, state, settings, now, history or {}, delay_until)
    result.next_poll_at = now + schedule.interval
    result.poll_interval_seconds, result.poll_reason = schedule.interval.total_seconds(), schedule.reason
    return result


def _schedule(result: PollResult, state: FeedState, settings: Settings, now: datetime,
              history: dict[str, datetime], delay_until: datetime | None) -> PollSchedule:
    """Entry frequency after a poll that was read; backoff or Retry-After after a failure."""
    if result.ok:
        result.consecutive_failures = 0
        times = dict(history)
        for entry in result.entries:
            times.setdefault(entry.entry_id, min(entry.published_at or now, now))
        return entry_frequency(times.values(), now, shortest=timedelta(seconds=settings.poll_min_seconds),
                               longest=timedelta(seconds=settings.poll_max_seconds))
    result.consecutive_failures = state.consecutive_failures + 1
    what = f"blocked by {result.blocked_by}" if result.blocked_by else f"{result.consecutive_failures} failures"
    if delay_until is not None:
        return PollSchedule(delay_until - now, f"Retry-After: asked to wait {describe_interval(delay_until - now)}")
    wait = backoff_delay(result.consecutive_failures, settings)
    return PollSchedule(wait, f"backoff after {what}: {describe_interval(wait)}")
