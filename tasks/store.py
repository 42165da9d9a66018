"""The DuckDB store: migrations, the single writer, and the few reads a run needs."""
from __future__ import annotations

import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterator

import duckdb
import filelock
import pyarrow as pa

from tasks import dedup, lake, staging
from tasks.feeds import FeedState
from wirecopy.settings import Settings
from tasks.sources import ChildSitemap

MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
ROW_GROUP_SIZE = 2048  # rows in a row group this process writes (DuckDB's default: 122,880)
LOAD_GROUP_BATCHES = 10  # staged batches merged per transaction (about 500 pages)


class DatabaseBusy(Exception):
    """Another process holds the database (a writer, or a reader while we need to write)."""


class DatabaseError(Exception):
    """The database file cannot be opened or written (path, permissions, disk full, corruption)."""


@lru_cache(maxsize=None)
def sql(name: str) -> str:
    """A named statement from sql/queries/, so SQL lives in .sql files."""
    return resources.files("sql").joinpath("queries", f"{name}.sql").read_text()


def migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("sql").iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text()))
    return sorted(found)


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply each numbered migration once, in order, recording it; returns the names applied."""
    con.execute("""
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)""")
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, text in migrations():
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(text)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
            con.execute("COMMIT")
        except Exception:
            _rollback(con)
            raise
        applied.append(name)
    return applied


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back if a transaction is still open: a failed COMMIT (disk full) has ended it already,
    and a second error must not hide the first."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


def _is_lock_conflict(exc: Exception) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def _busy(db_path: Path, wait_seconds: float) -> str:
    return (f"database {db_path} is held by another process (a running ingest, or an open connection) "
            f"and stayed busy for {wait_seconds:g}s (setting db_wait_seconds)")


def connect(db_path: Path, *, read_only: bool = False, wait_seconds: float = 0.0,
            memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open the database, waiting up to `wait_seconds` while another process holds it."""
    deadline = time.monotonic() + wait_seconds
    delay = 0.1
    while True:
        try:
            if read_only:
                return duckdb.connect(str(db_path), read_only=True)
            db_path.parent.mkdir(parents=True, exist_ok=True)
            return _open_for_writing(db_path, memory_limit)
        except duckdb.IOException as exc:
            if not _is_lock_conflict(exc):
                raise DatabaseError(f"cannot open database {db_path}: {exc}") from None
            if time.monotonic() >= deadline:
                raise DatabaseBusy(_busy(db_path, wait_seconds)) from None
        except (duckdb.Error, OSError) as exc:
            raise DatabaseError(f"cannot open database {db_path}: {exc}") from None
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


def _open_for_writing(db_path: Path, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A read-write connection whose new row groups hold ROW_GROUP_SIZE rows.

    A checkpoint rewrites a table's last, partly filled row group whole. With DuckDB's default
    size that is up to 122,880 raw pages, gigabytes of blobs read into memory, so every load cost
    more than the one before it. The size is an ATTACH option and holds for this connection only.
    `memory_limit` caps DuckDB's cache; what does not fit spills to a folder beside the database.
    """
    config = {"autoinstall_known_extensions": False}  # the lake's extensions come from pip wheels
    if memory_limit:
        config |= {"memory_limit": memory_limit,
                  "temp_directory": str(db_path.with_name(db_path.name + ".tmp"))}
    con = duckdb.connect(config=config)
    try:
        path = str(db_path).replace("'", "''")
        con.execute(f"ATTACH '{path}' AS wirecopy (ROW_GROUP_SIZE {ROW_GROUP_SIZE})")
        con.execute("USE wirecopy")
    except BaseException:
        con.close()
        raise
    return con


def check_openable(db_path: Path) -> None:
    """Fail fast, before any fetching, when the database file is unusable (busy is fine: runs wait)."""
    if db_path.exists():
        try:
            connect(db_path, read_only=True).close()
        except DatabaseBusy:
            pass
        return
    parent = db_path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"cannot create the folder for database {db_path}: {exc.strerror or exc}") from None
    if not os.access(parent, os.W_OK):
        raise DatabaseError(f"cannot create database {db_path}: folder {parent} is not writable")


@contextmanager
def writer(db_path: Path, *, wait_seconds: float,
           memory_limit: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The one writer: a file lock beside the database, then a read-write connection, migrated."""
    lock = filelock.FileLock(str(db_path.with_name(db_path.name + ".lock")))
    started = time.monotonic()
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=wait_seconds)
    except filelock.Timeout:
        raise DatabaseBusy(f"another wirecopy run is writing {db_path} "
                           f"(lock held for more than {wait_seconds:g}s)") from None
    except OSError as exc:
        raise DatabaseError(f"cannot create the lock file beside {db_path}: {exc}") from None
    try:
        remaining = max(wait_seconds - (time.monotonic() - started), 0.0)
        try:
            con = connect(db_path, wait_seconds=remaining, memory_limit=memory_limit)
        except DatabaseBusy:
            raise DatabaseBusy(_busy(db_path, wait_seconds)) from None  # the whole wait, not what was left
        try:
            apply_migrations(con)
            yield con
        finally:
            con.close()
    finally:
        lock.release()


