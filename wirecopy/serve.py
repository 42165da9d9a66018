"""`wirecopy serve`: the flows and their schedules in one long-running process.

Schedules never fire on Prefect's ephemeral API, so serve talks to a real server: the one
PREFECT_API_URL names, or one it starts on 127.0.0.1:`serve_port` in a Prefect home of its own
(`serve_prefect_home`), never the user's ~/.prefect database, and stops on exit.

Its deployments are named `serve` (`ingest/serve`, `backfill/serve`, `rebuild-stories/serve`):
the ones `prefect deploy --all` makes (`ingest/ingest`, ...) are never rewritten, and on exit
Prefect's runner pauses only the deployments it registered, so only serve's own.
"""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast
from uuid import UUID

import httpx

from tasks.core.settings import Settings
from wirecopy.prefect_api import PrefectUnavailable, check_reachable

DEPLOYMENT_NAME = "serve"
INGEST_EVERY_SECONDS = 300


def _say(line: str) -> None:
    print(f"wirecopy serve: {line}", flush=True)


def _names(served: dict[str, tuple]) -> str:
    """The deployments serve made, as `prefect deployment run` names them."""
    return ", ".join(f"'{flow}/{deployment.name}'" for flow, (deployment, _) in served.items())


def _port_taken(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _server_environment(home: Path) -> dict[str, str]:
    """The user's environment without their Prefect settings (a database URL or profile there
    would make this server share their data), in a home of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_SERVER_LOGGING_LEVEL="WARNING", DO_NOT_TRACK="1")
    return env


@contextmanager
def own_server(settings: Settings) -> Iterator[str]:
    """`prefect server start` on 127.0.0.1:serve_port in serve_prefect_home, for this process's lifetime."""
    port, home = settings.serve_port, settings.serve_prefect_home.expanduser()
    if _port_taken(port):
        raise PrefectUnavailable(
            f"port {port} on 127.0.0.1 is taken (another `wirecopy serve`?): stop what listens there, "
            f"or set serve_port (WIRECOPY_SERVE_PORT), or point PREFECT_API_URL at the server already there")
    try:
        home.mkdir(parents=True, exist_ok=True)
        log = (home / "server.log").open("ab")
    except OSError as exc:
        raise PrefectUnavailable(f"cannot use {home} as the Prefect home of serve's server "
                                 f"(setting serve_prefect_home): {exc.strerror or exc}") from None
    address = f"http://127.0.0.1:{port}"
    _say(f"PREFECT_API_URL is not set; starting a Prefect server at {address} with its own home {home} "
         f"(stopped when serve exits)")
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                               "--port", str(port)], env=_server_environment(home), stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    try:
        deadline = time.monotonic() + settings.prefect_startup_timeout
        while True:
            if server.poll() is not None:
                raise PrefectUnavailable(f"the Prefect server serve started exited with code "
                                         f"{server.returncode}; its log: {home / 'server.log'}")
            try:
                if httpx.get(f"{address}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise PrefectUnavailable(
                    f"the Prefect server serve started did not answer within {settings.prefect_startup_timeout}s "
                    f"(setting prefect_startup_timeout); its log: {home / 'server.log'}")
            time.sleep(0.5)
        yield f"{address}/api"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)


@contextmanager
def prefect_server(settings: Settings) -> Iterator[str]:
    """The configured server (environment or Prefect profile), checked, or serve's own."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    configured = PREFECT_API_URL.value()
    if configured:
        check_reachable(configured)
        _say(f"using the Prefect server at {configured} (PREFECT_API_URL)")
        yield configured
        return
    with own_server(settings) as api:
        os.environ["PREFECT_API_URL"] = api  # for the flow-run processes the runner starts
        with temporary_settings(updates={PREFECT_API_URL: api}):
            yield api


def deployments(feeds_path: str | None, db_path: str | None) -> list:
    """The three flows prefect.yaml deploys, under serve's own deployment name."""
    from flows.backfill import backfill
    from flows.ingest import ingest
    from flows.rebuild_stories import rebuild_stories

    paths = {k: v for k, v in {"feeds_path": feeds_path, "db_path": db_path}.items() if v}
    return [
        ingest.to_deployment(name=DEPLOYMENT_NAME, interval=INGEST_EVERY_SECONDS, parameters=paths,
                             concurrency_limit=1, paused=False),
        backfill.to_deployment(name=DEPLOYMENT_NAME, parameters=paths, concurrency_limit=1, paused=False),
        rebuild_stories.to_deployment(name=DEPLOYMENT_NAME,
                                      parameters={k: v for k, v in paths.items() if k == "db_path"},
                                      concurrency_limit=1, paused=False),
    ]


def serve_flows(settings: Settings, feeds_path: str | None = None, db_path: str | None = None) -> int:
    with prefect_server(settings) as api:
        from prefect.client.orchestration import get_client
        from prefect.exceptions import TerminationSignal
        from prefect.runner import Runner

        from flows.writer import ensure_writer_limit

        print(f"export PREFECT_API_URL={api}", flush=True)
        ensure_writer_limit()
        runner = Runner(name="wirecopy-serve", pause_on_shutdown=True)
        served: dict[str, tuple] = {}
        try:
            for d in deployments(feeds_path, db_path):
                served[d.flow_name] = (d, runner.add_deployment(d))
            with get_client(sync_client=True) as client:
                client.create_flow_run_from_deployment(cast(UUID, served["ingest"][1]))  # sync call: an id
            _say(f"serving {_names(served)}; an ingest now, then every {INGEST_EVERY_SECONDS // 60} minutes; backfill "
                 f"and rebuild-stories on demand (`prefect deployment run 'backfill/{DEPLOYMENT_NAME}' --param ...`)")
            asyncio.run(runner.start())
        except (KeyboardInterrupt, TerminationSignal):
            # The runner pauses them on its shutdown; a stop before it started would leave them
            # unpaused, so pause what was made (again, harmlessly, if the runner did).
            with get_client(sync_client=True) as client:
                for _, deployment_id in served.values():
                    client.pause_deployment(cast(UUID, deployment_id))
        _say(f"stopped; paused its own deployments ({_names(served) or 'none yet'})")
    return 0
