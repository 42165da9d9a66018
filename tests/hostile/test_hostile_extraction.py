"""Extraction that would never end, or that blows up: a 5 MiB paragraph full of inline markup, on
which trafilatura's extractor is quadratic (200 KB takes 11 s; 5 MiB would take hours), and JSON-LD
nested 5,000 deep (RecursionError in the JSON reader), a page whose worker dies. The per-page bound
(settings.extract_timeout) stops the stuck worker and starts another; the page extracting beside it
carries on; the exception is recorded against its page. Every healthy article is loaded."""
from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import pytest
from feedkit import Item, article_page, query, rss2, story_paragraphs, write_feeds
from hostile_kit import HERE, Meter, MiB, hard_deadline, one_paragraph_page, run_ingest, send_html

from tasks import extract_pool
from wirecopy.newsroom import Page

pytestmark = pytest.mark.usefixtures("prefect_harness")
EXTRACT_TIMEOUT = 3.0


@pytest.fixture
def stuck_mark(monkeypatch, tmp_path):
    """Extraction workers spawned for this test (test-only hook, tests/hostile/hooks/) write a file
    when the stuck page's extraction starts, and take 2 s more on the page marked SLOW-EXTRACTION."""
    mark = tmp_path / "stuck-started"
    extract_pool.shutdown_pool()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HERE / "hooks"), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("WIRECOPY_TEST_HOOK", "slow-extract")
    monkeypatch.setenv("WIRECOPY_TEST_HOOK_FILE", str(mark))
    yield mark
    extract_pool.shutdown_pool()


def after_stuck_started(mark, body: bytes, delay: float):
    """Serves `body` `delay` seconds after the stuck extraction started: its own extraction (2 s)
    is then in flight when the stuck worker is stopped, 3 s after it started."""
    def handler(req) -> None:
        deadline = time.monotonic() + 60
        while not mark.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(delay)
        send_html(req, body)
    return handler


def test_pages_that_would_extract_for_hours_or_crash_are_contained(newsroom, tmp_path, stuck_mark, hostile_case):
    stuck = newsroom.add("/news/stuck", Page(one_paragraph_page(5 * MiB, inline_markup=True)
                                             .replace(b"<h1>", b"<!-- STUCK-MARK --><h1>")))
    nested = story_paragraphs("salt works")
    json_ld = (b'<script type="application/ld+json">' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"</script>")
    recursion = newsroom.add("/news/json-ld", Page(article_page("Nested", nested)
                                                   .replace(b"</head>", json_ld + b"</head>")))
    slow = newsroom.add("/news/slow", after_stuck_started(
        stuck_mark, article_page("Slow", story_paragraphs("quarry permit") + ["SLOW-EXTRACTION"]), 1.5))
    healthy = [newsroom.add(f"/news/h{i}", Page(article_page(f"Healthy {i}", story_paragraphs(f"tram depot {i}"))))
               for i in range(6)] + [slow]
    newsroom.add("/feed.xml", Page(rss2([Item("Stuck", stuck), Item("Nested JSON-LD", recursion)]
                                        + [Item(f"H{i}", u) for i, u in enumerate(healthy)]), "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Quarry Times", newsroom.url("/feed.xml"))],
                        page_max_bytes=6 * MiB, extract_workers=2, extract_timeout=EXTRACT_TIMEOUT)
    db = tmp_path / "w.duckdb"

    with hard_deadline(120), Meter() as meter:
        run_ingest(feeds, db)

    errors = {r[0]: r[1:] for r in query(db, "SELECT url, kind, error FROM page_errors")}
    loaded = {r[0] for r in query(db, "SELECT url FROM articles")}
    lost = len(set(healthy) - loaded)
    hostile_case("page of one 5 MiB paragraph full of inline markup (quadratic in trafilatura)",
                 f"{errors.get(stuck, ('none',))[0]} after {EXTRACT_TIMEOUT:g} s, its worker replaced; the page "
                 f"extracting beside it done; {len(set(healthy) & loaded)}/7 healthy articles loaded in the same run",
                 meter.seconds, meter.growth_mib, lost=lost)
    hostile_case("page with JSON-LD nested 5,000 deep (RecursionError in its JSON)",
                 "extracted: the JSON-LD block is skipped, the article loaded" if recursion in loaded
                 else f"{': '.join(errors.get(recursion, ('none', '')))[:90]}",
                 meter.seconds, meter.growth_mib, lost=0 if recursion in loaded else 1)
    assert errors[stuck] == ("extract_timeout", f"extraction took longer than {EXTRACT_TIMEOUT:g}s; "
                                                "its worker was stopped")
    assert set(errors) == {stuck}
    assert loaded == set(healthy) | {recursion}, \
        "the page in flight beside the stuck one is loaded; the nested JSON-LD is skipped"
    assert query(db, "SELECT status FROM fetch_queue WHERE url = ?", [stuck]) == [("refused",)]
    assert query(db, "SELECT bytes > 5000000 FROM raw_pages WHERE url = ?", [stuck]) == [(True,)], \
        "the raw page is kept, as for any page extraction gave up on"
    assert meter.seconds < 40



