"""Politeness for article pages: robots.txt honoured, and requests to one host paced.

robots.txt is read once per origin and kept for `robots_cache_seconds` (in the database between
runs, in memory within one); a page it disallows is not fetched. Requests to one host start at
least `host_min_interval_seconds` apart, or the site's Crawl-delay when that is longer. Called from
the page fetch path (tasks/pages.py); feeds are polled on the schedule the user configured.
"""
from __future__ import annotations

import asyncio
import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
from protego import Protego

from tasks import db
from tasks.core.errors import FetchFailed
from tasks.core.kinds import ErrorKind
from tasks.http import fetch_url

if TYPE_CHECKING:
    from tasks.core.settings import Settings

ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309 asks crawlers to read at least 500 KiB
MAX_PACING_WAIT = 120.0  # seconds: a page that would wait longer for its host is left for a later run
_ORIGIN = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*)")


def origin_of(url: str) -> str:
    """scheme://host[:port], lower-cased, as sql/queries/due_fetches.sql derives it."""
    match = _ORIGIN.match(url)
    return match.group(1).lower() if match else url.lower()


@dataclass(frozen=True)
class RobotsRecord:
    """One origin's robots.txt as last read: a `robots_txt` row."""

    origin: str
    fetched_at: datetime
    expires_at: datetime
    status: int  # HTTP status; 0 when it could not be fetched at all (the fingerprint says why)
    fingerprint: str
    body: str | None = None
    error: str | None = None  # why it could not be read, in this process (not stored)

    @property
    def unreachable(self) -> bool:
        """RFC 9309: a server error (or no answer) means crawl nothing for now; 429 likewise."""
        return self.fingerprint.startswith("unreachable")

    @cached_property
    def rules(self) -> Protego | None:
        """The parsed rules; None (everything allowed) when robots.txt is missing (4xx)."""
        return Protego.parse(self.body) if self.status == 200 and self.body is not None else None

    def row(self) -> dict:
        return dict(origin=self.origin, fetched_at=self.fetched_at, expires_at=self.expires_at,
                    status=self.status, fingerprint=self.fingerprint, body=self.body)


def _fingerprint(status: int, body: str | None, failure: ErrorKind | None = None) -> str:
    """What decides access: the rules when robots.txt was read, else the kind of answer. No answer
    (`failure.no_answer`) means the pages wait; any other failure allows all."""
    if failure is not None:
        return f"unreachable:{failure}" if failure.no_answer else f"unavailable:{failure}"
    if status == 200 and body is not None:
        return "sha1:" + hashlib.sha1(body.encode("utf-8")).hexdigest()
    return f"unreachable:http_{status}" if status == 429 or status >= 500 else "missing"


class Verdict(StrEnum):
    ALLOWED = "allowed"
    DISALLOWED = "disallowed"
    UNREACHABLE = "unreachable"  # robots.txt could not be read: the page is not fetched, a failed attempt


@dataclass(frozen=True)
class Admission:
    verdict: Verdict
    fingerprint: str | None = None
    kind: ErrorKind = ErrorKind.ROBOTS_UNREACHABLE  # for UNREACHABLE: the page error's kind
    reason: str = ""


def _no_answer_kind(failure: str) -> ErrorKind | None:
    """The kind in an unreachable fingerprint (`unreachable:timeout`) when it says the host did not
    answer; None for an HTTP status (`unreachable:http_503`)."""
    try:
        kind = ErrorKind(failure)
    except ValueError:
        return None
    return kind if kind.no_answer else None


class _RobotsCache:
    """robots.txt records by origin, shared by the batches of this process (threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, RobotsRecord] = {}

    def get(self, origin: str, now: datetime) -> RobotsRecord | None:
        with self._lock:
            record = self._records.get(origin)
        return record if record is not None and record.expires_at > now else None

    def put(self, record: RobotsRecord) -> None:
        with self._lock:
            known = self._records.get(record.origin)
            if known is None or known.fetched_at <= record.fetched_at:
                self._records[record.origin] = record


class _HostPacer:
    """When the next request to each host may start, shared by the batches of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def reserve(self, host: str, interval: float, horizon: float) -> float | None:
        """Seconds to wait before a request to `host` may start (its slot is taken), or None when
        that is further than `horizon` away (nothing taken)."""
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next.get(host, now))
            if start - now > horizon:
                return None
            self._next[host] = start + interval
            return start - now


_ROBOTS = _RobotsCache()
_PACER = _HostPacer()


