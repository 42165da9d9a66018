"""wirecopy: news feeds to DuckDB. `wirecopy.connect()` opens what analysts query."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


class NotPublishedYet(Exception):
    """No run has published to the lake yet."""


def connect(db_path: str | Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection on the published lake, its tables and views current (`USE wirecopy`).

    Same settings as `wirecopy ingest` (default data/wirecopy.duckdb, WIRECOPY_DB, feeds.toml's
    [settings], WIRECOPY_CATALOG); hold it open for as long as you like: every query sees the
    latest run that finished, and no run waits for it."""
    import duckdb

    from tasks import db, lake
    from tasks.core.settings import load_settings

    settings = load_settings(None, db_path)
    if not lake.lake_exists(settings):
        raise NotPublishedYet(f"nothing published yet at {settings.lake_catalog}: run `wirecopy ingest` first")
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        lake.load_extensions(con, settings.lake_catalog)
        con.execute(lake.reader_attach(settings))
        con.execute(db.sql("use_database", database=lake.READER_ALIAS))
    except BaseException:
        con.close()
        raise
    return con
