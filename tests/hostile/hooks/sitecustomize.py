"""Test-only fault hooks for the CLI subprocesses of tests/hostile/test_hostile_faults.py.

Put first on PYTHONPATH by hostile_kit.start_cli(hook=...), so it replaces tests/guard/sitecustomize.py:
it installs the same loopback guard, then, when WIRECOPY_TEST_HOOK names a phase, parks the process
(and writes WIRECOPY_TEST_HOOK_FILE) when the run reaches that phase, so the test can SIGKILL it there:

  extract       in the extraction worker, on a page containing PARK-EXTRACTION
  slow-extract  (no park) extraction of a page containing SLOW-EXTRACTION takes 2 s more, and
                a page containing STUCK-MARK writes WIRECOPY_TEST_HOOK_FILE as its extraction starts
  crash-extract (no park) the extraction worker given a page containing CRASH-EXTRACTION dies of
                SIGSEGV, as on a crash in lxml's C code
  load          inside the load transaction, before the articles are merged
  after-commit  after the load transaction committed, before the staged batches are removed

The product has no such switch; nothing here is imported outside these tests.
"""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))  # tests/
import loopback_guard  # noqa: E402

loopback_guard.install()

HOOK = os.environ.get("WIRECOPY_TEST_HOOK")
MARK = os.environ.get("WIRECOPY_TEST_HOOK_FILE")


def _mark(what: str) -> None:
    """Whole or not at all: the test acts on the file's existence, then reads it."""
    partial = Path(f"{MARK}.partial")
    partial.write_text(f"{what} {os.getpid()}\n")
    os.replace(partial, MARK)


def _park(phase: str) -> None:
    _mark(phase)
    while True:
        time.sleep(60)


if HOOK == "extract":
    import tasks.extract as _extract

    _real_extract = _extract.extract_article

    def _parking_extract(body, url, *args, **kwargs):
        if b"PARK-EXTRACTION" in body:
            _park("extract")
        return _real_extract(body, url, *args, **kwargs)

    _extract.extract_article = _parking_extract

elif HOOK == "slow-extract":  # a healthy page that takes a while, to be in flight beside another
    import tasks.extract as _extract

    _real_extract = _extract.extract_article

    def _slow_extract(body, url, *args, **kwargs):
        if b"STUCK-MARK" in body:  # tell the test this worker is now stuck
            _mark("stuck")
        if b"SLOW-EXTRACTION" in body:
            time.sleep(float(os.environ.get("WIRECOPY_TEST_HOOK_SECONDS", "2")))
        return _real_extract(body, url, *args, **kwargs)

    _extract.extract_article = _slow_extract

elif HOOK == "crash-extract":
    import signal

    import tasks.extract as _extract

    _real_extract = _extract.extract_article

    def _crashing_extract(body, url, *args, **kwargs):
        if b"CRASH-EXTRACTION" in body:
            os.kill(os.getpid(), signal.SIGSEGV)
        return _real_extract(body, url, *args, **kwargs)

    _extract.extract_article = _crashing_extract

elif HOOK == "load":
    import tasks.store as _store

    _real_sql = _store.sql

    def _parking_sql(name, **identifiers):
        if name == "merge_articles":
            _park("load")
        return _real_sql(name, **identifiers)

    _store.sql = _parking_sql

elif HOOK == "after-commit":
    import tasks.staging as _staging

    _real_remove = _staging.remove_batches

    def _parking_remove(batches):
        if batches:
            _park("after-commit")
        return _real_remove(batches)

    _staging.remove_batches = _parking_remove
