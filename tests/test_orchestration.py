"""Deployments, backfills, one writer and scale-out, against real parts: loopback servers,
real DuckDB files, Prefect's test server, a Dask LocalCluster."""
from __future__ import annotations

import gzip
import importlib
import os
import subprocess
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

import prefect_db
import pytest
import yaml
from feedkit import Item, article_page, query, rss2, story_paragraphs, write_feeds
from prefect.exceptions import ParameterTypeError

from wirecopy.newsroom import Page

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("prefect_harness")


def _flow(entrypoint: str):
    path, name = entrypoint.split(":")
    return getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), name)


def test_every_deployment_in_prefect_yaml_imports_and_validates_its_parameters():
    spec = yaml.safe_load((REPO / "prefect.yaml").read_text())
    deployments = {d["name"]: d for d in spec["deployments"]}
    assert set(deployments) == {"ingest", "backfill", "rebuild-stories"}
    run_time = {"backfill": {"since": "2025-04-01", "until": "2025-04-30"}}  # asked for on each run
    for name, d in deployments.items():
        flow = _flow(d["entrypoint"])
        flow.validate_parameters({**(d.get("parameters") or {}), **run_time.get(name, {})})
        assert d["work_pool"]["name"] == "wirecopy" and d["concurrency_limit"] == 1
    assert deployments["ingest"]["schedules"] == [{"interval": 300}]
    assert "schedules" not in deployments["backfill"]
    # What `prefect deployment run 'backfill/backfill' --param since=2025-04-01 ...` sends: JSON strings.
    params = _flow(deployments["backfill"]["entrypoint"]).validate_parameters(
        {**deployments["backfill"]["parameters"], "since": "2025-04-01", "until": "2025-04-30"})
    assert params["since"] == date(2025, 4, 1) and params["until"] == date(2025, 4, 30)
    with pytest.raises(ParameterTypeError):
        _flow(deployments["backfill"]["entrypoint"]).validate_parameters({"since": "April", "until": "2025-04-30"})
    with pytest.raises(ParameterTypeError):
        _flow(deployments["backfill"]["entrypoint"]).validate_parameters(
            {"since": "2025-04-01", "until": "2025-04-30", "mode": "everything"})


def test_serve_builds_the_flows_of_prefect_yaml_under_its_own_deployment_name():
    from wirecopy.serve import deployments

    spec = yaml.safe_load((REPO / "prefect.yaml").read_text())
    served = {d.flow_name: d for d in deployments("feeds.toml", "data/wirecopy.duckdb")}
    assert set(served) == {_flow(d["entrypoint"]).name for d in spec["deployments"]}
    assert {d.name for d in served.values()} == {"serve"}, "never the names `prefect deploy --all` uses"
    assert not {d.name for d in served.values()} & {d["name"] for d in spec["deployments"]}
    assert served["ingest"].schedules and served["ingest"].schedules[0].schedule.interval.total_seconds() == 300
    assert not served["backfill"].schedules


