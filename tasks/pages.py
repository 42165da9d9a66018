"""Fetching a batch of article pages and building its rows: I/O on an event loop, extraction on
the extraction pool (tasks/extract_pool.py).

One call handles a batch (about 50 pages) so Prefect sees one task run per batch, not per page,
and stages its results as one batch for the writer.
"""
from __future__ import annotations

import asyncio
import threading
import time
import zlib
from collections import defaultdict
from datetime import UTC, datetime
from urllib.parse import urlsplit

from tasks.botwall import CHALLENGE_STATUSES, challenge_vendor
from tasks.core.errors import ExtractCrash, ExtractTimeout, FetchFailed
from tasks.core.kinds import ErrorKind, QueueStatus, http_error_kind, is_permanent
from tasks.core.records import BatchResult, BatchSummary, FetchItem
from tasks.core.settings import Settings
from tasks.extract_pool import extract_in_pool, extract_page
from tasks.http import fetch_url, make_client, retry_after
from tasks.politeness import Politeness, RobotsRecord, Verdict
from tasks.schedule import backoff_delay
from tasks.urls import article_id_for

HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")
READ_BODY_FOR = frozenset({200}) | CHALLENGE_STATUSES  # a challenge page is recognised by its body


def article_row(item: FetchItem, article: dict, fetched_at: datetime) -> dict:
    """An `articles` row from what the feed said and what extraction found."""
    return dict(article_id=article_id_for(item.url), url=item.url, outlet=item.outlet,
                feed_url=item.feed_url, fetched_at=fetched_at, extracted_at=datetime.now(UTC),
                **{k: article[k] for k in ("title", "authors", "published_at", "text", "language",
                                           "wire_service", "site_name", "description", "page_url",
                                           "cleaning_emptied")})


