"""The DuckDB file: numbered migrations, named statements from sql/, the single writer, readers,
and one way to run a transaction."""
from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import filelock

from tasks.core.errors import DatabaseBusy, DatabaseError

MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
ROW_GROUP_SIZE = 2048  # rows in a row group this process writes (DuckDB's default: 122,880)


IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@cache
def _statement(name: str) -> str:
    return resources.files("sql").joinpath("queries", f"{name}.sql").read_text()


def sql(name: str, **identifiers: str) -> str:
    """The named statement of sql/queries/, so SQL lives in .sql files. A statement that works
    on one of several tables names it `{table}`; `identifiers` fill those in (names only, never
    values: values are bound as parameters)."""
    text = _statement(name)
    for key, value in identifiers.items():
        if not IDENTIFIER.match(value):
            raise ValueError(f"not an SQL identifier: {value!r}")
        text = text.replace("{" + key + "}", value)
    return text


def scalar(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, object] | None = None,
           **identifiers: str) -> Any:
    """The one value the named statement returns (an aggregate: one row, always)."""
    row = con.execute(sql(name, **identifiers), params).fetchone()
    if row is None:
        raise ValueError(f"statement {name} returned no row")
    return row[0]


def migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("sql").iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text()))
    return sorted(found)


@cache
def wire_agency_sites() -> list[tuple[str, str]]:
    """The agencies' own sites, (agency, domain), as sql/queries/define_wire_agency_sites.sql lists
    them: evaluated once per process in memory (the extraction workers have no database)."""
    con = duckdb.connect()
    try:
        con.execute(sql("define_wire_agency_sites"))
        return [(agency, domain) for agency, domain in con.execute(sql("wire_agency_sites")).fetchall()]
    finally:
        con.close()


def _define_wire_agency_sites(con: duckdb.DuckDBPyConnection) -> None:
    """The list migration 007's wire_own_site() reads, defined when a database lacks it or holds an
    older list: not on every open, since defining it writes the catalog (a full disk would fail
    the run before its load could report it)."""
    try:
        held = [(agency, domain) for agency, domain in con.execute(sql("wire_agency_sites")).fetchall()]
    except duckdb.CatalogException:
        held = None
    if held != wire_agency_sites():
        con.execute(sql("define_wire_agency_sites"))


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply each numbered migration once, in order, recording it; returns the names applied."""
    con.execute(sql("create_schema_migrations"))
    _define_wire_agency_sites(con)
    done = {row[0] for row in con.execute(sql("applied_migrations")).fetchall()}
    applied = []
    for version, name, text in migrations():
        if version in done:
            continue
        with transaction(con, f"applying migration {name}"):
            con.execute(text)
            con.execute(sql("record_migration"), [version, name])
        applied.append(name)
    return applied


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, doing: str, *, outcome: str = "",
                error: type[Exception] = DatabaseError) -> Iterator[None]:
    """BEGIN ... COMMIT around the block. On a database error: roll back and raise `error`
    (DatabaseError, or the caller's boundary: the lake's LakeError) "<doing> failed: <reason>[; <outcome>]",
    one line. Any other error rolls back and goes on as it was.

    A failed COMMIT (disk full) has ended the transaction already, and an error of the ROLLBACK
    must not hide the first one, so the first error is the one kept.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException as exc:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        if isinstance(exc, duckdb.Error):
            raise failure(error, doing, exc, outcome) from None
        raise


def failure(error: type[Exception], doing: str, exc: duckdb.Error, outcome: str = "") -> Exception:
    """The one-line error "<doing> failed: <reason>[; <outcome>]" for a DuckDB error."""
    return error(f"{doing} failed: {one_line(exc)}" + (f"; {outcome}" if outcome else ""))


def one_line(exc: BaseException) -> str:
    """DuckDB appends paragraphs of advice to its errors: the first line is the reason."""
    text = str(exc).strip().splitlines()
    detail = text[0] if text else type(exc).__name__
    if isinstance(exc, duckdb.OutOfMemoryException):
        detail += " (raise the setting db_memory_limit)"
    return detail


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
    # the lake's extensions come from pip wheels
    config: dict[str, str | bool | int | float | list[str]] = {"autoinstall_known_extensions": False}
    if memory_limit:
        config |= {"memory_limit": memory_limit,
                  "temp_directory": str(db_path.with_name(db_path.name + ".tmp"))}
    con = duckdb.connect(config=config)
    try:
        path = str(db_path).replace("'", "''")
        con.execute(f"ATTACH '{path}' AS wirecopy (ROW_GROUP_SIZE {ROW_GROUP_SIZE})")
        con.execute(sql("use_database", database="wirecopy"))
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
        tables = {r[0] for r in con.execute(sql("table_names")).fetchall()}
        yield con if "feeds" in tables else None
    finally:
        con.close()


def migrations_pending(db_path: Path, wait_seconds: float) -> bool:
    """An existing database an earlier version created: the writer migrates it before a run reads it."""
    if not db_path.exists():
        return False
    con = connect(db_path, read_only=True, wait_seconds=wait_seconds)
    try:
        tables = {r[0] for r in con.execute(sql("table_names")).fetchall()}
        done = ({r[0] for r in con.execute(sql("applied_migrations")).fetchall()}
                if "schema_migrations" in tables else set())
    finally:
        con.close()
    return any(version not in done for version, _, _ in migrations())
