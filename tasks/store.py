"""Loading the staging area into the database, and the few reads a run needs."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from tasks import lake, staging
from tasks.core.errors import DatabaseError, LakeError
from tasks.core.records import ChildSitemap, FeedState, LoadSummary, PollHistory
from tasks.core.settings import Settings
from tasks.db import migrations_pending, scalar, sql, transaction, writer

LOAD_GROUP_BATCHES = 10  # staged batches merged per transaction (about 500 pages)


@dataclass(frozen=True)
class PublishTo:
    """Where and as whom a load publishes (tasks/lake.py)."""
    settings: Settings
    publisher: lake.Publisher


StoryHook = Callable[[duckdb.DuckDBPyConnection], int]


def load_staged(db_path: Path, staging_dir: Path, *, wait_seconds: float, assign_stories: StoryHook,
                group_batches: int = LOAD_GROUP_BATCHES, memory_limit: str | None = None,
                publish: PublishTo | None = None) -> LoadSummary:
    """Merge every completed staging batch, oldest first, and delete the batches: each group of
    up to `group_batches` batches in one transaction, deleted once committed, so the memory a load
    takes does not grow with the backlog. Then, if asked, publish everything not yet published
    (this load's work and any an earlier publish left) to the lake.

    `assign_stories` runs inside each group's transaction, after its tables are merged, and
    returns how many articles it assigned: a story is never committed apart from its articles.
    Merges are keyed on natural keys, so a batch loaded twice (a crash between commit and
    delete) changes nothing.
    """
    started = time.perf_counter()
    staging.remove_abandoned(staging_dir)
    batches = staging.complete_batches(staging_dir)
    summary = LoadSummary(batches=len(batches))
    if not has_leftovers(db_path, staging_dir, wait_seconds=wait_seconds) and (publish is None or not db_path.exists()):
        summary.seconds = time.perf_counter() - started
        return summary
    with writer(db_path, wait_seconds=wait_seconds, memory_limit=memory_limit) as con:
        for i in range(0, len(batches), group_batches):
            group = batches[i:i + group_batches]
            with transaction(con, f"loading staged work into {db_path}", outcome="the work stays staged"):
                _merge_batches(con, group, summary)
                hook_started = time.perf_counter()
                summary.articles_new_or_changed += assign_stories(con)
                summary.dedup_seconds += time.perf_counter() - hook_started
            staging.remove_batches(group)
        if publish is not None:
            try:
                published = lake.publish(con, publish.settings, publish.publisher)
            except LakeError as exc:
                raise DatabaseError(str(exc)) from None
            summary.published_version, summary.publish_seconds = published.version, published.seconds
    summary.seconds = time.perf_counter() - started
    return summary


def has_leftovers(db_path: Path, staging_dir: Path, *, wait_seconds: float) -> bool:
    """Staged work an earlier run left, or a database an earlier version created: what a run's
    first load is for. Without either, a run need not take the writer's slot twice."""
    return bool(staging.complete_batches(staging_dir)) or migrations_pending(db_path, wait_seconds)


def _merge_batches(con: duckdb.DuckDBPyConnection, batches: list[Path], summary: LoadSummary) -> None:
    """Merge each table's staged rows; `summary.rows` counts them by table."""
    for table in staging.TABLES:
        files = staging.batch_files(batches, table)
        if not files:
            continue
        con.execute(sql("stage_table", table=table), {"files": files})
        _add_missing_columns(con, table)
        lake.note_pending(con, table)
        con.execute(sql(f"merge_{table}"))
        summary.rows[table] = summary.rows.get(table, 0) + scalar(con, "count_merged", table=table)


_DUCKDB_TYPES = {pa.string(): "varchar", staging.TS: "timestamptz", pa.int32(): "integer", pa.int64(): "bigint",
                 pa.bool_(): "boolean", pa.binary(): "blob", pa.float64(): "double"}


def _add_missing_columns(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Batches staged by an earlier version lack columns added since: give them NULLs, so the
    merge statements can name every column."""
    present = {r[0] for r in con.execute(sql("staged_columns", table=table)).fetchall()}
    for column in staging.SCHEMAS[table]:
        if column.name not in present:
            con.execute(sql("add_staged_column", table=table, column=column.name, type=_DUCKDB_TYPES[column.type]))


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
