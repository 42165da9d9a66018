"""The Prefect API a command runs against, made sure of before any work starts.

With PREFECT_API_URL set (environment or Prefect profile) that server must answer; without it,
Prefect's temporary server is started here, bounded by the `prefect_startup_timeout` setting
rather than Prefect's own 20 s, which a first run (creating Prefect's database) on a busy
machine exceeds. Either failure is a `PrefectUnavailable` naming what to check.
"""
from __future__ import annotations

import os
import threading

STARTUP_TIMEOUT_VARIABLE = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"


class PrefectUnavailable(Exception):
    """Prefect's API could not be started or reached; nothing ran."""


def apply_startup_timeout(seconds: int) -> None:
    """Prefect reads its bound into its settings when it is first imported: call this before."""
    os.environ[STARTUP_TIMEOUT_VARIABLE] = str(seconds)


def ensure_api(startup_timeout: int) -> str:
    """The API URL flows will use: the configured server, checked, or the temporary one, started."""
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME

    configured = PREFECT_API_URL.value()
    if configured:
        check_reachable(configured)
        return configured
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the one instance Prefect's client reuses for this process
    outcome: list[BaseException | None] = []
    starting = threading.Thread(target=_start, args=(server, startup_timeout, outcome), daemon=True)
    starting.start()
    # Prefect restarts a server that exits with code 3 (it takes it for a port taken), which is
    # also how uvicorn exits when the app fails to start, and waits out the bound for any other
    # exit: a second exit, or one with another code, is a server that will not start. Prefect
    # starts the next attempt the moment one exits, so a new process is an exit with code 3.
    attempts: set[int] = set()
    while starting.is_alive():
        starting.join(0.5)
        process = server.server_process
        if process is None:
            continue
        attempts.add(process.pid)
        code = process.poll()
        exited = len(attempts) - 1 + (code is not None)
        if starting.is_alive() and (exited >= 2 or code not in (None, 3)):
            # Stopping ends Prefect's wait (its next look at the process fails), unless it had
            # just started the next attempt: that one is stopped on the next pass.
            while starting.is_alive():
                server.stop()
                starting.join(0.5)
            raise PrefectUnavailable(
                f"Prefect's temporary API server exited as it started (code {3 if code is None else code}); "
                f"check Prefect's home {PREFECT_HOME.value()} (its database, free disk) or the "
                f"PREFECT_API_DATABASE_* settings (`prefect server start` shows the error), or set "
                f"PREFECT_API_URL to a running server")
    if outcome and outcome[0] is not None:
        if "Timed out" not in str(outcome[0]):
            raise PrefectUnavailable(f"Prefect's temporary API server could not start: {_reason(outcome[0])}; "
                                     f"check Prefect's home {PREFECT_HOME.value()}, or set PREFECT_API_URL to a "
                                     "running server")
        raise PrefectUnavailable(
            f"Prefect's temporary API server did not answer within {startup_timeout}s; on a busy or first-run "
            f"machine raise the setting prefect_startup_timeout (WIRECOPY_PREFECT_STARTUP_TIMEOUT), or "
            f"check Prefect's home {PREFECT_HOME.value()}, or set PREFECT_API_URL to a running server")
    return server.api_url


def _start(server, timeout: int, outcome: list[BaseException | None]) -> None:
    try:
        server.start(timeout=timeout)
        outcome.append(None)
    except Exception as exc:  # reported by ensure_api, in the calling thread
        outcome.append(exc)


def check_reachable(api_url: str) -> None:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        failure = client.api_healthcheck()
    if failure is not None:
        raise PrefectUnavailable(f"cannot reach the Prefect API at {api_url} (PREFECT_API_URL): "
                                 f"{_reason(failure)}; start that server, or unset PREFECT_API_URL to "
                                 f"let wirecopy start a temporary one")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
