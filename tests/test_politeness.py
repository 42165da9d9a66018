"""robots.txt for article pages and pacing of one host's requests, against loopback sites."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from feedkit import Item, article_page, query, rss2, story_paragraphs, write_feeds

from wirecopy.newsroom import Newsroom, Page

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
    assert len(timed.times) == 4, "a Crawl-delay within two minutes is waited for: every allowed page fetched"
    assert query(db, "SELECT origin, status FROM robots_txt") == [(newsroom.base_url, 200)]

    newsroom.add("/robots.txt", Page(b"User-agent: *\nDisallow: /admin/\n", "text/plain"))
    run_ingest(feeds, db)

    assert "/private/leak" in newsroom.paths_requested(), "robots.txt changed: the page is fetched"
    assert query(db, "SELECT status FROM fetch_queue WHERE url = ?", [private]) == [("done",)]


def _paced_site(host: str, robots: str | None) -> tuple[Newsroom, TimedPages, list[str]]:
    """A site on a loopback address of its own: this process's pacing of its host starts with the test."""
    room = Newsroom(host=host)
    timed = TimedPages(room)
    links = [timed.add(f"/news/{i}", f"tram line {i}") for i in range(3)]
    room.add("/feed.xml", Page(rss2([Item(f"Tram {i}", u) for i, u in enumerate(links)]), "application/rss+xml"))
    if robots is not None:
        room.add("/robots.txt", Page(robots.encode(), "text/plain"))
    return room, timed, links


@pytest.mark.parametrize("robots,settings,interval", [
    (None, {"host_min_interval_seconds": 300.0, "respect_robots": False}, "300s"),
    ("User-agent: *\nCrawl-delay: 300\n", {}, "300s"),
], ids=["host_min_interval", "crawl_delay"])
def test_a_host_paced_beyond_two_minutes_gets_one_request_and_its_other_pages_wait_for_a_later_run(
        tmp_path, robots, settings, interval):
    """Pages wait for their host's next slot up to two minutes; a slot further off leaves the page
    queued, no attempt counted, for a run after that."""
    room, timed, links = _paced_site("127.0.0.5" if robots is None else "127.0.0.6", robots)
    with room:
        feeds = write_feeds(tmp_path / "feeds.toml", [("Tram Times", room.url("/feed.xml"))], **settings)
        db = tmp_path / "w.duckdb"
        started = datetime.now(timezone.utc)

        summary = run_ingest(feeds, db)

    assert len(timed.times) == 1, "one page of the host fetched in this run"
    assert (summary.articles_new, summary.pages_deferred, summary.pages_failed) == (1, 2, 0)
    waiting = query(db, "SELECT status, attempts, next_attempt_at, last_error FROM fetch_queue "
                        "WHERE url NOT IN (SELECT url FROM articles) ORDER BY url")
    assert [(status, attempts) for status, attempts, _, _ in waiting] == [("pending", 0)] * 2
    assert all(later >= started + timedelta(seconds=120) for _, _, later, _ in waiting)
    assert all(f"paced at one request every {interval}; left for a later run" in error for *_, error in waiting)
    assert sorted(links) == sorted([r[0] for r in query(db, "SELECT url FROM articles")]
                                   + [r[0] for r in query(db, "SELECT url FROM fetch_queue WHERE status = 'pending'")])


def test_respect_robots_off_fetches_what_robots_txt_disallows(newsroom, tmp_path):
    link = newsroom.add("/private/a", Page(article_page("Vault", story_paragraphs("vault audit"))))
    newsroom.add("/robots.txt", Page(b"User-agent: *\nDisallow: /\n", "text/plain"))
    newsroom.add("/feed.xml", Page(rss2([Item("Vault", link)]), "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Vault", newsroom.url("/feed.xml"))], respect_robots=False)
    db = tmp_path / "w.duckdb"

    run_ingest(feeds, db)

    assert query(db, "SELECT url FROM articles") == [(link,)]
    assert "/robots.txt" not in newsroom.paths_requested()
