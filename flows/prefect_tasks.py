"""The Prefect tasks the flows run: each wraps a plain function of tasks/ (which knows nothing of
Prefect) with a name, retries for what another attempt can fix, and no result caching."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from prefect import Task, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun

from flows.writer import writer_slot
from tasks import dedup, lake, pages, polling, reprocess, sitemaps, store
from tasks.core import errors, records
from tasks.core.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")


def _transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry a step only for what another attempt can fix: the network, a busy database."""
    try:
        state.result()
    except (OSError, errors.DatabaseBusy):
        return True
    except Exception:
        return False
    return False


def _retrying(fn: Callable[P, R], name: str) -> Task[P, R]:
    return task(name=name, cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2, retry_jitter_factor=0.5,
                retry_condition_fn=_transient)(fn)


plan_run = _retrying(polling.plan_run, "plan run")
poll_feeds = _retrying(polling.poll_feeds, "poll feeds")
fetch_and_extract = _retrying(pages.fetch_and_extract, "fetch and extract pages")
reextract = _retrying(reprocess.reextract, "re-extract stored pages")
collect_sitemap_urls = _retrying(sitemaps.collect_sitemap_urls, "read sitemaps")


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
    if not store.has_leftovers(settings.db_path, settings.staging_dir, wait_seconds=settings.db_wait_seconds):
        return None
    try:
        return load_staged(settings, wait_seconds=2, publish=False)
    except errors.DatabaseBusy as exc:
        get_run_logger().warning("left staged work for a later run: %s", exc)
        return None
