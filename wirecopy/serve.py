"""`wirecopy serve`: the flows and their schedules in one long-running process.

Schedules never fire on Prefect's ephemeral API, so this talks to a real server: the one
PREFECT_API_URL names, or one it starts on 127.0.0.1 and stops on exit.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Iterator

import httpx

INGEST_EVERY_SECONDS = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def prefect_server() -> Iterator[str]:
    """The configured server, or a local one for the lifetime of this process."""
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        print(f"wirecopy serve: using the Prefect server at {configured} (PREFECT_API_URL)", flush=True)
        yield configured
        return
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    print(f"wirecopy serve: PREFECT_API_URL is not set; starting a local Prefect server at "
          f"http://127.0.0.1:{port} (stopped when this process exits)", flush=True)
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"the Prefect server exited with code {server.returncode}")
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the Prefect server did not start within 120s")
            time.sleep(0.5)
        os.environ["PREFECT_API_URL"] = api
        yield api
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def deployments(feeds_path: str | None, db_path: str | None) -> list:
    """The same three deployments prefect.yaml declares."""
    from flows.backfill import backfill
    from flows.ingest import ingest
    from flows.rebuild_stories import rebuild_stories

    paths = {k: v for k, v in {"feeds_path": feeds_path, "db_path": db_path}.items() if v}
    return [
        ingest.to_deployment(name="ingest", interval=INGEST_EVERY_SECONDS, parameters=paths,
                             concurrency_limit=1),
        backfill.to_deployment(name="backfill", parameters=paths, concurrency_limit=1),
        rebuild_stories.to_deployment(name="rebuild-stories",
                                      parameters={k: v for k, v in paths.items() if k == "db_path"},
                                      concurrency_limit=1),
    ]


def serve_flows(feeds_path: str | None = None, db_path: str | None = None) -> int:
    with prefect_server():
        from prefect import serve

        from flows.steps import ensure_writer_limit

        ensure_writer_limit()
        print(f"wirecopy serve: ingest every {INGEST_EVERY_SECONDS // 60} minutes; backfill and "
              "rebuild-stories on demand (`prefect deployment run 'backfill/backfill' --param ...`)", flush=True)
        serve(*deployments(feeds_path, db_path))
    return 0
