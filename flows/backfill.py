"""Backfills run by hand: re-extract stored pages, or fetch what sitemaps list for a date range."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from flows.batches import run_batches
from flows.params import BackfillMode, Day, LastDay, check_outlet
from flows.prefect_tasks import collect_sitemap_urls, fetch_and_extract, flush_leftovers, load_staged, reextract
from flows.progress import Progress
from flows.runner import task_runner
from tasks import db, extract_pool, politeness, reprocess, staging, store
from tasks.core import records
from tasks.core.kinds import QueueStatus
from tasks.core.records import FetchItem
from tasks.core.settings import Settings, load_feeds, load_settings
from tasks.sitemaps import day_bounds

LOAD_EVERY_BATCHES = 10  # a killed backfill keeps all but the last few hundred pages


@dataclass
class BackfillSummary:
    mode: str
    since: str
    until: str
    outlet: str | None
    candidates: int = 0
    already_stored: int = 0
    articles: int = 0  # fetched and extracted, or re-extracted, by this run
    pages_failed: int = 0
    articles_loaded: int = 0  # into the database by this run, work an earlier run left staged included
    published_version: int | None = None  # the analysts' lake snapshot holding this run's state
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"backfill {self.mode} {self.since}..{self.until}"
                f"{' for ' + self.outlet if self.outlet else ''}: {self.candidates} in range, "
                f"{self.already_stored} already stored, {self.articles} articles "
                f"{'re-extracted' if self.mode == BackfillMode.REPROCESS else 'fetched'}, "
                f"{self.pages_failed} failed; {self.articles_loaded} articles loaded; "
                f"published version {self.published_version}")


def _stored_page_batches(urls: list[str], settings: Settings) -> Iterator[tuple]:
    """Read stored pages a batch at a time, so a large range never sits in memory whole."""
    for i in range(0, len(urls), settings.batch_size):
        with db.reader(settings.db_path, wait_seconds=settings.db_wait_seconds) as con:
            rows = store.read_stored_pages(con, urls[i:i + settings.batch_size])
        yield [reprocess.stored_page(r) for r in rows], settings


def _pending_rows(items: list[FetchItem]) -> list[dict]:
    """Queue rows for discovered URLs, staged before fetching so a killed backfill loses none."""
    now = datetime.now(UTC)
    return [i.queue_row(QueueStatus.PENDING, updated_at=now) for i in items]


@flow(name="backfill", task_runner=task_runner(), log_prints=False)
def backfill(since: Day, until: LastDay, outlet: str | None = None,
             mode: BackfillMode = BackfillMode.SITEMAPS,
             feeds_path: str | None = None, db_path: str | None = None) -> BackfillSummary:
    """Idempotent and resumable: rows merge on natural keys, and progress is loaded as it goes.
    The parameters are validated (dates, their order, the mode) before this body runs."""
    settings = load_settings(feeds_path, db_path)
    check_outlet(outlet, mode, settings)
    summary = BackfillSummary(mode=str(mode), since=since.isoformat(), until=until.isoformat(), outlet=outlet)
    loads: list[records.LoadSummary] = []
    if (flushed := flush_leftovers(settings)) is not None:
        loads.append(flushed)

    if mode == "reprocess":
        start, end = day_bounds(since, until)
        with db.reader(settings.db_path, wait_seconds=settings.db_wait_seconds) as con:
            urls = store.read_reprocess_urls(con, start=start, end=end, outlet=outlet)
        summary.candidates = len(urls)
        progress = Progress(len(urls), f"re-extracting {len(urls)} stored pages")
        with progress:
            result = run_batches(reextract, _stored_page_batches(urls, settings), settings,
                                 load_every=LOAD_EVERY_BATCHES, on_batch=progress.advance, on_load=loads.append)
            extract_pool.shutdown_pool()
            loads.append(load_staged(settings))
    else:
        feeds = [f for f in load_feeds(settings.feeds_path) if outlet is None or f.outlet == outlet]
        items, summary.errors = collect_sitemap_urls(feeds, since, until, settings)
        with db.reader(settings.db_path, wait_seconds=settings.db_wait_seconds) as con:
            stored = store.read_stored_urls(con, [i.url for i in items])
        todo = [i for i in items if i.url not in stored]
        summary.candidates, summary.already_stored = len(items), len(stored)
        staging.write_batch(settings.staging_dir, {"fetch_queue": _pending_rows(todo)})
        progress = Progress(len(todo), f"fetching {len(todo)} pages found in sitemaps")
        robots = politeness.known_robots(settings, [item.url for item in todo])
        batches = ((batch, settings, politeness.robots_for(robots, [item.url for item in batch]))
                   for batch in (todo[i:i + settings.batch_size] for i in range(0, len(todo), settings.batch_size)))
        with progress:
            result = run_batches(fetch_and_extract, batches, settings, load_every=LOAD_EVERY_BATCHES,
                                 on_batch=progress.advance, on_load=loads.append)
            extract_pool.shutdown_pool()
            loads.append(load_staged(settings))
    summary.articles, summary.pages_failed = result.articles, result.pages_failed
    summary.articles_loaded = sum(load.articles for load in loads)
    summary.published_version = loads[-1].published_version
    create_table_artifact(key="backfill-summary", description="What this backfill did",
                          table=[{"measure": k, "value": str(v)} for k, v in asdict(summary).items()])
    get_run_logger().info(summary.line())
    for error in summary.errors:
        get_run_logger().warning("sitemap failed: %s", error)
    return summary
