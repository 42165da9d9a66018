"""Records that cross a boundary: between tasks, into staging files, into DuckDB."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tasks.core.kinds import QueueStatus


@dataclass(frozen=True)
class FeedConfig:
    """One `[[feeds]]` entry of feeds.toml."""

    outlet: str
    url: str
    extra: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class ExtractedArticle:
    """What extraction makes of one page: the cleaned body and its metadata."""

    title: str | None
    authors: str | None
    published_at: datetime | None  # timezone-aware, UTC
    text: str  # paragraphs separated by one blank line
    language: str | None
    wire_service: str | None  # 'Reuters', 'AP', 'AFP' or None
    site_name: str | None = None
    description: str | None = None
    page_url: str | None = None  # canonical URL the page declares
    # Cleaning removed every line extraction found: `text` holds what extraction found instead,
    # so the page is still an article (kept, flagged, re-tried by `backfill --mode reprocess`).
    cleaning_emptied: bool = False


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
class ChildSitemap:
    """One child of a sitemap index, and what it answered when last read."""

    sitemap_url: str
    listed_at: datetime
    index_lastmod: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    read_lastmod: datetime | None = None
    last_polled_at: datetime | None = None
    last_status: str | None = None


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
    kind: str | None = None  # as last read, or as forced by `type` in feeds.toml
    kind_forced: bool = False


@dataclass
class PollResult:
    configured_url: str
    feed_url: str  # the URL polled
    outlet: str
    polled_at: datetime
    status: str  # HTTP status code, 'blocked', or an error kind such as 'timeout'
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
    kind: str | None = None
    blocked_by: str | None = None  # the anti-bot vendor when status is 'blocked'
    children: list[ChildSitemap] = field(default_factory=list)  # a sitemap index's children
    poll_interval_seconds: float | None = None
    poll_reason: str | None = None

    @property
    def stored_url(self) -> str:
        return self.moved_to or self.feed_url


@dataclass(frozen=True)
class FetchItem:
    """One article page to fetch, with what its feed said about it."""

    url: str
    feed_url: str
    outlet: str
    feed_title: str | None = None
    feed_published_at: datetime | None = None
    attempts: int = 0  # earlier failed attempts
    robots_fingerprint: str | None = None  # of the robots.txt that disallowed it, if one did

    def queue_row(self, status: QueueStatus, *, attempts: int | None = None, error: str | None = None,
                  attempted_at: datetime | None = None, next_attempt_at: datetime | None = None,
                  robots_fingerprint: str | None = None, updated_at: datetime | None = None) -> dict:
        """Its `fetch_queue` row as staged (tasks/staging.py): what the feed said, and where it stands.

        `attempts` defaults to the earlier ones; `robots_fingerprint` is that of the robots.txt
        disallowing it now (DISALLOWED), so it stays None otherwise; `updated_at` defaults to now.
        """
        return dict(url=self.url, feed_url=self.feed_url, outlet=self.outlet, feed_title=self.feed_title,
                    feed_published_at=self.feed_published_at, status=status,
                    attempts=self.attempts if attempts is None else attempts, last_error=error,
                    last_attempt_at=attempted_at, next_attempt_at=next_attempt_at,
                    updated_at=updated_at or datetime.now(UTC), robots_fingerprint=robots_fingerprint)


@dataclass
class BatchSummary:
    pages_fetched: int = 0
    articles: int = 0
    pages_failed: int = 0
    pages_deferred: int = 0  # not attempted: the host asked us to wait (Retry-After, a wall, pacing)
    pages_disallowed: int = 0  # not fetched: robots.txt disallows them
    errors: dict[str, int] = field(default_factory=dict)
    fetch_seconds: float = 0.0  # summed over pages (they overlap): time waiting for responses
    extract_seconds: float = 0.0  # summed over pages: compression and extraction in the workers
    stage_seconds: float = 0.0  # writing the batch to the staging area (set by the flow)

    def add(self, other: BatchSummary) -> None:
        self.pages_fetched += other.pages_fetched
        self.articles += other.articles
        self.pages_failed += other.pages_failed
        self.pages_deferred += other.pages_deferred
        self.pages_disallowed += other.pages_disallowed
        self.fetch_seconds += other.fetch_seconds
        self.extract_seconds += other.extract_seconds
        self.stage_seconds += other.stage_seconds
        for kind, n in other.errors.items():
            self.errors[kind] = self.errors.get(kind, 0) + n


@dataclass
class BatchResult:
    """Rows for the staging area and counts; returned to the flow, which stages them, so the task
    body can run on a remote worker (Dask) while files and the database stay on the flow's side."""

    rows: dict[str, list[dict]]
    summary: BatchSummary


@dataclass
class LoadSummary:
    """What one load merged (rows by table), assigned and published."""

    batches: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    articles_new_or_changed: int = 0  # articles given a story: new, or their text changed
    seconds: float = 0.0  # the whole load: waiting for the lock, merging, assigning stories
    dedup_seconds: float = 0.0  # of which assigning stories
    published_version: int | None = None  # the lake snapshot this load published, if it published
    publish_seconds: float = 0.0

    @property
    def articles(self) -> int:
        return self.rows.get("articles", 0)


@dataclass
class PollHistory:
    """What a poll needs to know of its feeds' past: recent entries (id -> when it appeared) for the
    scheduler, and the children a sitemap index listed."""

    entries: dict[str, dict[str, datetime]] = field(default_factory=dict)
    children: dict[str, list[ChildSitemap]] = field(default_factory=dict)
