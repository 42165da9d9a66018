"""End to end: feeds and pages served on 127.0.0.1, ingested by the Prefect flow into a real DuckDB file."""
from __future__ import annotations

import socket
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from feedkit import Item, article_page, atom, query, rss1, rss2, story_paragraphs, write_feeds

from wirecopy.newsroom import Page

pytestmark = pytest.mark.usefixtures("prefect_harness")
WHEN = datetime(2026, 11, 20, 8, 30, tzinfo=timezone.utc)


def run_ingest(feeds: Path, db: Path, **kwargs):
    from flows.ingest import ingest

    return ingest(feeds_path=str(feeds), db_path=str(db), **kwargs)


def publish(newsroom, slug: str, topic: str, **kwargs) -> str:
    return newsroom.add(f"/news/{slug}", Page(article_page(topic.title(), story_paragraphs(topic), **kwargs)))


@pytest.mark.parametrize("builder", [rss2, atom, rss1], ids=["rss2", "atom", "rss1"])
def test_every_feed_format_loads_its_articles(builder, newsroom, tmp_path):
    links = [publish(newsroom, f"{builder.__name__}-{i}", f"harbour strike {i}") for i in range(3)]
    newsroom.add("/feed.xml", Page(builder([Item(f"Strike {i}", link, published=WHEN) for i, link in enumerate(links)]),
                                   "application/xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Port Gazette", newsroom.url("/feed.xml"))])
    db = tmp_path / "w.duckdb"

    summary = run_ingest(feeds, db)

    rows = query(db, "SELECT url, outlet, title, published_at, text, story_id FROM articles ORDER BY url")
    assert [r[0] for r in rows] == sorted(links)
    assert all(r[1] == "Port Gazette" for r in rows)
    assert all(r[2].startswith("Harbour Strike") for r in rows)
    assert all(r[3] == WHEN for r in rows), "the feed's date is used when the page has none"
    assert all("Paragraph 6 on harbour strike" in r[4] for r in rows)
    assert all(r[5] for r in rows), "every article gets a story"
    assert query(db, "SELECT count(*) FROM stories") == [(3,)]
    assert summary.articles_new == 3 and summary.feeds_failed == 0


def test_second_poll_is_conditional_and_fetches_no_page(newsroom, tmp_path):
    link = publish(newsroom, "a", "budget vote")
    newsroom.add("/feed.xml", Page(rss2([Item("Budget", link, guid="b-1")]), "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Daily", newsroom.url("/feed.xml"))])
    db = tmp_path / "w.duckdb"
    run_ingest(feeds, db)
    first = len(newsroom.requests)

    summary = run_ingest(feeds, db)

    later = newsroom.requests[first:]
    assert [p for p, _ in later] == ["/feed.xml"]
    assert later[0][1].get("if-none-match"), "the stored ETag is sent back"
    assert summary.feeds_not_modified == 1
    assert query(db, "SELECT status FROM feed_polls ORDER BY polled_at") == [("200",), ("304",)]


def test_running_the_same_ingest_twice_adds_no_row(newsroom, tmp_path):
    links = [publish(newsroom, f"x{i}", f"river flood {i}") for i in range(4)]
    # No ETag: the feed answers 200 with the same entries every time.
    newsroom.add("/feed.xml", Page(rss2([Item(f"Flood {i}", link) for i, link in enumerate(links)]),
                                   "application/rss+xml", conditional=False))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Daily", newsroom.url("/feed.xml"))])
    db = tmp_path / "w.duckdb"
    counts = "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM stories), " \
             "(SELECT count(*) FROM raw_pages), (SELECT count(*) FROM fetch_queue), (SELECT count(*) FROM feed_entries)"
    run_ingest(feeds, db)
    before = query(db, counts)
    pages_before = sum(1 for p in newsroom.paths_requested() if p.startswith("/news/"))

    run_ingest(feeds, db)

    assert query(db, counts) == before == [(4, 4, 4, 4, 4)]
    assert sum(1 for p in newsroom.paths_requested() if p.startswith("/news/")) == pages_before, \
        "an article already stored is not fetched again"


