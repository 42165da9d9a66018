"""Running a step over many batches: submitted to the task runner, staged as they arrive, loaded
as the run goes."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from prefect.futures import PrefectFuture

from flows.prefect_tasks import load_staged
from tasks import staging
from tasks.core import records
from tasks.core.settings import Settings


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