@dataclass
class Politeness:
    """robots.txt and pacing for one batch of pages; `fetched` are the robots.txt reads to store."""

    settings: Settings
    known: dict[str, RobotsRecord] = field(default_factory=dict)
    fetched: list[RobotsRecord] = field(default_factory=list)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _used: dict[str, RobotsRecord] = field(default_factory=dict)  # the record each origin's pages were admitted by

    def __post_init__(self) -> None:
        for record in self.known.values():
            _ROBOTS.put(record)

    async def admit(self, client: httpx.AsyncClient, url: str, allowed_host: str) -> Admission:
        """May `url` be fetched now? Reads the origin's robots.txt when none is cached."""
        if not self.settings.respect_robots:
            return Admission(Verdict.ALLOWED)
        origin = origin_of(url)
        record = self._used[origin] = await self._robots(client, origin, allowed_host)
        if record.unreachable:
            failure = record.fingerprint.split(":", 1)[1]
            kind = _no_answer_kind(failure) or ErrorKind.ROBOTS_UNREACHABLE
            return Admission(Verdict.UNREACHABLE, kind=kind, reason=f"robots.txt of {origin} could not be read "
                             f"({record.error or failure}); the page was not fetched")
        rules = record.rules
        if rules is not None and not rules.can_fetch(url, self._agent):
            return Admission(Verdict.DISALLOWED, fingerprint=record.fingerprint,
                             reason=f"disallowed by {origin}/robots.txt for user agent {self._agent!r}")
        return Admission(Verdict.ALLOWED, fingerprint=record.fingerprint)

    def crawl_delay(self, url: str) -> float:
        """Seconds between requests to this URL's host: the setting, or the site's Crawl-delay if longer."""
        delay = self.settings.host_min_interval_seconds
        if self.settings.respect_robots:
            record = self._used.get(origin_of(url))
            rules = record.rules if record is not None else None
            if rules is not None:
                delay = max(delay, float(rules.crawl_delay(self._agent) or 0.0))
        return delay

    async def pace(self, url: str) -> datetime | None:
        """Wait for this host's next slot; returns the time to come back instead when it is too far off."""
        host = urlsplit(url).hostname or ""
        interval = self.crawl_delay(url)
        wait = _PACER.reserve(host, interval, MAX_PACING_WAIT)
        if wait is None:
            return datetime.now(UTC) + timedelta(seconds=MAX_PACING_WAIT)
        if wait > 0:
            await asyncio.sleep(wait)
        return None

    @property
    def _agent(self) -> str:
        """The product token of the User-Agent ("wirecopy"), which robots.txt groups name."""
        return self.settings.user_agent.split("/", 1)[0].split()[0] or self.settings.user_agent

    async def _robots(self, client: httpx.AsyncClient, origin: str, allowed_host: str) -> RobotsRecord:
        now = datetime.now(UTC)
        if (record := _ROBOTS.get(origin, now)) is not None:
            return record
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if (record := _ROBOTS.get(origin, datetime.now(UTC))) is not None:
                return record
            record = await self._fetch_robots(client, origin, allowed_host)
            _ROBOTS.put(record)
            self.fetched.append(record)
            return record

    async def _fetch_robots(self, client: httpx.AsyncClient, origin: str, allowed_host: str) -> RobotsRecord:
        await self.pace(origin + "/robots.txt")
        now = datetime.now(UTC)
        try:
            response = await fetch_url(client, origin + "/robots.txt", self.settings, max_bytes=ROBOTS_MAX_BYTES,
                                       headers={"Accept": "text/plain, */*;q=0.5"}, allowed_host=allowed_host)
            status, failure, error = response.status, None, f"HTTP {response.status}"
            body = response.body.decode("utf-8", "replace") if status == 200 else None
        except FetchFailed as exc:
            status, body, failure, error = 0, None, exc.kind, str(exc)
        fingerprint = _fingerprint(status, body, failure)
        keep = (self.settings.backoff_base_seconds if fingerprint.startswith("unreachable")
                else self.settings.robots_cache_seconds)
        return RobotsRecord(origin=origin, fetched_at=now, expires_at=now + timedelta(seconds=keep), status=status,
                            fingerprint=fingerprint, body=body, error=error)


def known_robots(settings: Settings, urls: list[str]) -> dict[str, RobotsRecord]:
    """The stored robots.txt of these URLs' origins, read on the flow's side for the batches that
    fetch them (which may run where the database is not)."""
    from tasks import store

    if not settings.respect_robots or not urls:
        return {}
    origins = sorted({origin_of(u) for u in urls})
    with db.reader(settings.db_path, wait_seconds=settings.db_wait_seconds) as con:
        rows = store.read_known_robots(con, origins)
    return {r[0]: RobotsRecord(origin=r[0], fetched_at=r[1], expires_at=r[2], status=r[3], fingerprint=r[4],
                               body=r[5]) for r in rows}


def robots_for(known: dict[str, RobotsRecord], urls: list[str]) -> dict[str, RobotsRecord]:
    """The part of `known` one batch needs."""
    origins = {origin_of(u) for u in urls}
    return {o: r for o, r in known.items() if o in origins}
