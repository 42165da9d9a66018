"""The single writer across machines: Prefect's global `duckdb-writer` concurrency limit."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import httpx
from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError
from prefect.concurrency.sync import concurrency
from prefect.settings import PREFECT_API_URL

from tasks.core import errors

WRITER_LIMIT = "duckdb-writer"


def ensure_writer_limit() -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(WRITER_LIMIT)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=WRITER_LIMIT, limit=1))
            except ObjectAlreadyExists:
                pass


def _take_writer_slot() -> AbstractContextManager[None] | None:
    """One request for the slot: the entered context, or None when another run holds it.

    Not Prefect's own `timeout_seconds`: it cancels a request the server may already have granted,
    and that lease is never released (an ephemeral server has no repossessor to expire it)."""
    # A short lease: a run killed while loading frees the slot in 60 s (the server's minimum), not 300 s.
    # A failed renewal does not abort the load: the file lock still keeps writers apart.
    slot = concurrency(WRITER_LIMIT, occupy=1, max_retries=0, strict=True, lease_duration=60,
                       raise_on_lease_renewal_failure=False)
    try:
        slot.__enter__()
    except ConcurrencySlotAcquisitionError as exc:
        cause = exc.__cause__
        if isinstance(cause, httpx.HTTPStatusError) and cause.response.status_code == 423:
            return None
        raise
    return slot


@contextmanager
def writer_slot(wait_seconds: float) -> Iterator[None]:
    """Prefect's global `duckdb-writer` limit where a Prefect server is configured (runs may be on
    other machines); the file lock beside the database (tasks/store.py) holds in every case."""
    if not PREFECT_API_URL.value():
        yield
        return
    ensure_writer_limit()
    deadline = time.monotonic() + wait_seconds
    while (slot := _take_writer_slot()) is None:
        if time.monotonic() >= deadline:
            raise errors.DatabaseBusy(f"another run holds the '{WRITER_LIMIT}' concurrency slot "
                                     f"for more than {wait_seconds:g}s")
        time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
    try:
        yield
    finally:
        slot.__exit__(None, None, None)
