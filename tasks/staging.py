"""The staging area: work fetched and extracted waits here, as Parquet, until the single writer loads it.

A batch is a directory made under a temporary name and renamed when complete, so a run killed
mid-write leaves nothing half-readable; loading is idempotent, so a batch loaded twice is harmless.
"""
from __future__ import annotations

import os
import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tasks.core.errors import DatabaseError

TS = pa.timestamp("us", tz="UTC")

SCHEMAS: dict[str, pa.Schema] = {
    "feed_state": pa.schema([
        ("configured_url", pa.string()), ("url", pa.string()), ("outlet", pa.string()),
        ("etag", pa.string()), ("last_modified", pa.string()), ("last_polled_at", TS),
        ("last_status", pa.string()), ("last_error", pa.string()),
        ("consecutive_failures", pa.int32()), ("next_poll_at", TS), ("gone", pa.bool_()),
        ("kind", pa.string()), ("poll_interval_seconds", pa.float64()), ("poll_reason", pa.string()),
    ]),
    "feed_polls": pa.schema([
        ("feed_url", pa.string()), ("polled_at", TS), ("status", pa.string()), ("error", pa.string()),
        ("entries_seen", pa.int32()), ("entries_new", pa.int32()), ("bytes", pa.int64()),
        ("duration_ms", pa.int32()), ("blocked_by", pa.string()),
    ]),
    "feed_entries": pa.schema([
        ("feed_url", pa.string()), ("entry_id", pa.string()), ("url", pa.string()),
        ("title", pa.string()), ("author", pa.string()), ("published_at", TS),
        ("first_seen_at", TS),
    ]),
    "sitemap_children": pa.schema([
        ("feed_url", pa.string()), ("sitemap_url", pa.string()), ("index_lastmod", TS), ("listed_at", TS),
        ("etag", pa.string()), ("last_modified", pa.string()), ("read_lastmod", TS),
        ("last_polled_at", TS), ("last_status", pa.string()), ("updated_at", TS),
    ]),
    "robots_txt": pa.schema([
        ("origin", pa.string()), ("fetched_at", TS), ("expires_at", TS), ("status", pa.int32()),
        ("fingerprint", pa.string()), ("body", pa.string()),
    ]),
    "fetch_queue": pa.schema([
        ("url", pa.string()), ("feed_url", pa.string()), ("outlet", pa.string()),
        ("feed_title", pa.string()), ("feed_published_at", TS), ("status", pa.string()),
        ("attempts", pa.int32()), ("last_error", pa.string()), ("last_attempt_at", TS),
        ("next_attempt_at", TS), ("updated_at", TS), ("robots_fingerprint", pa.string()),
    ]),
    "raw_pages": pa.schema([
        ("url", pa.string()), ("final_url", pa.string()), ("http_status", pa.int32()),
        ("content_type", pa.string()), ("fetched_at", TS), ("bytes", pa.int64()),
        ("body_zlib", pa.binary()),
    ]),
    "page_errors": pa.schema([
        ("url", pa.string()), ("feed_url", pa.string()), ("attempted_at", TS),
        ("kind", pa.string()), ("error", pa.string()), ("blocked_by", pa.string()),
    ]),
    "articles": pa.schema([
        ("article_id", pa.string()), ("url", pa.string()), ("outlet", pa.string()),
        ("feed_url", pa.string()), ("title", pa.string()), ("authors", pa.string()),
        ("published_at", TS), ("fetched_at", TS), ("text", pa.string()), ("language", pa.string()),
        ("wire_service", pa.string()), ("site_name", pa.string()), ("description", pa.string()),
        ("page_url", pa.string()), ("extracted_at", TS), ("cleaning_emptied", pa.bool_()),
    ]),
}

# The order tables are merged in: feeds before what refers to them, articles last.
TABLES = tuple(SCHEMAS)


def write_batch(staging_dir: Path, rows: dict[str, list[dict]]) -> Path | None:
    """Write one batch atomically; returns its directory, or None when there was nothing to stage."""
    unknown = set(rows) - set(SCHEMAS)
    if unknown:
        raise ValueError(f"unknown staging tables: {sorted(unknown)}")
    if not any(rows.values()):
        return None
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    name = f"{stamp}-{uuid.uuid4().hex[:8]}"
    tmp = staging_dir / f".tmp-{name}"
    try:
        staging_dir.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        for table, table_rows in rows.items():
            if table_rows:
                pq.write_table(pa.Table.from_pylist(table_rows, schema=SCHEMAS[table]),
                               tmp / f"{table}.parquet", compression="zstd")
        _fsync_dir(tmp)
        final = staging_dir / name
        os.rename(tmp, final)
        _fsync_dir(staging_dir)
    except OSError as exc:  # disk full, read-only filesystem, permissions: the run cannot go on
        shutil.rmtree(tmp, ignore_errors=True)
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise DatabaseError(f"cannot write the staging area {staging_dir} beside the database: {reason}") from None
    return final


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def complete_batches(staging_dir: Path) -> list[Path]:
    """Completed batches, oldest first; half-written ones (.tmp-*) are ignored."""
    if not staging_dir.is_dir():
        return []
    return sorted(p for p in staging_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def batch_files(batches: list[Path], table: str) -> list[str]:
    return [str(f) for b in batches if (f := b / f"{table}.parquet").exists()]


def remove_batches(batches: list[Path]) -> None:
    for batch in batches:
        shutil.rmtree(batch, ignore_errors=True)


def remove_abandoned(staging_dir: Path, older_than_seconds: float = 3600) -> None:
    """Half-written batches from killed runs: nothing in them was complete, so nothing is lost."""
    if not staging_dir.is_dir():
        return
    now = datetime.now().timestamp()
    for p in staging_dir.glob(".tmp-*"):
        if now - p.stat().st_mtime > older_than_seconds:
            shutil.rmtree(p, ignore_errors=True)
