"""Where task bodies run: threads in this process by default, or a Dask cluster."""
from __future__ import annotations

import os

from prefect.task_runners import ThreadPoolTaskRunner


def task_runner():
    """`WIRECOPY_DASK_ADDRESS`: a scheduler address (tcp://host:8786) or `local` for a LocalCluster
    of two worker processes. Read when the flow module is imported, as Prefect fixes a flow's
    runner at decoration; `flow.with_options(task_runner=...)` overrides it per call."""
    address = os.environ.get("WIRECOPY_DASK_ADDRESS", "").strip()
    if not address:
        return ThreadPoolTaskRunner(max_workers=2)
    from prefect_dask import DaskTaskRunner

    if address == "local":
        return DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 2, "processes": True})
    return DaskTaskRunner(address=address)
