"""Publishing: the writer's DuckDB file stays private; each run copies what it changed into a DuckLake
that analysts attach read-only.

One DuckLake transaction per publish, so readers see a run whole (its articles with their stories)
or not at all, and each publish is a snapshot they can query later (`AT (VERSION => n)`). The
catalog is a SQLite file in WAL mode beside the database (one machine: readers never block the
writer, nor it them) or PostgreSQL (team mode). What a publish copies is what the run's merges
touched (keys noted in the same transaction as the merge) plus the story assignments that changed,
so its cost follows the run, not the store.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

from tasks import db
from tasks.core.errors import LakeError
from tasks.core.settings import Settings

LAKE = "lake"  # the writer's name for the lake (sql/queries/publish_*.sql name it); readers attach it as `wirecopy`
READER_ALIAS = "wirecopy"
EXTENSIONS = {"ducklake": "ducklake", "sqlite": "sqlite_scanner", "postgres": "postgres_scanner"}


@dataclass(frozen=True)
class Keyed:
    """A published table and its natural key; `insert_only`: rows are never changed once merged."""
    keys: tuple[str, ...]
    insert_only: bool = False


KEYED: dict[str, Keyed] = {
    "articles": Keyed(("article_id",)),
    "raw_pages": Keyed(("url",)),
    "fetch_queue": Keyed(("url",)),
    "feed_entries": Keyed(("feed_url", "entry_id"), insert_only=True),
    "feed_polls": Keyed(("feed_url", "polled_at"), insert_only=True),
    "page_errors": Keyed(("url", "attempted_at"), insert_only=True),
}
PUBLISHED = (*KEYED, "stories", "feeds")  # the rest (story index, migrations, publish state) stays private


@dataclass(frozen=True)
class Publisher:
    """Who publishes: recorded with the version in the snapshot and in `published_versions`."""
    flow: str
    flow_run_id: str | None = None


@dataclass(frozen=True)
class _Publishing:
    """One publish: who publishes, and to which catalog (named in its error messages)."""
    publisher: Publisher
    catalog: str

    @property
    def doing(self) -> str:
        return f"publishing to the lake ducklake:{self.catalog}"


PUBLISH_OUTCOME = "the articles are loaded; the next run publishes them"


@dataclass
class Published:
    version: int
    articles: int  # article rows copied (new, changed, or moved to another story)
    stories: int
    seconds: float


def load_extensions(con: duckdb.DuckDBPyConnection, catalog: str) -> None:
    """Install DuckLake and its catalog scanners from the pip wheels (no network), then load the
    two this catalog needs.

    Installing puts them in DuckDB's extension folder (~/.duckdb/extensions/v<version>/), where the
    DuckDB CLI of the same version finds them too."""
    installed = {r[0] for r in con.execute(db.sql("installed_extensions")).fetchall()}
    for wheel, name in EXTENSIONS.items():
        if name not in installed:
            folder = resources.files(f"duckdb_extension_{wheel}") / "extensions" / f"v{duckdb.__version__}"
            files = [f for f in folder.iterdir() if f.name.endswith(".duckdb_extension")]
            if not files:
                raise LakeError(f"no {wheel} extension for DuckDB {duckdb.__version__} in {folder}")
            con.execute(f"INSTALL '{_quote(str(files[0]))}'")  # DuckDB binds no parameter here
        if wheel == "ducklake" or catalog.startswith(f"{wheel}:"):
            con.execute(db.sql("load_extension", extension=name))


def _quote(text: str) -> str:
    return text.replace("'", "''")


def reader_attach(settings: Settings) -> str:
    """The one statement an analyst runs (after which `USE wirecopy`). DuckDB binds no parameter
    in ATTACH, so the catalog is a quoted literal, built here and printed to analysts as it is."""
    return f"ATTACH 'ducklake:{_quote(settings.lake_catalog)}' AS {READER_ALIAS} (READ_ONLY)"


def _writer_attach(settings: Settings) -> str:
    options = [f"DATA_PATH '{_quote(settings.lake_data_path)}'"]
    if settings.lake_catalog.startswith("sqlite:"):
        # WAL: readers keep reading while the writer commits; busy timeout for a checkpoint's moment
        options += ["META_JOURNAL_MODE 'WAL'", f"META_BUSY_TIMEOUT {int(settings.db_wait_seconds * 1000)}"]
    return f"ATTACH IF NOT EXISTS 'ducklake:{_quote(settings.lake_catalog)}' AS {LAKE} ({', '.join(options)})"


def lake_exists(settings: Settings) -> bool:
    """False only when the local SQLite catalog has not been created yet (nothing published)."""
    catalog = settings.lake_catalog
    return not catalog.startswith("sqlite:") or Path(catalog.removeprefix("sqlite:")).exists()


def _columns(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(db.sql("table_columns"), {"db": database}).fetchall()
    found: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        found.setdefault(table, []).append((column, kind))
    return found


def _latest_version(con: duckdb.DuckDBPyConnection) -> int:
    return int(db.scalar(con, "lake_version"))


def _definitions(con: duckdb.DuckDBPyConnection, database: str) -> tuple[dict[str, str], dict[str, str]]:
    """Macros and views of a database, as statements that recreate them in the lake."""
    macros, views = (dict(con.execute(db.sql(query), {"db": database}).fetchall())
                     for query in ("macro_definitions", "view_definitions"))
    return macros, views


def _keyed_sql(name: str, table: str) -> str:
    spec = KEYED[table]
    return db.sql(name).format(
        table=table, keys=", ".join(spec.keys), first_key=spec.keys[0],
        staged_keys=", ".join(f"s.{k}" for k in spec.keys),
        match=" AND ".join(f"p.{k} = t.{k}" for k in spec.keys),
        only_new=f"WHERE t.{spec.keys[0]} IS NULL" if spec.insert_only else "")


def _run(con: duckdb.DuckDBPyConnection, script: str, params: dict[str, object]) -> None:
    """A .sql file of several statements with named parameters: DuckDB binds them one statement at a time."""
    for statement in filter(str.strip, script.split(";")):
        used = {k: v for k, v in params.items() if f"${k}" in statement}
        con.execute(statement, used) if used else con.execute(statement)


def note_pending(con: duckdb.DuckDBPyConnection, staged_table: str) -> None:
    """Before merging `staged_<table>`: note its keys for the next publish (same transaction)."""
    if staged_table in KEYED:
        con.execute(_keyed_sql("publish_pending", staged_table))


def publish(con: duckdb.DuckDBPyConnection, settings: Settings, publisher: Publisher) -> Published:
    """Copy what changed since the last publish into the lake, as one snapshot; needs the writer's
    connection (file lock held). Cut short at any point, the next publish copies it again."""
    started = time.perf_counter()
    publishing = _Publishing(publisher, settings.lake_catalog)
    try:
        load_extensions(con, settings.lake_catalog)
        con.execute(_writer_attach(settings))
        return _publish(con, publishing, started)
    except duckdb.Error as exc:  # outside the lake's transactions, which raise LakeError themselves
        raise db.failure(LakeError, publishing.doing, exc, PUBLISH_OUTCOME) from None


def _publish(con: duckdb.DuckDBPyConnection, publishing: _Publishing, started: float) -> Published:
    recorded, recorded_schema = con.execute(db.sql("publish_state")).fetchone() or (None, None)
    schema = db.scalar(con, "schema_version")
    recovering = recorded != _latest_version(con)
    # Tables and definitions are compared after a migration, a cut-short publish, or a new lake.
    check_schema = recovering or schema != recorded_schema
    copy_whole = []
    if check_schema:
        work, lake = _columns(con, "wirecopy"), _columns(con, LAKE)
        copy_whole = [t for t in PUBLISHED if lake.get(t) != work[t]]  # first publish, or a migration
    params = {"recovering": recovering}
    _run(con, db.sql("publish_story_changes"), params)
    if "feeds" not in copy_whole:
        con.execute(db.sql("publish_feed_changes"))
    copied = {"articles": "count_pending_articles", "stories": "count_new_stories"}
    articles, stories = (db.scalar(con, "count_rows", table=table) if table in copy_whole else db.scalar(con, query)
                         for table, query in copied.items())
    work_defs, lake_defs = (_definitions(con, "wirecopy"), _definitions(con, LAKE)) if check_schema else ((), ())
    pending: dict[str, tuple[int, int]] = {}
    for table in KEYED:
        keys, existed = con.execute(db.sql("count_pending", table=table)).fetchone() or (0, 0)
        pending[table] = (keys, existed)

    con.execute(db.sql("filter_threshold"), {"n": max(50, *(keys for keys, _ in pending.values()))})
    publisher = publishing.publisher
    with db.transaction(con, publishing.doing, outcome=PUBLISH_OUTCOME, error=LakeError):
        for table in copy_whole:
            con.execute(db.sql("publish_whole_table", table=table))
        for table, (keys, existed) in pending.items():
            if table not in copy_whole and keys:
                delete, insert = filter(str.strip, _keyed_sql("publish_rows", table).split(";"))
                if existed or recovering:
                    con.execute(delete, params)
                con.execute(insert)
        for table in ("stories", "feeds"):
            if table not in copy_whole:
                con.execute(db.sql(f"publish_{table}"))
        con.execute(db.sql("use_database", database=LAKE))  # view bodies name tables unqualified: the lake's
        try:
            for wanted, present in zip(work_defs, lake_defs, strict=True):
                for name, statement in wanted.items():
                    if present.get(name) != statement:
                        con.execute(statement)
        finally:
            con.execute(db.sql("use_database", database="wirecopy"))
        con.execute(db.sql("published_versions"))
        con.execute(db.sql("lake_commit_message"),
                    {"message": f"{publisher.flow} {publisher.flow_run_id or ''}".strip(),
                     "info": json.dumps({"flow": publisher.flow, "flow_run_id": publisher.flow_run_id})})
    version = _latest_version(con)
    con.execute(db.sql("record_published_version"),
                {"version": version, "flow": publisher.flow, "run": publisher.flow_run_id,
                 "articles": articles, "stories": stories})

    with db.transaction(con, publishing.doing, outcome=PUBLISH_OUTCOME, error=LakeError):
        _run(con, db.sql("publish_synced"), {"version": _latest_version(con), "schema": schema})
        if {"articles", "stories"} & set(copy_whole):
            con.execute(db.sql("publish_shadows_reset"))
    return Published(version=version, articles=articles, stories=stories, seconds=time.perf_counter() - started)
