"""The extraction pool: the worker processes that extract pages, each page within settings.extract_timeout.

lxml and trafilatura can spend hours in C code on a hostile page, where only ending the process
stops them, and a page can crash or exhaust its worker. pebble's ProcessPool starts a page's
timeout when a worker takes it (not while it is queued, nor while a worker starts), kills only the
worker that overran or lost, and starts another in its place: the pages extracting beside it are
not touched. One pool serves the batch tasks of a process (they run their event loops in
different threads); `shutdown_pool` stops it after a run's pages.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
import zlib
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import TypeVar

from pebble import ProcessExpired, ProcessPool

from tasks.core.errors import ExtractCrash, ExtractTimeout
from tasks.core.settings import Settings

T = TypeVar("T")

_pool_lock = threading.Lock()
_pool: ProcessPool | None = None
_pool_workers = 0


def article_or_reason(body: bytes, url: str, feed_title: str | None,
                      feed_published_at: datetime | None) -> tuple[dict | None, str | None]:
    """The extracted article as a dict, or None and why: a hostile page must not fail its batch."""
    from tasks.core.errors import ExtractionError
    from tasks.extract import extract_article

    try:
        article = extract_article(body, url, feed_title=feed_title, feed_published_at=feed_published_at)
    except ExtractionError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001
        return None, f"{type(exc).__name__}: {str(exc)[:500]}"
    return article.__dict__.copy(), None


def extract_page(body: bytes, url: str, feed_title: str | None,
                 feed_published_at: datetime | None) -> tuple[bytes, dict | None, str | None, float]:
    """Runs in a worker process: compress the raw page and extract the article from it.
    Returns the compressed page, the article (or None and the reason) and the seconds it took."""
    started = time.perf_counter()
    compressed = zlib.compress(body, 1)  # level 6: 3x the CPU (a tenth of extraction) for 15% less space
    article, error = article_or_reason(body, url, feed_title, feed_published_at)
    return compressed, article, error, time.perf_counter() - started


def _warm_worker() -> None:
    import tasks.extract  # noqa: F401  (pay trafilatura's import once per worker, before its first page)


def _shared_pool(workers: int) -> ProcessPool | None:
    """The process's pool of `workers` processes, started on first use and again after it broke;
    None where extraction runs in a thread."""
    global _pool, _pool_workers
    if workers <= 0 or multiprocessing.current_process().daemon:
        return None  # daemonic processes (Dask workers) may not start children
    with _pool_lock:
        if _pool is not None and _pool.active and _pool_workers == workers:
            return _pool
        stale, _pool = _pool, ProcessPool(max_workers=workers, initializer=_warm_worker,
                                          context=multiprocessing.get_context("spawn"))
        _pool_workers = workers
        pool = _pool
    if stale is not None:
        _stop(stale)
    return pool


def _stop(pool: ProcessPool) -> None:
    """Stop a pool once the pages given to it are done (at once if it broke)."""
    pool.close()
    pool.join()


def shutdown_pool() -> None:
    """Stop the extraction workers once a run's pages are done, so the memory they hold (a
    trafilatura and a language model each) is free for the load; the next batch starts new ones."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        _stop(pool)


async def extract_in_pool(worker: Callable[..., T], args: tuple, settings: Settings) -> T:
    """worker(*args) (extract_page, or reprocess's) on the shared pool, within settings.extract_timeout.

    Past the limit its worker is killed and replaced (ExtractTimeout). A page whose worker died
    under it (a crash, or the kernel's OOM killer, which may pick a worker other than the one that
    grew) is given to the pool once more, then ExtractCrash is raised. With no pool
    (extract_workers = 0, or a daemonic Dask worker) extraction runs in a thread, which cannot be
    stopped: the limit does not apply there.
    """
    for attempt in (1, 2):
        pool = _shared_pool(settings.extract_workers)
        if pool is None:
            return await asyncio.to_thread(worker, *args)
        try:
            future = pool.schedule(worker, args=args, timeout=settings.extract_timeout)
        except RuntimeError as exc:  # the pool broke, or was shut down, since it was handed out
            lost: Exception = exc
        else:
            try:
                return await asyncio.wrap_future(future)
            except TimeoutError:
                raise ExtractTimeout(f"extraction took longer than {settings.extract_timeout:g}s; "
                                     "its worker was stopped") from None
            except (ProcessExpired, BrokenProcessPool) as exc:
                lost = exc
        if attempt == 2:
            code = f" (exit code {lost.exitcode})" if isinstance(lost, ProcessExpired) else ""
            raise ExtractCrash(f"the extraction worker died on this page{code}") from lost
    raise AssertionError("unreachable")
