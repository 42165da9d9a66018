"""The ingest flow: poll feeds, fetch and extract new pages, load them. Logic lives in tasks/."""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from flows.batches import run_batches
from flows.prefect_tasks import fetch_and_extract, flush_leftovers, load_staged, plan_run, poll_feeds
from flows.runner import task_runner
from tasks import extract_pool, politeness
from tasks.core.settings import load_feeds, load_settings


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
    pages_deferred: int = 0  # left for later: their host answered 429/503 with Retry-After
    pages_disallowed: int = 0  # not fetched: robots.txt disallows them
    articles_loaded: int = 0  # work an earlier run left staged included
    published_version: int | None = None  # the analysts' lake snapshot holding this run's state
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    # seconds by step: "call" is the step's wall time as the flow sees it (Prefect included),
    # "body" the step's own; fetch and extract overlap, their busy times are summed over pages
    timings: dict = field(default_factory=dict)

    def line(self) -> str:
        return (f"feeds polled {self.feeds_polled}, not modified {self.feeds_not_modified}, "
                f"failed {self.feeds_failed}, waiting {self.feeds_waiting}; entries seen "
                f"{self.entries_seen}; articles new {self.articles_new}, loaded {self.articles_loaded}; "
                f"pages failed {self.pages_failed}, deferred {self.pages_deferred}, "
                f"disallowed by robots.txt {self.pages_disallowed}; published version {self.published_version}")


@flow(name="ingest", task_runner=task_runner(), log_prints=False)
def ingest(feeds_path: str | None = None, db_path: str | None = None,
           force_poll: bool = False) -> IngestSummary:
    """One ingest run: the same flow `wirecopy ingest` and the scheduled deployment run."""
    started_at, clock = time.time(), time.perf_counter()
    settings = load_settings(feeds_path, db_path)
    feeds = load_feeds(settings.feeds_path)
    flushed = flush_leftovers(settings)
    steps = {"flush leftovers": {"call": time.perf_counter() - clock}}
    if flushed is not None:
        steps["flush leftovers"].update(body=flushed.seconds, dedup=flushed.dedup_seconds)

    clock = time.perf_counter()
    plan = plan_run(feeds, settings, force=force_poll)
    steps["plan"] = {"call": time.perf_counter() - clock}
    clock = time.perf_counter()
    polled = poll_feeds(plan.due, settings)
    steps["poll"] = {"call": time.perf_counter() - clock, "body": polled.seconds}
    todo = list({item.url: item for item in plan.retries + polled.new_items}.values())
    robots = politeness.known_robots(settings, [item.url for item in todo])
    batches = [(batch, settings, politeness.robots_for(robots, [item.url for item in batch]))
               for batch in (todo[i:i + settings.batch_size] for i in range(0, len(todo), settings.batch_size))]
    clock = time.perf_counter()
    fetched = run_batches(fetch_and_extract, batches, settings)
    extract_pool.shutdown_pool()
    steps["fetch and extract"] = {"call": time.perf_counter() - clock, "fetch busy": fetched.fetch_seconds,
                                  "extract busy": fetched.extract_seconds, "stage": fetched.stage_seconds}
    clock = time.perf_counter()
    loaded = load_staged(settings)
    steps["load"] = {"call": time.perf_counter() - clock, "body": loaded.seconds, "dedup": loaded.dedup_seconds,
                     "publish": loaded.publish_seconds}

    summary = IngestSummary(
        feeds_polled=polled.feeds_polled, feeds_not_modified=polled.not_modified,
        feeds_failed=polled.failed, feeds_waiting=len(plan.not_due) + len(plan.gone),
        entries_seen=polled.entries_seen, articles_new=fetched.articles,
        pages_retried=len(plan.retries), pages_failed=fetched.pages_failed,
        pages_deferred=fetched.pages_deferred, pages_disallowed=fetched.pages_disallowed,
        articles_loaded=loaded.articles + (flushed.articles if flushed is not None else 0),
        published_version=loaded.published_version, failures=polled.failures,
        timings={"steps": steps, "flow_started_at": started_at})
    create_table_artifact(
        key="ingest-summary",
        table=[{"measure": k, "value": v} for k, v in asdict(summary).items() if k not in ("failures", "timings")]
        + [{"measure": f"seconds: {step}", "value": round(s["call"], 3)} for step, s in steps.items()]
        + [{"measure": f"failed: {outlet}", "value": f"{url}: {err}"} for outlet, url, err in summary.failures],
        description="What this ingest run did")
    logger = get_run_logger()
    logger.info("ingest done: %s", summary.line())
    logger.info("ingest seconds: %s", ", ".join(f"{step} {s['call']:.2f}" for step, s in steps.items()))
    summary.timings["flow_ended_at"] = time.time()
    if os.environ.get("WIRECOPY_TIMINGS"):  # benchmarks/throughput.py reads the timings here
        with open(os.environ["WIRECOPY_TIMINGS"], "w") as fh:
            json.dump(summary.timings, fh)
    return summary
