"""The ingest flow: poll feeds, fetch and extract new pages, load them. Logic lives in tasks/."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from tasks import pages, polling, store
from wirecopy.settings import load_feeds, load_settings


def _transient(task, task_run, state) -> bool:
    """Retry a step only for what another attempt can fix: the network, a busy database."""
    try:
        state.result()
    except (OSError, store.DatabaseBusy):
        return True
    except Exception:
        return False
    return False


plan_run = task(polling.plan_run, name="plan run", cache_policy=NO_CACHE,
                retries=2, retry_delay_seconds=2, retry_condition_fn=_transient)
poll_feeds = task(polling.poll_feeds, name="poll feeds", cache_policy=NO_CACHE,
                  retries=2, retry_delay_seconds=2, retry_jitter_factor=0.5, retry_condition_fn=_transient)
fetch_and_extract = task(pages.fetch_and_extract, name="fetch and extract pages", cache_policy=NO_CACHE,
                         retries=2, retry_delay_seconds=2, retry_jitter_factor=0.5,
                         retry_condition_fn=_transient)
load_staged = task(store.load_staged, name="load staged work", cache_policy=NO_CACHE)


@dataclass
class IngestSummary:
    feeds_polled: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    feeds_waiting: int = 0  # in backoff, or gone
    entries_seen: int = 0
    articles_new: int = 0
    pages_retried: int = 0
    pages_failed: int = 0
    articles_loaded: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)

    def line(self) -> str:
        return (f"feeds polled {self.feeds_polled}, not modified {self.feeds_not_modified}, "
                f"failed {self.feeds_failed}, waiting {self.feeds_waiting}; entries seen "
                f"{self.entries_seen}; articles new {self.articles_new}, loaded {self.articles_loaded}; "
                f"pages failed {self.pages_failed}")


def _batches(items: list[pages.FetchItem], size: int) -> list[list[pages.FetchItem]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


@flow(name="ingest", task_runner=ThreadPoolTaskRunner(max_workers=2), log_prints=False)
def ingest(feeds_path: str | None = None, db_path: str | None = None,
           force_poll: bool = False) -> IngestSummary:
    """One ingest run: the same flow `wirecopy ingest` and the scheduled deployment run."""
    logger = get_run_logger()
    settings = load_settings(feeds_path, db_path)
    feeds = load_feeds(settings.feeds_path)

    try:  # what an earlier run fetched but could not load goes in first
        store.load_staged(settings.db_path, settings.staging_dir, wait_seconds=2)
    except store.DatabaseBusy as exc:
        logger.warning("left staged work for later: %s", exc)

    plan = plan_run(feeds, settings, force=force_poll)
    polled = poll_feeds(plan.due, settings)
    todo = list({item.url: item for item in plan.retries + polled.new_items}.values())
    futures = [fetch_and_extract.submit(batch, settings) for batch in _batches(todo, settings.batch_size)]
    fetched = pages.BatchSummary()
    for future in futures:
        fetched.add(future.result())
    loaded = load_staged(settings.db_path, settings.staging_dir, wait_seconds=settings.db_wait_seconds)

    summary = IngestSummary(
        feeds_polled=polled.feeds_polled, feeds_not_modified=polled.not_modified,
        feeds_failed=polled.failed, feeds_waiting=len(plan.not_due) + len(plan.gone),
        entries_seen=polled.entries_seen, articles_new=fetched.articles,
        pages_retried=len(plan.retries), pages_failed=fetched.pages_failed,
        articles_loaded=loaded.articles, failures=polled.failures)
    create_table_artifact(
        key="ingest-summary",
        table=[{"measure": k, "value": v} for k, v in asdict(summary).items() if k != "failures"]
        + [{"measure": f"failed: {outlet}", "value": f"{url}: {err}"} for outlet, url, err in summary.failures],
        description="What this ingest run did")
    logger.info("ingest done: %s", summary.line())
    return summary
