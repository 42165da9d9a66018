"""Prefect wrappers around the plain functions in tasks/, shared by the flows."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx
from prefect import get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError
from prefect.concurrency.sync import concurrency
from prefect.futures import PrefectFuture
from prefect.settings import PREFECT_API_URL
from rich.console import Console
from rich.progress import MofNCompleteColumn
from rich.progress import Progress as Bar
from rich.theme import Theme

from tasks import dedup, lake, pages, polling, reprocess, sitemaps, staging, store
from tasks.core import errors, records
from tasks.core.settings import Settings

WRITER_LIMIT = "duckdb-writer"


def _transient(task, task_run, state) -> bool:
    """Retry a step only for what another attempt can fix: the network, a busy database."""
    try:
        state.result()
    except (OSError, errors.DatabaseBusy):
        return True
    except Exception:
        return False
    return False


_retrying = dict(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2, retry_jitter_factor=0.5,
                 retry_condition_fn=_transient)
plan_run = task(polling.plan_run, name="plan run", **_retrying)
poll_feeds = task(polling.poll_feeds, name="poll feeds", **_retrying)
fetch_and_extract = task(pages.fetch_and_extract, name="fetch and extract pages", **_retrying)
reextract = task(reprocess.reextract, name="re-extract stored pages", **_retrying)
collect_sitemap_urls = task(sitemaps.collect_sitemap_urls, name="read sitemaps", **_retrying)


def ensure_writer_limit() -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(WRITER_LIMIT)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=WRITER_LIMIT, limit=1))
            except ObjectAlreadyExists:
                pass


def _take_writer_slot() -> AbstractContextManager[None] | None:
    """One request for the slot: the entered context, or None when another run holds it.

    Not Prefect's own `timeout_seconds`: it cancels a request the server may already have granted,
    and that lease is never released (an ephemeral server has no repossessor to expire it)."""
    # A short lease: a run killed while loading frees the slot in 60 s (the server's minimum), not 300 s.
    # A failed renewal does not abort the load: the file lock still keeps writers apart.
    slot = concurrency(WRITER_LIMIT, occupy=1, max_retries=0, strict=True, lease_duration=60,
                       raise_on_lease_renewal_failure=False)
    try:
        slot.__enter__()
    except ConcurrencySlotAcquisitionError as exc:
        cause = exc.__cause__
        if isinstance(cause, httpx.HTTPStatusError) and cause.response.status_code == 423:
            return None
        raise
    return slot


@contextmanager
def writer_slot(wait_seconds: float) -> Iterator[None]:
    """Prefect's global `duckdb-writer` limit where a Prefect server is configured (runs may be on
    other machines); the file lock beside the database (tasks/store.py) holds in every case."""
    if not PREFECT_API_URL.value():
        yield
        return
    ensure_writer_limit()
    deadline = time.monotonic() + wait_seconds
    while (slot := _take_writer_slot()) is None:
        if time.monotonic() >= deadline:
            raise errors.DatabaseBusy(f"another run holds the '{WRITER_LIMIT}' concurrency slot "
                                     f"for more than {wait_seconds:g}s")
        time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
    try:
        yield
    finally:
        slot.__exit__(None, None, None)


def publisher() -> lake.Publisher:
    """This flow run, as the lake records who published a version."""
    from prefect.runtime import flow_run

    return lake.Publisher(flow=flow_run.flow_name or "wirecopy", flow_run_id=flow_run.id)


@task(name="load staged work", cache_policy=NO_CACHE)
def load_staged(settings: Settings, wait_seconds: float | None = None, publish: bool = True) -> records.LoadSummary:
    """The single writer: merge everything staged, under the Prefect slot and the file lock, then
    publish to the analysts' lake (a flow's last load: analysts see a run whole)."""
    wait = settings.db_wait_seconds if wait_seconds is None else wait_seconds
    target = store.PublishTo(settings, publisher()) if publish else None
    with writer_slot(wait):
        return store.load_staged(settings.db_path, settings.staging_dir, wait_seconds=wait,
                                 assign_stories=dedup.assign_merged,
                                 memory_limit=settings.db_memory_limit, publish=target)


def flush_leftovers(settings: Settings) -> records.LoadSummary | None:
    """Load what an earlier run staged but could not load; a busy database just leaves it for later.
    Not published yet: the run's own last load publishes it with the run's work."""
    try:
        return load_staged(settings, wait_seconds=2, publish=False)
    except errors.DatabaseBusy as exc:
        get_run_logger().warning("left staged work for a later run: %s", exc)
        return None


def _log_console() -> Console:
    """The rich Console Prefect's console log handler prints through (a new one on stderr if
    Prefect logs elsewhere): a bar drawn on it keeps the log lines above itself."""
    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler):
            return handler.console
    return Console(stderr=True)


class Progress:
    """A Prefect progress artifact, and a bar on the terminal when there is one. A context
    manager: the bar is taken down however the step ends."""

    def __init__(self, total: int, description: str) -> None:
        self.total, self.done = max(total, 1), 0
        self.artifact_id = create_progress_artifact(0.0, description=description)
        self._bar = None
        console = _log_console()
        if console.is_terminal:
            self._bar = Bar(*Bar.get_default_columns(), MofNCompleteColumn(), console=console, transient=False)
            self._task = self._bar.add_task(description, total=self.total)

    def __enter__(self) -> "Progress":
        if self._bar is not None:
            self._bar.console.push_theme(Theme())  # rich's bar styles: Prefect's console has only its own
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar.console.pop_theme()

    def advance(self, n: int) -> None:
        self.done += n
        update_progress_artifact(self.artifact_id, progress=min(100.0, 100.0 * self.done / self.total))
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done)


def run_batches(step: Any, args: Iterable[tuple], settings: Settings, *, in_flight: int = 4,
                load_every: int | None = None, on_batch: Callable[[int], None] | None = None,
                on_load: Callable[[records.LoadSummary], None] | None = None) -> records.BatchSummary:
    """Submit batches to the task runner, stage each result as it arrives, load every `load_every`
    batches (so a killed backfill keeps its progress; `on_load` hears of each load); at most
    `in_flight` batches wait at once."""
    total = records.BatchSummary()
    pending: list[PrefectFuture] = []
    staged_since_load = 0

    def collect(futures: list[PrefectFuture]) -> None:
        nonlocal staged_since_load
        for future in futures:
            result: records.BatchResult = future.result()
            started = time.perf_counter()
            staging.write_batch(settings.staging_dir, result.rows)
            result.rows = {}  # Prefect keeps task results in reference cycles: free the batch now
            result.summary.stage_seconds += time.perf_counter() - started
            total.add(result.summary)
            staged_since_load += 1
            if on_batch:
                on_batch(result.summary.articles + result.summary.pages_failed)
        if load_every and staged_since_load >= load_every:
            loaded = load_staged(settings, publish=False)
            if on_load:
                on_load(loaded)
            staged_since_load = 0

    for batch_args in args:
        pending.append(step.submit(*batch_args))
        if len(pending) >= in_flight:
            first, pending = pending[0], pending[1:]
            collect([first])
    collect(pending)
    return total