@contextmanager
def reader(db_path: Path, *, wait_seconds: float) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A read-only connection, or None when the database does not exist yet."""
    if not db_path.exists():
        yield None
        return
    con = connect(db_path, read_only=True, wait_seconds=wait_seconds)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        yield con if "feeds" in tables else None
    finally:
        con.close()


@dataclass
class LoadSummary:
    batches: int = 0
    articles: int = 0
    articles_new_or_changed: int = 0
    seconds: float = 0.0  # the whole load: waiting for the lock, merging, assigning stories
    dedup_seconds: float = 0.0  # of which assigning stories
    published_version: int | None = None  # the lake snapshot this load published, if it published
    publish_seconds: float = 0.0


@dataclass(frozen=True)
class PublishTo:
    """Where and as whom a load publishes (tasks/lake.py)."""
    settings: Settings
    publisher: lake.Publisher


def load_staged(db_path: Path, staging_dir: Path, *, wait_seconds: float,
                group_batches: int = LOAD_GROUP_BATCHES, memory_limit: str | None = None,
                publish: PublishTo | None = None) -> LoadSummary:
    """Merge every completed staging batch, oldest first, and delete the batches: each group of
    up to `group_batches` batches in one transaction (stories assigned in it too), deleted once
    committed, so the memory a load takes does not grow with the backlog. Then, if asked, publish
    everything not yet published (this load's work and any an earlier publish left) to the lake.

    Merges are keyed on natural keys, so a batch loaded twice (a crash between commit and
    delete) changes nothing.
    """
    started = time.perf_counter()
    staging.remove_abandoned(staging_dir)
    batches = staging.complete_batches(staging_dir)
    summary = LoadSummary(batches=len(batches))
    if not batches and not _migrations_pending(db_path, wait_seconds) and (publish is None or not db_path.exists()):
        summary.seconds = time.perf_counter() - started
        return summary
    with writer(db_path, wait_seconds=wait_seconds, memory_limit=memory_limit) as con:
        for i in range(0, len(batches), group_batches):
            group = batches[i:i + group_batches]
            _merge_batches(con, db_path, group, summary)
            staging.remove_batches(group)
        if publish is not None:
            try:
                published = lake.publish(con, publish.settings, publish.publisher)
            except lake.LakeError as exc:
                raise DatabaseError(str(exc)) from None
            summary.published_version, summary.publish_seconds = published.version, published.seconds
    summary.seconds = time.perf_counter() - started
    return summary


def _migrations_pending(db_path: Path, wait_seconds: float) -> bool:
    """An existing database an earlier version created: the writer migrates it before a run reads it."""
    if not db_path.exists():
        return False
    con = connect(db_path, read_only=True, wait_seconds=wait_seconds)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        done = ({r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
                if "schema_migrations" in tables else set())
    finally:
        con.close()
    return any(version not in done for version, _, _ in migrations())


def _merge_batches(con: duckdb.DuckDBPyConnection, db_path: Path, batches: list[Path],
                   summary: LoadSummary) -> None:
    """Merge these staged batches and assign stories to their new articles, in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        for table in staging.TABLES:
            files = staging.batch_files(batches, table)
            if not files:
                continue
            con.execute(f"CREATE OR REPLACE TEMP TABLE staged_{table} AS "
                        "SELECT * FROM read_parquet($files, union_by_name = true)", {"files": files})
            _add_missing_columns(con, table)
            lake.note_pending(con, table)
            con.execute(sql(f"merge_{table}"))
            if table == "articles":
                summary.articles += con.execute("SELECT count(*) FROM merge_articles").fetchone()[0]
                ids = [r[0] for r in con.execute("SELECT article_id FROM articles_needing_story").fetchall()]
                summary.articles_new_or_changed += len(ids)
                dedup_started = time.perf_counter()
                dedup.assign_stories(con, ids)
                summary.dedup_seconds += time.perf_counter() - dedup_started
        con.execute("COMMIT")
    except duckdb.Error as exc:
        _rollback(con)
        detail = str(exc).strip().splitlines()[0]  # DuckDB appends paragraphs of advice: one line is the reason
        if isinstance(exc, duckdb.OutOfMemoryException):
            detail += " (raise the setting db_memory_limit; the work stays staged)"
        raise DatabaseError(f"loading staged work into {db_path} failed: {detail}") from None


_DUCKDB_TYPES = {pa.string(): "VARCHAR", staging.TS: "TIMESTAMPTZ", pa.int32(): "INTEGER", pa.int64(): "BIGINT",
                 pa.bool_(): "BOOLEAN", pa.binary(): "BLOB", pa.float64(): "DOUBLE"}


def _add_missing_columns(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Batches staged by an earlier version lack columns added since: give them NULLs, so the
    merge statements can name every column."""
    present = {r[0] for r in con.execute(f"DESCRIBE staged_{table}").fetchall()}
    for column in staging.SCHEMAS[table]:
        if column.name not in present:
            con.execute(f"ALTER TABLE staged_{table} ADD COLUMN {column.name} {_DUCKDB_TYPES[column.type]}")


def read_feed_states(con: duckdb.DuckDBPyConnection | None) -> dict[str, FeedState]:
    if con is None:
        return {}
    rows = con.execute(sql("feed_states")).fetchall()
    return {r[0]: FeedState(configured_url=r[0], url=r[1], outlet=r[2], etag=r[3], last_modified=r[4],
                            consecutive_failures=r[5], next_poll_at=r[6], gone=r[7], kind=r[8]) for r in rows}


def read_due_fetches(con: duckdb.DuckDBPyConnection | None, *, now: datetime, max_attempts: int,
                     limit: int, respect_robots: bool = True) -> list[tuple]:
    if con is None:
        return []
    return con.execute(sql("due_fetches"), {"now": now, "max_attempts": max_attempts, "limit": limit,
                                            "respect_robots": respect_robots}).fetchall()


@dataclass
class PollHistory:
    """What a poll needs to know of its feeds' past: recent entries (id -> when it appeared) for the
    scheduler, and the children a sitemap index listed."""

    entries: dict[str, dict[str, datetime]] = field(default_factory=dict)
    children: dict[str, list[ChildSitemap]] = field(default_factory=dict)


def read_poll_history(con: duckdb.DuckDBPyConnection | None, feed_urls: list[str], *,
                      since: datetime) -> PollHistory:
    history = PollHistory()
    if con is None or not feed_urls:
        return history
    con.register("candidates", pa.table({"url": pa.array(feed_urls, pa.string())}))
    try:
        for feed_url, entry_id, appeared in con.execute(sql("recent_feed_entries"), {"since": since}).fetchall():
            history.entries.setdefault(feed_url, {})[entry_id] = appeared
        for r in con.execute(sql("listed_sitemap_children")).fetchall():
            history.children.setdefault(r[0], []).append(ChildSitemap(
                sitemap_url=r[1], listed_at=r[2], index_lastmod=r[3], etag=r[4], last_modified=r[5],
                read_lastmod=r[6], last_polled_at=r[7], last_status=r[8]))
    finally:
        con.unregister("candidates")
    return history


def read_known_robots(con: duckdb.DuckDBPyConnection | None, origins: list[str]) -> list[tuple]:
    return [] if con is None or not origins else _with_candidates(con, origins, "known_robots")


def read_blocked_hosts(con: duckdb.DuckDBPyConnection | None, *, since: datetime) -> list[tuple]:
    return [] if con is None else con.execute(sql("blocked_hosts"), {"since": since}).fetchall()


def _with_candidates(con: duckdb.DuckDBPyConnection, urls: list[str], query: str) -> list[tuple]:
    """Run `query` against the URLs as a table named `candidates`."""
    con.register("candidates", pa.table({"url": pa.array(urls, pa.string())}))
    try:
        return con.execute(sql(query)).fetchall()
    finally:
        con.unregister("candidates")


def read_known_urls(con: duckdb.DuckDBPyConnection | None, urls: list[str]) -> set[str]:
    """URLs already queued or stored: a feed listing them again is not news."""
    return set() if con is None or not urls else {r[0] for r in _with_candidates(con, urls, "known_urls")}


def read_stored_urls(con: duckdb.DuckDBPyConnection | None, urls: list[str]) -> set[str]:
    """URLs a backfill need not fetch; pending ones from a killed run are fetched again."""
    return set() if con is None or not urls else {r[0] for r in _with_candidates(con, urls, "stored_urls")}


def read_reprocess_urls(con: duckdb.DuckDBPyConnection | None, *, start: datetime, end: datetime,
                        outlet: str | None) -> list[str]:
    if con is None:
        return []
    rows = con.execute(sql("reprocess_candidates"), {"start": start, "end": end, "outlet": outlet}).fetchall()
    return [r[0] for r in rows]


def read_stored_outlets(con: duckdb.DuckDBPyConnection | None) -> list[str]:
    return [] if con is None else [r[0] for r in con.execute(sql("stored_outlets")).fetchall()]


def read_stored_pages(con: duckdb.DuckDBPyConnection | None, urls: list[str]) -> list[tuple]:
    return [] if con is None or not urls else _with_candidates(con, urls, "stored_pages")


def read_feed_status(con: duckdb.DuckDBPyConnection | None) -> list[tuple]:
    return [] if con is None else con.execute(sql("feed_status")).fetchall()
