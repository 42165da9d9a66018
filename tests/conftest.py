from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

import loopback_guard  # noqa: E402

loopback_guard.install()
# Subprocesses (CLI runs, extraction workers) get the same guard through sitecustomize.
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(TESTS / "guard"), str(TESTS.parent)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
for key in [k for k in os.environ if k.startswith("WIRECOPY_")]:
    del os.environ[key]


@pytest.fixture(autouse=True)
def _no_connection_off_loopback():
    before = len(loopback_guard.violations)
    yield
    new = loopback_guard.violations[before:]
    assert not new, f"connections off loopback: {new}"


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(autouse=True)
def _writer_slot_released(request):
    """Fail the test that leaves the `duckdb-writer` slot taken, then free it: the test server never
    expires a lease, so one leaked slot would otherwise fail every later run as busy."""
    yield
    if "prefect_harness" not in request.fixturenames:
        return
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            taken = client.read_global_concurrency_limit_by_name("duckdb-writer").active_slots
        except ObjectNotFound:
            return
        if taken:
            client.delete_global_concurrency_limit_by_name("duckdb-writer")
    assert not taken, f"the test left {taken} duckdb-writer slot(s) taken"


@pytest.fixture
def newsroom():
    from wirecopy.newsroom import Newsroom

    with Newsroom() as room:
        yield room
