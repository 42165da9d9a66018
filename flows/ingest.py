"""The ingest flow: poll feeds, fetch and extract new pages, load them. Logic lives in tasks/."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from flows.runner import task_runner
from flows.steps import fetch_and_extract, flush_leftovers, load_staged, plan_run, poll_feeds, run_batches
from wirecopy.settings import load_feeds, load_settings


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


@flow(name="ingest", task_runner=task_runner(), log_prints=False)
def ingest(feeds_path: str | None = None, db_path: str | None = None,
           force_poll: bool = False) -> IngestSummary:
    """One ingest run: the same flow `wirecopy ingest` and the scheduled deployment run."""
    settings = load_settings(feeds_path, db_path)
    feeds = load_feeds(settings.feeds_path)
    flush_leftovers(settings)

    plan = plan_run(feeds, settings, force=force_poll)
    polled = poll_feeds(plan.due, settings)
    todo = list({item.url: item for item in plan.retries + polled.new_items}.values())
    batches = [(todo[i:i + settings.batch_size], settings) for i in range(0, len(todo), settings.batch_size)]
    fetched = run_batches(fetch_and_extract, batches, settings)
    loaded = load_staged(settings)

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
    get_run_logger().info("ingest done: %s", summary.line())
    return summary