def test_a_page_that_kills_its_extraction_worker_fails_alone_and_is_retried_later(newsroom, tmp_path,
                                                                                  monkeypatch, hostile_case):
    """A worker that dies on a page (SIGSEGV, as a crash in lxml's C code would) fails that page
    only: it is tried once more, then recorded and left for a later run; every other page loads."""
    extract_pool.shutdown_pool()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HERE / "hooks"), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("WIRECOPY_TEST_HOOK", "crash-extract")
    crash = newsroom.add("/news/crash", Page(article_page("Crash", story_paragraphs("dry dock")
                                                          + ["CRASH-EXTRACTION"])))
    healthy = [newsroom.add(f"/news/h{i}", Page(article_page(f"Healthy {i}", story_paragraphs(f"canal lock {i}"))))
               for i in range(6)]
    newsroom.add("/feed.xml", Page(rss2([Item("Crash", crash)] + [Item(f"H{i}", u) for i, u in enumerate(healthy)]),
                                   "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Dock Gazette", newsroom.url("/feed.xml"))],
                        extract_workers=2, extract_timeout=EXTRACT_TIMEOUT)
    db = tmp_path / "w.duckdb"

    try:
        with hard_deadline(120), Meter() as meter:
            run_ingest(feeds, db)
    finally:
        extract_pool.shutdown_pool()

    errors = {r[0]: r[1:] for r in query(db, "SELECT url, kind, error FROM page_errors")}
    loaded = {r[0] for r in query(db, "SELECT url FROM articles")}
    hostile_case("page whose extraction worker dies of SIGSEGV",
                 f"{': '.join(errors.get(crash, ('none', '')))}; {len(set(healthy) & loaded)}/6 others loaded",
                 meter.seconds, meter.growth_mib, lost=len(set(healthy) - loaded))
    assert errors == {crash: ("extract_crash", "the extraction worker died on this page (exit code -11)")}
    assert loaded == set(healthy)
    assert query(db, "SELECT status FROM fetch_queue WHERE url = ?", [crash]) == [("failed",)], \
        "a crash is not the page's fault for good: a later run tries it again"


def test_reprocessing_a_stored_page_that_hangs_the_extractor_stops_it_and_keeps_its_row(newsroom, tmp_path,
                                                                                       hostile_case):
    """`backfill --mode reprocess` runs on the same pool and bound as ingest: the stored page the
    (upgraded) extractor would work on for hours is stopped, its old row kept, the rest redone."""
    import zlib
    from datetime import date

    import duckdb

    from flows.backfill import backfill

    when = datetime(2025, 6, 3, 9, tzinfo=UTC)
    links = [newsroom.add(f"/news/r{i}", Page(article_page(f"Report {i}", story_paragraphs(f"ferry route {i}"))))
             for i in range(4)]
    newsroom.add("/feed.xml", Page(rss2([Item(f"Report {i}", u, published=when) for i, u in enumerate(links)]),
                                   "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Ferry News", newsroom.url("/feed.xml"))],
                        extract_workers=2, extract_timeout=EXTRACT_TIMEOUT)
    db = tmp_path / "w.duckdb"
    run_ingest(feeds, db)
    before = dict(query(db, "SELECT url, text FROM articles"))
    con = duckdb.connect(str(db))
    con.execute("UPDATE raw_pages SET body_zlib = ? WHERE url = ?",
                [zlib.compress(one_paragraph_page(5 * MiB, inline_markup=True)), links[0]])
    con.execute("UPDATE articles SET text = text || '\n\nSign up for our newsletter' WHERE url = ?", [links[1]])
    con.close()

    with hard_deadline(120), Meter() as meter:
        summary = backfill(since=date(2025, 6, 3), until=date(2025, 6, 3), mode="reprocess",
                           feeds_path=str(feeds), db_path=str(db))

    after = dict(query(db, "SELECT url, text FROM articles"))
    hostile_case("reprocessing a stored page the extractor would work on for hours",
                 f"stopped after {EXTRACT_TIMEOUT:g} s, its old row kept; {summary.articles}/3 others re-extracted",
                 meter.seconds, meter.growth_mib)
    assert (summary.candidates, summary.articles, summary.pages_failed) == (4, 3, 1)
    assert after == before, "the hung page keeps its row; the others are extracted again, cleanly"
    assert meter.seconds < 60
