"""robots.txt for article pages and pacing of one host's requests, against a loopback site."""
from __future__ import annotations

import threading
import time

import pytest
from feedkit import Item, article_page, query, rss2, story_paragraphs, write_feeds

from wirecopy.newsroom import Page

pytestmark = pytest.mark.usefixtures("prefect_harness")
CRAWL_DELAY = 1.0


def run_ingest(feeds, db, **kwargs):
    from flows.ingest import ingest

    return ingest(feeds_path=str(feeds), db_path=str(db), **kwargs)


class TimedPages:
    """Article pages whose request times the server notes as each request arrives."""

    def __init__(self, newsroom) -> None:
        self.newsroom, self.times, self._lock = newsroom, [], threading.Lock()

    def add(self, path: str, topic: str) -> str:
        page = Page(article_page(topic.title(), story_paragraphs(topic)))

        def route(handler) -> None:
            with self._lock:
                self.times.append(time.monotonic())
            handler._send(page)

        return self.newsroom.add(path, route)


def test_robots_txt_keeps_disallowed_pages_unfetched_and_its_crawl_delay_paces_the_host(newsroom, tmp_path):
    timed = TimedPages(newsroom)
    allowed = [timed.add(f"/news/{i}", f"river barge {i}") for i in range(4)]
    private = timed.add("/private/leak", "members only")
    newsroom.add("/robots.txt", Page(f"User-agent: *\nDisallow: /private/\nCrawl-delay: {CRAWL_DELAY:g}\n".encode(),
                                     "text/plain"))
    newsroom.add("/feed.xml", Page(rss2([Item(f"Barge {i}", u) for i, u in enumerate(allowed)]
                                        + [Item("Leak", private)]), "application/rss+xml"))
    # robots.txt read afresh by every run: a disallowed page is checked again, and kept out while it is unchanged
    feeds = write_feeds(tmp_path / "feeds.toml", [("River News", newsroom.url("/feed.xml"))],
                        robots_cache_seconds=0)
    db = tmp_path / "w.duckdb"

    summary = run_ingest(feeds, db)
    run_ingest(feeds, db)
    errors_after_second = query(db, "SELECT kind, count(*) FROM page_errors GROUP BY kind")

    assert "/private/leak" not in newsroom.paths_requested()
    assert sorted(r[0] for r in query(db, "SELECT url FROM articles")) == sorted(allowed)
    assert query(db, "SELECT url, kind FROM page_errors") == [(private, "robots")]
    assert errors_after_second == [("robots", 1)], "the same robots.txt: checked again, not recorded again"
    assert query(db, "SELECT status, attempts FROM fetch_queue WHERE url = ?", [private]) == [("disallowed", 0)]
    assert (summary.pages_failed, summary.pages_disallowed) == (0, 1)
    gaps = [b - a for a, b in zip(timed.times, timed.times[1:])]
    assert len(timed.times) == 4 and min(gaps) >= 0.9 * CRAWL_DELAY, f"requests {gaps} s apart"
    assert query(db, "SELECT origin, status FROM robots_txt") == [(newsroom.base_url, 200)]

    newsroom.add("/robots.txt", Page(b"User-agent: *\nDisallow: /admin/\n", "text/plain"))
    run_ingest(feeds, db)

    assert "/private/leak" in newsroom.paths_requested(), "robots.txt changed: the page is fetched"
    assert query(db, "SELECT status FROM fetch_queue WHERE url = ?", [private]) == [("done",)]


def test_the_per_host_minimum_interval_paces_a_site_without_crawl_delay(newsroom, tmp_path):
    timed = TimedPages(newsroom)
    links = [timed.add(f"/news/{i}", f"tram line {i}") for i in range(3)]
    newsroom.add("/feed.xml", Page(rss2([Item(f"Tram {i}", u) for i, u in enumerate(links)]), "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Tram Times", newsroom.url("/feed.xml"))],
                        host_min_interval_seconds=0.5)
    db = tmp_path / "w.duckdb"

    run_ingest(feeds, db)

    gaps = [b - a for a, b in zip(timed.times, timed.times[1:])]
    assert len(timed.times) == 3 and min(gaps) >= 0.45, f"requests {gaps} s apart"


def test_respect_robots_off_fetches_what_robots_txt_disallows(newsroom, tmp_path):
    link = newsroom.add("/private/a", Page(article_page("Vault", story_paragraphs("vault audit"))))
    newsroom.add("/robots.txt", Page(b"User-agent: *\nDisallow: /\n", "text/plain"))
    newsroom.add("/feed.xml", Page(rss2([Item("Vault", link)]), "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Vault", newsroom.url("/feed.xml"))], respect_robots=False)
    db = tmp_path / "w.duckdb"

    run_ingest(feeds, db)

    assert query(db, "SELECT url FROM articles") == [(link,)]
    assert "/robots.txt" not in newsroom.paths_requested()
