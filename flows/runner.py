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
        return _local_cluster_runner()(
            cluster_kwargs={"n_workers": 2, "threads_per_worker": 2, "processes": True})
    return DaskTaskRunner(address=address)


def _local_cluster_runner():
    from prefect_dask import DaskTaskRunner

    class LocalClusterTaskRunner(DaskTaskRunner):
        """Its workers report task runs to the flow's own Prefect API, the ephemeral one too.

        A worker process started without PREFECT_API_URL starts a temporary Prefect server of its
        own, which on a loaded machine outlasts the run. The URL is known once the flow has its
        client, which is before the runner starts its cluster."""

        def __enter__(self):
            from prefect.client.orchestration import get_client

            api_url = str(get_client(sync_client=True).api_url).rstrip("/")
            self.cluster_kwargs = {**self.cluster_kwargs, "env": {"PREFECT_API_URL": api_url}}
            return super().__enter__()

    return LocalClusterTaskRunner