def test_a_failing_feed_does_not_stop_a_healthy_one(newsroom, tmp_path):
    link = publish(newsroom, "ok", "election count")
    newsroom.add("/good.xml", Page(rss2([Item("Count", link)]), "application/rss+xml"))
    newsroom.add("/bad.xml", Page(b"boom", "text/plain", status=500))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Good", newsroom.url("/good.xml")), ("Bad", newsroom.url("/bad.xml"))])
    db = tmp_path / "w.duckdb"

    summary = run_ingest(feeds, db)

    assert query(db, "SELECT url FROM articles") == [(link,)]
    assert summary.feeds_failed == 1
    status, failures, next_poll, polled = query(
        db, "SELECT last_status, consecutive_failures, next_poll_at, last_polled_at FROM feeds WHERE outlet = 'Bad'")[0]
    assert (status, failures) == ("500", 1)
    assert next_poll >= polled + timedelta(seconds=60), "a failing feed backs off"
    assert query(db, "SELECT status, error FROM feed_polls WHERE feed_url LIKE '%bad.xml'") == [("500", "HTTP 500")]

    run_ingest(feeds, db)  # still in backoff: not polled again
    assert [p for p in newsroom.paths_requested() if p == "/bad.xml"] == ["/bad.xml"]
    assert query(db, "SELECT consecutive_failures FROM feeds WHERE outlet = 'Bad'") == [(1,)]


def test_oversized_page_and_feed_are_refused_with_a_recorded_error(newsroom, tmp_path):
    small = publish(newsroom, "small", "tariff talks")
    big_paragraphs = story_paragraphs("giant", 400)
    newsroom.add("/news/big", Page(article_page("Big", big_paragraphs)))
    newsroom.add("/news/big-gz", Page(article_page("Big gz", big_paragraphs), gzip=True))
    newsroom.add("/feed.xml", Page(rss2([Item("Small", small), Item("Big", newsroom.url("/news/big")),
                                         Item("Big gz", newsroom.url("/news/big-gz"))]), "application/rss+xml"))
    newsroom.add("/huge-feed.xml", Page(rss2([Item(f"x{i}" * 50, newsroom.url(f"/n/{i}")) for i in range(400)]),
                                        "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Daily", newsroom.url("/feed.xml")),
                                                  ("Huge", newsroom.url("/huge-feed.xml"))],
                        page_max_bytes=20_000, feed_max_bytes=20_000)
    db = tmp_path / "w.duckdb"

    run_ingest(feeds, db)

    assert query(db, "SELECT url FROM articles") == [(small,)]
    errors = dict(query(db, "SELECT url, kind FROM page_errors"))
    assert errors == {newsroom.url("/news/big"): "too_large", newsroom.url("/news/big-gz"): "too_large"}
    assert query(db, "SELECT last_status FROM feeds WHERE outlet = 'Huge'") == [("too_large",)]


def test_redirects_are_followed_and_a_moved_feed_is_stored_under_its_new_url(newsroom, tmp_path):
    final = publish(newsroom, "final", "rail strike")
    newsroom.add("/news/old", Page(b"", status=302, headers={"Location": "/news/final"}))
    newsroom.add("/new-feed.xml", Page(rss2([Item("Rail", newsroom.url("/news/old"))]), "application/rss+xml"))
    newsroom.add("/feed.xml", Page(b"", status=301, headers={"Location": "/new-feed.xml"}))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Daily", newsroom.url("/feed.xml"))])
    db = tmp_path / "w.duckdb"

    run_ingest(feeds, db)

    assert query(db, "SELECT url, text LIKE '%rail strike%' FROM articles") == [(newsroom.url("/news/old"), True)]
    assert query(db, "SELECT final_url FROM raw_pages") == [(final,)]
    assert query(db, "SELECT url, configured_url FROM feeds") == [(newsroom.url("/new-feed.xml"), newsroom.url("/feed.xml"))]
    run_ingest(feeds, db)
    assert newsroom.paths_requested().count("/new-feed.xml") == 2
    assert newsroom.paths_requested().count("/feed.xml") == 1, "the next poll goes straight to the new URL"