def _is_html(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() in HTML_TYPES


class _BatchRows:
    """Rows for the staging batch, built as pages complete."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self.summary = BatchSummary()

    def failed(self, item: FetchItem, kind: str, message: str, when: datetime,
               not_before: datetime | None = None, blocked_by: str | None = None) -> datetime | None:
        """A failed attempt of this kind (an ErrorKind, or http_error_kind): refused for good when
        the kind is permanent or after max_page_attempts, else retried after exponential backoff, or
        after the site's Retry-After (`not_before`) when that is later."""
        attempts = item.attempts + 1
        permanent = is_permanent(kind) or attempts >= self.settings.max_page_attempts
        next_at = when + backoff_delay(attempts, self.settings)
        if not_before is not None:
            next_at = max(next_at, not_before)
        self.rows["page_errors"].append(dict(url=item.url, feed_url=item.feed_url, attempted_at=when,
                                             kind=kind, error=message[:2000], blocked_by=blocked_by))
        self.rows["fetch_queue"].append(item.queue_row(
            QueueStatus.REFUSED if permanent else QueueStatus.FAILED, attempts=attempts, error=message[:2000],
            attempted_at=when, next_attempt_at=None if permanent else next_at))
        self.summary.pages_failed += 1
        self.summary.errors[kind] = self.summary.errors.get(kind, 0) + 1
        return None if permanent else next_at

    def disallowed(self, item: FetchItem, fingerprint: str, reason: str) -> None:
        """robots.txt disallows it: not fetched, not retried until that robots.txt changes. A page
        checked again under the same robots.txt is left as it was."""
        self.summary.pages_disallowed += 1
        if item.robots_fingerprint == fingerprint:
            return
        when = datetime.now(UTC)
        self.rows["page_errors"].append(dict(url=item.url, feed_url=item.feed_url, attempted_at=when,
                                             kind=ErrorKind.ROBOTS, error=reason[:2000], blocked_by=None))
        self.rows["fetch_queue"].append(item.queue_row(QueueStatus.DISALLOWED, error=reason[:2000],
                                                       attempted_at=when, robots_fingerprint=fingerprint))
        self.summary.errors[ErrorKind.ROBOTS] = self.summary.errors.get(ErrorKind.ROBOTS, 0) + 1

    def deferred(self, item: FetchItem, until: datetime, reason: str) -> None:
        """Not attempted: its host asked us to wait. Stays pending, no attempt counted."""
        self.rows["fetch_queue"].append(item.queue_row(
            QueueStatus.PENDING, error=reason[:2000], attempted_at=datetime.now(UTC),
            next_attempt_at=until))
        self.summary.pages_deferred += 1

    def fetched(self, item: FetchItem, final_url: str, status: int, content_type: str | None,
                when: datetime, size: int, compressed: bytes) -> None:
        self.rows["raw_pages"].append(dict(url=item.url, final_url=final_url, http_status=status,
                                           content_type=content_type, fetched_at=when, bytes=size,
                                           body_zlib=compressed))
        self.summary.pages_fetched += 1

    def extracted(self, item: FetchItem, article: dict, when: datetime) -> None:
        self.rows["articles"].append(article_row(item, article, when))
        if article["cleaning_emptied"]:  # kept as an article; the reason stays on record
            self.rows["page_errors"].append(dict(
                url=item.url, feed_url=item.feed_url, attempted_at=when, kind=ErrorKind.CLEANING_EMPTIED,
                error="cleaning removed every line extraction found; stored what extraction found"))
        self.rows["fetch_queue"].append(item.queue_row(QueueStatus.DONE, attempts=item.attempts + 1,
                                                       attempted_at=when))
        self.summary.articles += 1


class _HostWaits:
    """Sites (host:port) that answered 429/503 with Retry-After, and until when: shared by the
    batches that run in this process (threads), so none of them asks such a site again before then."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until: dict[str, tuple[datetime, str]] = {}

    def get(self, site: str, now: datetime) -> tuple[datetime, str] | None:
        with self._lock:
            wait = self._until.get(site)
            if wait is not None and wait[0] <= now:
                del self._until[site]
                return None
            return wait

    def put(self, site: str, until: datetime, reason: str) -> None:
        with self._lock:
            if site not in self._until or self._until[site][0] < until:
                self._until[site] = (until, reason)


_HOST_WAITS = _HostWaits()


async def _process_batch(items: list[FetchItem], settings: Settings,
                         robots: dict[str, RobotsRecord] | None = None) -> _BatchRows:
    out = _BatchRows(settings)
    overall = asyncio.Semaphore(settings.page_concurrency)
    per_host: dict[str, asyncio.Semaphore] = defaultdict(
        lambda: asyncio.Semaphore(settings.per_host_concurrency))
    polite = Politeness(settings, known=robots or {})

    async def one(item: FetchItem, client) -> None:
        parts = urlsplit(item.url)
        host, site = parts.hostname or "", parts.netloc
        try:
            async with per_host[host]:
                if wait := _HOST_WAITS.get(site, datetime.now(UTC)):
                    out.deferred(item, *wait)
                    return
                admission = await polite.admit(client, item.url, item.feed_url)
                if admission.verdict is Verdict.DISALLOWED:
                    out.disallowed(item, admission.fingerprint or "", admission.reason)
                    return
                if admission.verdict is Verdict.UNREACHABLE:
                    out.failed(item, admission.kind, admission.reason, datetime.now(UTC))
                    return
                if (later := await polite.pace(item.url)) is not None:
                    out.deferred(item, later, f"{host} is paced at one request every "
                                              f"{polite.crawl_delay(item.url):g}s; left for a later run")
                    return
                async with overall:
                    when = datetime.now(UTC)
                    started = time.perf_counter()
                    try:
                        response = await _fetch_with_retry(client, item, settings)
                    finally:
                        out.summary.fetch_seconds += time.perf_counter() - started
        except FetchFailed as exc:
            out.failed(item, exc.kind, str(exc), when)
            return
        if vendor := challenge_vendor(response.status, response.headers, response.body):
            not_before = retry_after(response.headers, when, settings.backoff_max_seconds)
            next_at = out.failed(item, ErrorKind.BLOCKED, f"blocked by {vendor}: a challenge page answered "
                                 f"HTTP {response.status}", when, not_before=not_before, blocked_by=vendor)
            if next_at is not None:  # the site's other pages would meet the same wall: they wait too
                _HOST_WAITS.put(site, next_at, f"{site} answered with a {vendor} challenge; "
                                               f"its pages wait until {next_at:%Y-%m-%d %H:%M:%S}Z")
            return
        if response.status != 200:
            not_before = None
            if response.status in (429, 503):
                not_before = retry_after(response.headers, when, settings.backoff_max_seconds)
                if not_before is not None:
                    _HOST_WAITS.put(site, not_before, f"{site} answered HTTP {response.status} with "
                                                      f"Retry-After until {not_before:%Y-%m-%d %H:%M:%S}Z")
            out.failed(item, http_error_kind(response.status), f"HTTP {response.status}", when,
                       not_before=not_before)
            return
        content_type = response.headers.get("content-type")
        if not _is_html(content_type):
            out.failed(item, ErrorKind.NOT_HTML, f"not an HTML page: {content_type}", when)
            return
        args = (response.body, item.url, item.feed_title, item.feed_published_at)
        try:
            compressed, article, error, seconds = await extract_in_pool(extract_page, args, settings)
        except ExtractTimeout as exc:
            out.summary.extract_seconds += settings.extract_timeout
            compressed = await asyncio.to_thread(zlib.compress, response.body, 1)
            out.fetched(item, response.final_url, response.status, content_type, when,
                        len(response.body), compressed)
            out.failed(item, ErrorKind.EXTRACT_TIMEOUT, str(exc), when)
            return
        except ExtractCrash as exc:
            out.failed(item, ErrorKind.EXTRACT_CRASH, str(exc), when)
            return
        out.summary.extract_seconds += seconds
        out.fetched(item, response.final_url, response.status, content_type, when,
                    len(response.body), compressed)
        if article is None:
            out.failed(item, ErrorKind.EXTRACT, error or "no article text", when)
        else:
            out.extracted(item, article, when)

    async with make_client(settings, max_connections=settings.page_concurrency) as client:
        await asyncio.gather(*(one(item, client) for item in items))
    out.rows["robots_txt"] = [record.row() for record in polite.fetched]
    return out


async def _fetch_with_retry(client, item: FetchItem, settings: Settings):
    """One quick retry for a dropped connection or a 502-504; longer waits go to the fetch queue."""
    for attempt in (1, 2):
        try:
            response = await fetch_url(client, item.url, settings, max_bytes=settings.page_max_bytes,
                                       headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
                                       allowed_host=item.feed_url, read_body_for=READ_BODY_FOR)
        except FetchFailed as exc:
            if attempt == 2 or exc.kind not in (ErrorKind.NETWORK, ErrorKind.PROTOCOL):  # a dropped connection
                raise
        else:
            # A 503 that says when to come back is not retried now: the fetch queue waits for it.
            if attempt == 2 or response.status not in (502, 503, 504) or "retry-after" in response.headers:
                return response
        await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


def fetch_and_extract(items: list[FetchItem], settings: Settings,
                      robots: dict[str, RobotsRecord] | None = None) -> BatchResult:
    """Fetch and extract one batch of pages; `robots` are the stored robots.txt of their origins."""
    if not items:
        return BatchResult({}, BatchSummary())
    out = asyncio.run(_process_batch(items, settings, robots))
    return BatchResult(dict(out.rows), out.summary)
