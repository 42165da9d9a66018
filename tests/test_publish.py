"""Analysts read while wirecopy writes: readers hold connections on the published lake open across
runs; no read fails, no run waits, and after each run every reader sees that run whole."""
from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from feedkit import Item, article_page, query, rss2, story_paragraphs, write_feeds

from tasks.core import errors
from wirecopy.newsroom import Page

TESTS = Path(__file__).resolve().parent
pytestmark = pytest.mark.usefixtures("prefect_harness")
CLI = shutil.which("duckdb", path=str(Path(sys.executable).parent))
CLI_SEEN = ("SELECT count(*) AS articles, md5(string_agg(url, ' ' ORDER BY url)) AS urls, "
            "(SELECT count(*) FROM stories) AS stories FROM articles;\n")


def _api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


def _wirecopy(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_API_URL": _api_url()}
    return subprocess.run([sys.executable, "-m", "wirecopy.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


class PythonReader:
    """tests/lake_reader.py in its own process."""

    def __init__(self, mode: str, target: str, cwd: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, str(TESTS / "lake_reader.py"), mode, target], cwd=cwd,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        assert self._line(120) == "ready", self.proc.stderr.read() if self.proc.poll() is not None else ""

    def _line(self, timeout: float) -> str:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, "the reader did not answer"
        return self.proc.stdout.readline().strip()

    def seen(self) -> dict:
        self.proc.stdin.write("check\n")
        self.proc.stdin.flush()
        return json.loads(self._line(120))

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


class CliReader:
    """The DuckDB CLI, one session held open, fed the README's statements on stdin."""

    def __init__(self, attach: str, cwd: Path) -> None:
        self.proc = subprocess.Popen([CLI, "-json"], cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.proc.stdin.write(f"{attach};\nUSE wirecopy;\n")
        self.proc.stdin.flush()

    def seen(self) -> dict:
        self.proc.stdin.write(CLI_SEEN)
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], 120)
        assert ready, "the DuckDB CLI did not answer"
        line = self.proc.stdout.readline().strip()
        assert line.startswith("[{"), f"the DuckDB CLI answered: {line}"
        return json.loads(line)[0]

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def _stored(db: Path) -> dict:
    """What the run loaded, read from the writer's own file between runs."""
    articles, urls, stories = query(db, "SELECT count(*), md5(string_agg(url, ' ' ORDER BY url)), "
                                        "(SELECT count(*) FROM stories) FROM articles")[0]
    return {"articles": articles, "urls": urls, "stories": stories}


def _outlet(newsroom, name: str, pages: dict[str, str]) -> None:
    """An outlet's feed listing `pages` (slug -> topic); copies of one topic share wording."""
    links = [newsroom.add(f"/{name}/{slug}", Page(article_page(f"{topic} ({name})", story_paragraphs(topic))))
             for slug, topic in pages.items()]
    newsroom.add(f"/{name}.xml", Page(rss2([Item(slug, link) for slug, link in zip(pages, links)]),
                                      "application/rss+xml"))


def _sitemap(newsroom, slugs: list[str]) -> None:
    urls = [newsroom.add(f"/archive/{s}", Page(article_page(f"Archive {s}", story_paragraphs(f"archive {s}"))))
            for s in slugs]
    entries = "".join(f"<url><loc>{u}</loc><lastmod>2025-04-10</lastmod></url>" for u in urls)
    newsroom.add("/sitemap.xml", Page(('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                                       f'sitemap/0.9">{entries}</urlset>').encode(), "application/xml"))
    newsroom.add("/robots.txt", Page(f"User-agent: *\nSitemap: {newsroom.url('/sitemap.xml')}\n".encode(), "text/plain"))


def _readers_held_open_across(newsroom, tmp_path, runs: list[tuple[str, dict]]) -> None:
    """A first `wirecopy ingest`, then the three readers held open while `runs` (flow runs, as a
    worker runs deployments) follow one another (each: its kind, then the outlets' new feeds):
    after each run every reader sees what that run stored, whole, none of their reads failed and
    no run waited for them; every version published stays readable as that run left it."""
    from flows.backfill import backfill
    from flows.ingest import ingest
    from tasks import lake
    from tasks.core.settings import load_settings

    db = tmp_path / "data" / "wirecopy.duckdb"
    feeds = write_feeds(tmp_path / "feeds.toml", [("Coastal", newsroom.url("/coastal.xml")),
                                                  ("Valley", newsroom.url("/valley.xml"))],
                        db_wait_seconds=5)
    _outlet(newsroom, "coastal", {"c1": "ferry timetable", "c2": "border pact"})
    _outlet(newsroom, "valley", {"v1": "apple harvest"})
    _sitemap(newsroom, ["a1", "a2"])
    first = _wirecopy("ingest", "--feeds", str(feeds), "--db", str(db), cwd=tmp_path)
    assert first.returncode == 0, first.stderr

    attach = lake.reader_attach(load_settings(feeds, db))
    readers = {"wirecopy.connect": PythonReader("connect", str(db), tmp_path),
               "plain duckdb": PythonReader("attach", attach, tmp_path)}
    if CLI:
        readers["duckdb CLI"] = CliReader(attach, tmp_path)
    versions, articles = [], []
    try:
        for reader in readers.values():
            assert reader.seen()["articles"] == 3
        for kind, outlets in runs:
            for name, pages in outlets.items():
                _outlet(newsroom, name, pages)
            if kind == "ingest":
                summary = ingest(feeds_path=str(feeds), db_path=str(db))
            else:
                summary = backfill(since="2025-04-01", until="2025-04-30", outlet="Coastal",
                                   feeds_path=str(feeds), db_path=str(db))
            versions.append(summary.published_version)
            stored = _stored(db)
            articles.append(stored["articles"])
            for name, reader in readers.items():
                seen = reader.seen()
                assert {k: seen[k] for k in stored} == stored, f"{name} after {kind}"
                if "failures" in seen:
                    assert seen["failures"] == [] and seen["queries"] > 0, name
                    assert seen["without_story"] == 0, f"{name} saw an article without its story"
                    assert seen["pickup_rows"] == seen["deduped_rows"] == stored["stories"], name
        assert articles == [3 + 2 * (i + 1) for i in range(len(runs))], "each run added its two articles"
    finally:
        for reader in readers.values():
            reader.close()

    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    lake.load_extensions(con, load_settings(feeds, db).lake_catalog)
    con.execute(attach)
    recorded = con.execute("SELECT version, flow FROM wirecopy.published_versions ORDER BY version").fetchall()
    assert [v for v, _ in recorded][1:] == versions and [f for _, f in recorded][1:] == [k for k, _ in runs]
    assert [con.execute(f"SELECT count(*) FROM wirecopy.articles AT (VERSION => {v})").fetchone()[0]
            for v in versions] == articles, "an earlier version still shows the state that run left"


# Two tests, not one of four runs: each is one xdist work unit, and the two workers balance.
def test_three_readers_held_open_see_every_ingest_whole_and_no_run_waits(newsroom, tmp_path):
    _readers_held_open_across(newsroom, tmp_path, [
        ("ingest", {"coastal": {"c1": "ferry timetable", "c2": "border pact", "c3": "storm surge"},
                    "valley": {"v1": "apple harvest", "v2": "border pact"}}),  # a copy joins a story
        ("ingest", {"coastal": {"c3": "storm surge", "c4": "bridge repairs"},
                    "valley": {"v2": "border pact", "v3": "storm surge"}}),
    ])


def test_three_readers_held_open_see_a_backfill_and_the_ingest_after_it_whole(newsroom, tmp_path):
    _readers_held_open_across(newsroom, tmp_path, [
        ("backfill", {}),
        ("ingest", {"coastal": {"c5": "museum opening"}, "valley": {"v4": "school buses"}}),
    ])


def test_a_run_cut_short_after_loading_publishes_with_the_next_run(newsroom, tmp_path, monkeypatch):
    """Loaded but not published (the lake unreachable): the run fails in one line, the next run
    publishes both runs' articles, none twice."""
    from flows.ingest import ingest
    from tasks import lake
    from wirecopy import connect

    db = tmp_path / "w.duckdb"
    feeds = write_feeds(tmp_path / "feeds.toml", [("Coastal", newsroom.url("/coastal.xml"))], db_wait_seconds=5)
    _outlet(newsroom, "coastal", {"c1": "ferry timetable", "c2": "border pact"})
    ingest(feeds_path=str(feeds), db_path=str(db))
    _outlet(newsroom, "coastal", {"c1": "ferry timetable", "c2": "border pact", "c3": "storm surge"})

    real = lake._publish

    def cut_after_commit(con, publisher, started):
        real(con, publisher, started)
        raise duckdb.IOException("the machine went down")

    monkeypatch.setattr(lake, "_publish", cut_after_commit)
    with pytest.raises(errors.DatabaseError, match="the next run publishes them"):
        ingest(feeds_path=str(feeds), db_path=str(db))
    monkeypatch.setattr(lake, "_publish", real)
    _outlet(newsroom, "coastal", {"c3": "storm surge", "c4": "bridge repairs"})
    ingest(feeds_path=str(feeds), db_path=str(db))

    con = connect(db)
    assert con.execute("SELECT count(*), count(DISTINCT article_id) FROM articles").fetchone() == (4, 4)
    assert con.execute("SELECT count(*), count(DISTINCT story_id) FROM stories").fetchone() == \
        query(db, "SELECT count(*), count(DISTINCT story_id) FROM stories")[0]
    assert con.execute("SELECT count(*), count(DISTINCT url) FROM fetch_queue").fetchone() == (4, 4)


def test_rebuild_stories_publishes_the_new_assignment(newsroom, tmp_path):
    from flows.ingest import ingest
    from flows.rebuild_stories import rebuild_stories
    from wirecopy import connect

    db = tmp_path / "w.duckdb"
    feeds = write_feeds(tmp_path / "feeds.toml", [("Coastal", newsroom.url("/coastal.xml")),
                                                  ("Valley", newsroom.url("/valley.xml"))])
    _outlet(newsroom, "coastal", {"c1": "border pact", "c2": "ferry timetable"})
    _outlet(newsroom, "valley", {"v1": "border pact"})
    ingest(feeds_path=str(feeds), db_path=str(db))
    con = connect(db)
    counts = rebuild_stories(db_path=str(db))

    assert con.execute("SELECT max(version) FROM published_versions").fetchone()[0] == counts["published_version"]
    assert sorted(con.execute("SELECT article_id, story_id FROM articles").fetchall()) == \
        sorted(query(db, "SELECT article_id, story_id FROM articles"))
    assert con.execute("SELECT count(*) FROM story_pickup").fetchone()[0] == 2


def test_connect_before_anything_is_published_says_so(tmp_path):
    from wirecopy import NotPublishedYet, connect

    with pytest.raises(NotPublishedYet, match="wirecopy ingest"):
        connect(tmp_path / "w.duckdb")
