from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import sys
import tempfile
from pathlib import Path
from unittest import mock

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))


def _isolate_from_the_users_settings() -> Path:
    """Runs at import, before anything imports Prefect (which reads its settings then), and holds
    for every subprocess a test starts, as they inherit this environment: no setting of the user's
    Prefect (API URL, profile, home, database), proxy or wirecopy reaches a test; Prefect's home is
    a folder of this test process, removed at its end (one per xdist worker)."""
    if "prefect" in sys.modules:
        raise RuntimeError("tests/conftest.py must run before Prefect is imported")
    for key in [k for k in os.environ if k.startswith(("PREFECT_", "WIRECOPY_"))
                or k.lower() in {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}]:
        del os.environ[key]
    home = Path(tempfile.mkdtemp(prefix="wirecopy-tests-prefect-home-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.environ.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
                      WIRECOPY_SERVE_PREFECT_HOME=str(home / "serve"))
    return home


PREFECT_HOME = _isolate_from_the_users_settings()

import loopback_guard  # noqa: E402
import prefect_db  # noqa: E402

loopback_guard.install()
# Subprocesses (CLI runs, extraction workers) get the same guard through sitecustomize.
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(TESTS / "guard"), str(TESTS.parent)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups off the markers
def pytest_collection_modifyitems(config, items):
    """Under xdist's `--dist loadgroup`, tests sharing a module-scoped fixture run on one worker,
    so its (costly) set-up happens once, as in a serial run; every other test is scheduled on its
    own, so the workers balance. Tests that need the Prefect test server are `slow`: `make
    check` leaves them out."""
    own_server = set()  # marked slow by hand: they start Prefect servers of their own
    for item in items:
        if item.get_closest_marker("slow"):
            own_server.add(item.nodeid)
        fixtures = getattr(item, "_fixtureinfo", None)
        defs = fixtures.name2fixturedefs if fixtures else {}
        if any(d and d[-1].scope == "module" for d in defs.values()):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
        if "prefect_harness" in item.fixturenames:
            item.add_marker(pytest.mark.slow)
    # xdist hands out work in this order: the longest tests (a server of their own) first, those
    # that need no template database before those that wait for it to be made; then the files
    # holding slow tests, each file's tests together and in order; the quick tests last, to fill
    # in while another worker ends a long one.
    with_slow = {item.path for item in items if item.get_closest_marker("slow")}

    def order(item: pytest.Item) -> tuple[bool, bool, bool]:
        own = item.nodeid in own_server
        return not own, own and "prefect_database_template" in item.fixturenames, item.path not in with_slow

    items.sort(key=order)


@pytest.fixture(autouse=True)
def _no_connection_off_loopback():
    before = len(loopback_guard.violations)
    yield
    new = loopback_guard.violations[before:]
    assert not new, f"connections off loopback: {new}"


@pytest.fixture(scope="session")
def prefect_database_template(tmp_path_factory, worker_id) -> Path:
    """A Prefect database migrated and with its blocks registered, made once per test run and shared
    by the xdist workers (under a lock): a server's first start spends about 15 s of CPU creating its
    database, and most test servers start from a copy of this one. The tests of a first start use
    a fresh Prefect home instead."""
    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    template = shared / "prefect-template.db"
    with open(shared / "prefect-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not template.exists():
            partial = shared / "prefect-template.db.partial"
            prefect_db.migrate(partial)
            partial.rename(template)
    return template


@pytest.fixture(scope="session")
def prefect_harness(prefect_database_template):
    """Prefect's test server, its database a copy of the template (Prefect's harness names the
    folder it makes with mkdtemp and the file prefect-test.db; should either change, the server
    creates its database itself, only slower). Its event services are off: no test reads task-run
    or event records, and on SQLite their writes held up the flows' concurrency-slot requests."""
    import prefect.settings as settings
    import prefect.testing.utilities as harness

    folder = Path(tempfile.mkdtemp(prefix="wirecopy-tests-prefect-server-"))
    prefect_db.seed(prefect_database_template, folder / "prefect-test.db")
    no_event_services = {getattr(settings, f"PREFECT_SERVER_SERVICES_{name}_ENABLED"): False for name in
                         ("TASK_RUN_RECORDER", "EVENT_PERSISTER", "EVENT_LOGGER", "TRIGGERS")}
    with settings.temporary_settings(updates=no_event_services), \
            mock.patch.object(harness, "mkdtemp", lambda: str(folder)), \
            harness.prefect_test_harness(server_startup_timeout=600):  # slow on a busy machine
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
