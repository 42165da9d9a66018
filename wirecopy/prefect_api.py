"""The Prefect API a command runs against, made sure of before any work starts.

With PREFECT_API_URL set (environment or Prefect profile) that server must answer; without it,
Prefect's temporary server is started here, bounded by the `prefect_startup_timeout` setting
rather than Prefect's own 20 s, which a first run (creating Prefect's database) on a busy
machine exceeds. Either failure is a `PrefectUnavailable` naming what to check.
"""
from __future__ import annotations

import os

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
    try:
        server.start(timeout=startup_timeout)
    except RuntimeError as exc:
        reason = "did not answer" if "Timed out" in str(exc) else f"failed: {str(exc).splitlines()[0]}"
        raise PrefectUnavailable(
            f"Prefect's temporary API server {reason} within {startup_timeout}s; on a busy or first-run "
            f"machine raise the setting prefect_startup_timeout (WIRECOPY_PREFECT_STARTUP_TIMEOUT), or "
            f"check Prefect's home {PREFECT_HOME.value()}, or set PREFECT_API_URL to a running server") from None
    return server.api_url


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