def _sitemap_newsroom(newsroom) -> dict[str, str]:
    """An outlet with robots.txt -> sitemap index -> a news sitemap, a gzipped sitemap and an old one."""
    dated = {"in-1": "2025-04-02T10:00:00+00:00", "in-2": "2025-04-30T23:30:00Z", "in-3": "2025-04-15",
             "before": "2025-03-31T23:59:00+00:00", "after": "2025-05-01T00:00:01+00:00",
             "old": "2024-01-05T00:00:00+00:00"}
    urls = {slug: newsroom.add(f"/news/{slug}", Page(article_page(f"Story {slug}", story_paragraphs(slug))))
            for slug in dated}
    news = "".join(
        f"<url><loc>{urls[s]}</loc><news:news><news:publication><news:name>Gazette</news:name>"
        f"<news:language>en</news:language></news:publication><news:publication_date>{dated[s]}"
        f"</news:publication_date><news:title>Story {s}</news:title></news:news></url>"
        for s in ("in-1", "in-2", "before"))
    newsroom.add("/sitemaps/news.xml", Page((
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{news}</urlset>').encode(), "application/xml"))
    plain = "".join(f"<url><loc>{urls[s]}</loc><lastmod>{dated[s]}</lastmod></url>" for s in ("in-3", "after"))
    newsroom.add("/sitemaps/pages.xml.gz", Page(gzip.compress(
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{plain}</urlset>'.encode()),
        "application/x-gzip"))
    newsroom.add("/sitemaps/2024.xml", Page((
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{urls["old"]}'
        f'</loc><lastmod>{dated["old"]}</lastmod></url></urlset>').encode(), "application/xml"))
    newsroom.add("/sitemap-index.xml", Page((
        b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>/sitemaps/news.xml</loc><lastmod>2025-05-02</lastmod></sitemap>"
        b"<sitemap><loc>/sitemaps/pages.xml.gz</loc></sitemap>"
        b"<sitemap><loc>/sitemaps/2024.xml</loc><lastmod>2024-12-31</lastmod></sitemap>"
        b"</sitemapindex>"), "application/xml"))
    newsroom.add("/robots.txt", Page(f"User-agent: *\nAllow: /\nSitemap: {newsroom.url('/sitemap-index.xml')}\n".encode(),
                                     "text/plain"))
    newsroom.add("/feed.xml", Page(rss2([]), "application/rss+xml"))
    return urls


def test_sitemap_backfill_loads_exactly_the_pages_in_range_and_is_idempotent(newsroom, tmp_path):
    from flows.backfill import backfill

    urls = _sitemap_newsroom(newsroom)
    feeds = write_feeds(tmp_path / "feeds.toml", [("Gazette", newsroom.url("/feed.xml"))])
    db = tmp_path / "w.duckdb"

    summary = backfill(since=date(2025, 4, 1), until=date(2025, 4, 30), feeds_path=str(feeds), db_path=str(db))

    expected = sorted(urls[s] for s in ("in-1", "in-2", "in-3"))
    assert sorted(r[0] for r in query(db, "SELECT url FROM articles")) == expected
    assert summary.articles == 3 and summary.articles_loaded == 3
    assert "/sitemaps/2024.xml" not in newsroom.paths_requested(), "an index entry older than the range is skipped"
    assert query(db, "SELECT title FROM articles WHERE url = ?", [urls["in-1"]]) == [("Story in-1",)]

    again = backfill(since=date(2025, 4, 1), until=date(2025, 4, 30), feeds_path=str(feeds), db_path=str(db))
    assert again.already_stored == 3 and again.articles == 0 and again.articles_loaded == 0
    assert query(db, "SELECT count(*) FROM articles") == [(3,)]


def test_an_interrupted_sitemap_backfill_finishes_on_the_next_run_without_duplicates(newsroom, tmp_path):
    from flows.backfill import backfill

    urls = _sitemap_newsroom(newsroom)
    broken = newsroom.routes["/news/in-2"]
    newsroom.add("/news/in-2", Page(b"down", "text/plain", status=503))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Gazette", newsroom.url("/feed.xml"))])
    db = tmp_path / "w.duckdb"

    first = backfill(since=date(2025, 4, 1), until=date(2025, 4, 30), feeds_path=str(feeds), db_path=str(db))
    assert first.pages_failed == 1
    newsroom.add("/news/in-2", broken)
    second = backfill(since=date(2025, 4, 1), until=date(2025, 4, 30), feeds_path=str(feeds), db_path=str(db))

    assert second.articles == 1
    assert sorted(r[0] for r in query(db, "SELECT url FROM articles")) == sorted(
        urls[s] for s in ("in-1", "in-2", "in-3"))
    assert query(db, "SELECT count(*), count(DISTINCT url) FROM fetch_queue WHERE status = 'done'") == [(3, 3)]


def test_reprocess_replaces_text_from_stored_pages_and_adds_no_row(newsroom, tmp_path):
    import duckdb

    from flows.backfill import backfill
    from flows.ingest import ingest

    when = datetime(2025, 4, 10, 12, tzinfo=timezone.utc)
    links = [newsroom.add(f"/news/r{i}", Page(article_page(f"Report {i}", story_paragraphs(f"reprocess {i}"))))
             for i in range(3)]
    newsroom.add("/feed.xml", Page(rss2([Item(f"Report {i}", link, published=when) for i, link in enumerate(links)]),
                                   "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Gazette", newsroom.url("/feed.xml"))])
    db = tmp_path / "w.duckdb"
    ingest(feeds_path=str(feeds), db_path=str(db))
    good = dict(query(db, "SELECT url, text FROM articles"))
    # What an older extractor left: text with boilerplate in it.
    con = duckdb.connect(str(db))
    con.execute("UPDATE articles SET text = text || '\n\nSign up for our newsletter' WHERE url = ?", [links[0]])
    con.close()
    page_requests = sum(p.startswith("/news/") for p in newsroom.paths_requested())

    summary = backfill(since=date(2025, 4, 10), until=date(2025, 4, 10), mode="reprocess",
                       feeds_path=str(feeds), db_path=str(db))

    assert summary.candidates == 3 and summary.articles == 3
    assert dict(query(db, "SELECT url, text FROM articles")) == good
    assert query(db, "SELECT count(*) FROM articles") == [(3,)]
    assert sum(p.startswith("/news/") for p in newsroom.paths_requested()) == page_requests, "no page refetched"
    out_of_range = backfill(since=date(2025, 4, 11), until=date(2025, 4, 30), mode="reprocess",
                            feeds_path=str(feeds), db_path=str(db))
    assert out_of_range.candidates == 0


def _cli(*args: str, env: dict | None = None) -> subprocess.Popen:
    """`wirecopy ARGS` against the suite's Prefect test server (no temporary server per run: the
    CLI's own start-up path is tested in test_cli.py and test_startup.py)."""
    from prefect.settings import PREFECT_API_URL

    return subprocess.Popen([sys.executable, "-m", "wirecopy.cli", *args], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), **(env or {})})


def _newsroom_with(newsroom, n: int, prefix: str) -> list[str]:
    links = [newsroom.add(f"/news/{prefix}{i}", Page(article_page(f"{prefix} {i}", story_paragraphs(f"{prefix} {i}"))))
             for i in range(n)]
    newsroom.add("/feed.xml", Page(rss2([Item(f"{prefix} {i}", link) for i, link in enumerate(links)]),
                                   "application/rss+xml", conditional=False))
    return links


def _writer_slots_taken() -> int:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_global_concurrency_limit_by_name("duckdb-writer").active_slots


def test_a_writer_waiting_on_the_prefect_slot_gives_up_as_busy_and_leaks_no_slot():
    import threading

    from flows.writer import writer_slot
    from tasks.core.errors import DatabaseBusy

    held, release = threading.Event(), threading.Event()

    def first_writer() -> None:
        with writer_slot(5):
            held.set()
            release.wait(60)

    holder = threading.Thread(target=first_writer)
    holder.start()
    try:
        assert held.wait(60)
        started = time.monotonic()
        with pytest.raises(DatabaseBusy, match="duckdb-writer"):
            with writer_slot(1.5):
                pytest.fail("two writers held the slot at once")
        assert time.monotonic() - started >= 1.5
        assert _writer_slots_taken() == 1, "the writer that gave up took no slot"
    finally:
        release.set()
        holder.join(60)
    assert _writer_slots_taken() == 0
    with writer_slot(5):
        assert _writer_slots_taken() == 1
    assert _writer_slots_taken() == 0


@pytest.mark.slow  # starts a Prefect server of its own (the ephemeral API), as a user's run does
def test_wirecopy_ingest_on_a_local_dask_cluster_loads_the_rows_the_default_runner_loads(
        newsroom, tmp_path, prefect_database_template):
    """`WIRECOPY_DASK_ADDRESS=local wirecopy ingest` on Prefect's ephemeral API (no PREFECT_API_URL):
    the two worker processes report to the flow's API instead of each starting a server of their
    own, and the rows are those the default (thread) runner loads."""
    from flows.ingest import ingest

    links = _newsroom_with(newsroom, 6, "scaled")
    feeds = write_feeds(tmp_path / "feeds.toml", [("Gazette", newsroom.url("/feed.xml"))])
    db = tmp_path / "w.duckdb"
    ingest(feeds_path=str(feeds), db_path=str(tmp_path / "threads.duckdb"))
    prefect_db.seed(prefect_database_template, tmp_path / "prefect" / "prefect.db")  # not a first start
    run = subprocess.run([sys.executable, "-m", "wirecopy.cli", "ingest", "--feeds", str(feeds), "--db", str(db)],
                         cwd=REPO, capture_output=True, text=True, timeout=900,
                         env={**os.environ, "WIRECOPY_DASK_ADDRESS": "local", "PREFECT_HOME": str(tmp_path / "prefect")})
    out, err = run.stdout, run.stderr

    assert run.returncode == 0, err
    # One temporary server, the flow's own (wirecopy/prefect_api.py); a Dask worker that started
    # one of its own would log the same line.
    assert err.count("Starting temporary server") == 1, "the workers report to the flow's own API"
    assert sorted(r[0] for r in query(db, "SELECT url FROM articles")) == sorted(links)
    assert "published version 1" in out
    rows = "SELECT url, outlet, title, published_at, text, language, wire_service FROM articles ORDER BY url"
    assert query(db, rows) == query(tmp_path / "threads.duckdb", rows)
