"""Team mode: the lake's catalog in a real PostgreSQL 15 (started here on a loopback port), its data
files in a shared folder; analysts in other processes attach it read-only while ingests run."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from feedkit import Item, article_page, query, rss2, story_paragraphs, write_feeds
from test_publish import PythonReader

from wirecopy.newsroom import Page

PG_BIN = Path("/usr/lib/postgresql/15/bin")
pytestmark = [pytest.mark.usefixtures("prefect_harness"),
              pytest.mark.skipif(not (PG_BIN / "initdb").exists(), reason="PostgreSQL 15 is not installed")]


def _as_postgres(*args: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=120)


@pytest.fixture
def postgres():
    """A PostgreSQL cluster of its own: a folder the postgres user owns, 127.0.0.1 and a free port,
    its socket in that folder. Yields the connection string DuckDB's postgres extension takes."""
    folder = Path(tempfile.mkdtemp(prefix="wirecopy-pg-"))
    os.chmod(folder, 0o755)
    shutil.chown(folder, "postgres", "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = folder / "data"
    try:
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-t", "120",
                     "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start")
        _as_postgres(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "wirecopy")
        yield f"dbname=wirecopy host=127.0.0.1 port={port} user=postgres"
    finally:
        if (data / "postmaster.pid").exists():
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _feed(newsroom, pages: dict[str, str]) -> None:
    links = [newsroom.add(f"/news/{slug}", Page(article_page(topic, story_paragraphs(topic))))
             for slug, topic in pages.items()]
    newsroom.add("/feed.xml", Page(rss2([Item(slug, link) for slug, link in zip(pages, links)]), "application/rss+xml"))


def test_ingest_into_a_postgresql_catalogued_lake_is_read_from_another_process(newsroom, tmp_path, postgres,
                                                                                monkeypatch):
    from flows.ingest import ingest as ingest_flow
    from tasks import lake
    from tasks.core.settings import load_settings

    shared = tmp_path / "shared-lake"  # a folder every machine mounts, or an object-store URL
    monkeypatch.setenv("WIRECOPY_CATALOG", f"postgres:{postgres}")
    monkeypatch.setenv("WIRECOPY_DATA_PATH", str(shared))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Gazette", newsroom.url("/feed.xml"))])
    db = tmp_path / "w.duckdb"

    def ingest() -> None:  # as a deployment's flow run: the settings from the environment
        summary = ingest_flow(feeds_path=str(feeds), db_path=str(db))
        assert summary.feeds_failed == summary.pages_failed == 0 and summary.published_version, summary

    _feed(newsroom, {"a": "border pact", "b": "ferry timetable"})
    ingest()
    attach = lake.reader_attach(replace(load_settings(feeds, db), catalog=f"postgres:{postgres}"))
    assert attach == f"ATTACH 'ducklake:postgres:{postgres}' AS wirecopy (READ_ONLY)"
    analyst = PythonReader("attach", attach, tmp_path)
    try:
        assert analyst.seen()["articles"] == 2
        _feed(newsroom, {"a": "border pact", "b": "ferry timetable", "c": "storm surge"})
        ingest()
        seen = analyst.seen()
    finally:
        analyst.close()

    stored = query(db, "SELECT count(*), md5(string_agg(url, ' ' ORDER BY url)), (SELECT count(*) FROM stories) "
                       "FROM articles")[0]
    assert (seen["articles"], seen["urls"], seen["stories"]) == stored
    assert seen["failures"] == [] and seen["without_story"] == 0
    assert seen["data_path"] == str(shared) + "/", "the data files go to the shared folder"
    assert not (tmp_path / "w.lake.sqlite").exists(), "nothing published to a local catalog"