@pytest.fixture
def listener_on_127_0_0_2():
    """A plain TCP listener on another loopback address: proves whether anything connected."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.2", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    accepted: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, addr = srv.accept()
            except (TimeoutError, OSError):
                continue
            accepted.append(addr)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield srv.getsockname()[1], accepted
    stop.set()
    thread.join(2)
    srv.close()


def test_links_and_redirects_to_another_internal_host_are_refused(newsroom, tmp_path, listener_on_127_0_0_2):
    port, accepted = listener_on_127_0_0_2
    ok = publish(newsroom, "ok", "port reopening")
    newsroom.add("/news/bounce", Page(b"", status=302, headers={"Location": f"http://127.0.0.2:{port}/admin"}))
    newsroom.add("/feed.xml", Page(rss2([
        Item("OK", ok),
        Item("Internal", f"http://127.0.0.2:{port}/secret"),
        Item("Decimal", f"http://2130706434:{port}/secret"),
        Item("Hex", f"http://0x7f000002:{port}/secret"),
        Item("Bounce", newsroom.url("/news/bounce")),
    ]), "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Daily", newsroom.url("/feed.xml"))])
    db = tmp_path / "w.duckdb"

    run_ingest(feeds, db)

    assert accepted == [], "nothing may reach the internal listener"
    assert query(db, "SELECT url FROM articles") == [(ok,)]
    kinds = query(db, "SELECT kind, count(*) FROM page_errors GROUP BY kind")
    assert kinds == [("refused", 4)]
    assert query(db, "SELECT count(*) FROM fetch_queue WHERE status = 'refused'") == [(4,)]


def test_seed_like_syndicated_page_is_cleaned_and_attributed_to_reuters(newsroom, tmp_path):
    fixture = Path(__file__).parent / "fixtures" / "pages" / "straits_times_reuters.html"
    newsroom.add("/world/seoul-talks", Page(fixture.read_bytes()))
    newsroom.add("/rss.xml", Page(rss2([Item("Seoul talks", newsroom.url("/world/seoul-talks?utm_source=rss#top"))]),
                                  "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("The Straits Times", newsroom.url("/rss.xml"))])
    db = tmp_path / "w.duckdb"

    run_ingest(feeds, db)

    url, text, wire = query(db, "SELECT url, text, wire_service FROM articles")[0]
    assert url == newsroom.url("/world/seoul-talks"), "tracking parameters and fragment are dropped"
    assert wire == "Reuters"
    for junk in ("FILE PHOTO", "Sign up now", "Follow topic", "See more on"):
        assert junk not in text
    assert not text.rstrip().endswith("REUTERS")
    paragraphs = text.split("\n\n")
    assert all(p.strip() and p == p.strip() for p in paragraphs)
    assert all(p.rstrip()[-1] in ".\"'”’?!:)" for p in paragraphs), "split paragraphs are joined back"


def test_malformed_feed_yields_the_entries_it_could_parse(newsroom, tmp_path):
    a = publish(newsroom, "a", "wildfire smoke")
    body = rss2([Item("Smoke", a)]).replace(b"</channel></rss>", b"<item><title>broken & bad</title></channel>")
    newsroom.add("/feed.xml", Page(body, "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Daily", newsroom.url("/feed.xml"))])
    db = tmp_path / "w.duckdb"

    run_ingest(feeds, db)

    assert query(db, "SELECT url FROM articles") == [(a,)]
    status, error = query(db, "SELECT status, error FROM feed_polls")[0]
    assert status == "200" and error, "the parse problem is recorded"


def test_rate_limited_feed_waits_for_retry_after(newsroom, tmp_path):
    newsroom.add("/feed.xml", Page(b"slow down", "text/plain", status=429, headers={"Retry-After": "7200"}))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Daily", newsroom.url("/feed.xml"))])
    db = tmp_path / "w.duckdb"

    run_ingest(feeds, db)

    status, polled, next_poll = query(db, "SELECT last_status, last_polled_at, next_poll_at FROM feeds")[0]
    assert status == "429"
    assert abs((next_poll - polled).total_seconds() - 7200) < 5


def test_a_site_answering_429_with_retry_after_is_left_alone_until_then_and_loses_no_page(newsroom, tmp_path,
                                                                                           monkeypatch):
    from tasks import pages

    monkeypatch.setattr(pages, "_HOST_WAITS", pages._HostWaits())  # the wait must not outlive this test
    links = [newsroom.add(f"/news/busy{i}", Page(b"slow down", "text/plain", status=429,
                                                 headers={"Retry-After": "3600"})) for i in range(6)]
    newsroom.add("/feed.xml", Page(rss2([Item(f"Busy {i}", link) for i, link in enumerate(links)]), "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Daily", newsroom.url("/feed.xml"))])
    db = tmp_path / "w.duckdb"

    summary = run_ingest(feeds, db)
    asked = [p for p, _ in newsroom.requests if p.startswith("/news/")]
    run_ingest(feeds, db)
    asked_again = [p for p, _ in newsroom.requests if p.startswith("/news/")][len(asked):]

    assert 1 <= len(asked) <= 2, "only the pages already in flight when the site said to wait"
    assert summary.pages_failed == len(asked) and summary.pages_deferred == 6 - len(asked)
    assert asked_again == [], "nothing is asked again before the Retry-After time"
    rows = query(db, "SELECT url, status, attempts, next_attempt_at - last_attempt_at FROM fetch_queue")
    assert sorted(r[0] for r in rows) == sorted(links), "every page stays queued"
    assert all(r[3].total_seconds() >= 3590 for r in rows)
    assert sorted((r[1], r[2]) for r in rows) == sorted([("failed", 1)] * len(asked) + [("pending", 0)] * (6 - len(asked)))


def test_a_load_past_the_database_memory_limit_fails_clearly_and_the_next_run_loads_the_work(
        newsroom, tmp_path, capsys, monkeypatch):
    from wirecopy import cli

    first = [publish(newsroom, f"m{i}", f"tidal barrage {i}") for i in range(2)]
    newsroom.add("/feed.xml", Page(rss2([Item(f"Barrage {i}", link) for i, link in enumerate(first)]), "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Coast", newsroom.url("/feed.xml"))])
    db = tmp_path / "w.duckdb"
    run_ingest(feeds, db)
    later = [publish(newsroom, f"n{i}", f"salt flats {i}") for i in range(3)]
    newsroom.add("/feed.xml", Page(rss2([Item(f"Flats {i}", link) for i, link in enumerate(first + later)]),
                                   "application/rss+xml"))

    monkeypatch.setenv("WIRECOPY_DB_MEMORY_LIMIT", "1MB")
    capsys.readouterr()
    code = cli.main(["ingest", "--feeds", str(feeds), "--db", str(db)])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 1
    assert "Out of Memory" in err and "raise the setting db_memory_limit" in err, err
    assert sorted(r[0] for r in query(db, "SELECT url FROM articles")) == sorted(first)

    monkeypatch.delenv("WIRECOPY_DB_MEMORY_LIMIT")
    fetched = len(newsroom.requests)
    run_ingest(feeds, db)
    assert sorted(r[0] for r in query(db, "SELECT url FROM articles")) == sorted(first + later)
    assert not [p for p, _ in newsroom.requests[fetched:] if p.startswith("/news/")], "loaded from staging"


def test_a_page_emptied_by_cleaning_is_still_an_article_flagged_and_reprocessed(newsroom, tmp_path):
    from flows.backfill import backfill

    caption_only = newsroom.add("/news/dolls", Page(article_page("Dolls on sale in Moscow", [
        "FILE PHOTO: Matryoshka dolls depicting the two presidents are seen on sale at a flea market "
        "in Moscow, Russia July 13, 2018. REUTERS/Maxim Shemetov"])))
    story = publish(newsroom, "summit", "summit talks")
    newsroom.add("/feed.xml", Page(rss2([Item("Dolls", caption_only, published=WHEN),
                                         Item("Summit", story, published=WHEN)]), "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Wire Digest", newsroom.url("/feed.xml"))])
    db = tmp_path / "w.duckdb"

    summary = run_ingest(feeds, db)

    assert summary.articles_loaded == 2
    rows = dict(query(db, "SELECT url, cleaning_emptied FROM articles"))
    assert rows == {caption_only: True, story: False}
    assert "Matryoshka dolls" in query(db, "SELECT text FROM articles WHERE url = ?", [caption_only])[0][0]
    assert query(db, "SELECT status FROM fetch_queue WHERE url = ?", [caption_only]) == [("done",)]
    assert query(db, "SELECT kind FROM page_errors WHERE url = ?", [caption_only]) == [("cleaning_emptied",)]
    assert query(db, "SELECT story_id IS NOT NULL FROM articles WHERE url = ?", [caption_only]) == [(True,)]
    day = WHEN.date()
    again = backfill(since=day, until=day, mode="reprocess", feeds_path=str(feeds), db_path=str(db))
    assert again.candidates == 2, "reprocess re-tries the emptied page from its stored copy"
