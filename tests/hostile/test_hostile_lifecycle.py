"""What a bad feed's status means for the next runs: 410 is gone until `wirecopy enable-feed`,
errors and Retry-After hold the feed back, a 301 is followed once and then stored."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from feedkit import Item, article_page, query, rss2, story_paragraphs, write_feeds
from hostile_kit import Meter, hard_deadline, run_ingest

from wirecopy import cli
from wirecopy.newsroom import Page

pytestmark = pytest.mark.usefixtures("prefect_harness")


def retry_after_date(seconds: int):
    """503 with Retry-After as an HTTP date, computed when the request arrives."""
    def handler(req) -> None:
        body = b"maintenance"
        req.send_response(503)
        req.send_header("Content-Type", "text/plain")
        req.send_header("Retry-After", format_datetime(datetime.now(timezone.utc) + timedelta(seconds=seconds),
                                                       usegmt=True))
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)
    return handler


def test_gone_feed_waits_for_enable_feed_and_failing_feeds_back_off(newsroom, tmp_path, capsys, hostile_case):
    def article(slug: str, topic: str) -> str:
        return newsroom.add(f"/news/{slug}", Page(article_page(topic.title(), story_paragraphs(topic))))

    healthy = [article(f"h{i}", f"canal dredging {i}") for i in range(2)]
    newsroom.add("/healthy.xml", Page(rss2([Item(f"Canal {i}", u) for i, u in enumerate(healthy)]),
                                      "application/rss+xml"))
    newsroom.add("/gone.xml", Page(b"this feed is gone", "text/plain", 410))
    newsroom.add("/500.xml", Page(b"boom", "text/plain", 500))
    newsroom.add("/429.xml", Page(b"slow down", "text/plain", 429, headers={"Retry-After": "3600"}))
    newsroom.add("/503.xml", retry_after_date(1800))
    moved = article("moved", "lighthouse repairs")
    newsroom.add("/new-home.xml", Page(rss2([Item("Lighthouse", moved)]), "application/rss+xml", conditional=False))
    newsroom.add("/old-home.xml", Page(b"", status=301, headers={"Location": "/new-home.xml"}))
    urls = {name: newsroom.url(f"/{name}.xml") for name in ("healthy", "gone", "500", "429", "503", "old-home")}
    feeds = write_feeds(tmp_path / "feeds.toml", [(n.title(), u) for n, u in urls.items()])
    db = tmp_path / "w.duckdb"

    with hard_deadline(120), Meter() as meter:
        run_ingest(feeds, db)
        gone = query(db, "SELECT last_status, gone FROM feeds WHERE configured_url = ?", [urls["gone"]])
        before = len(newsroom.requests)
        run_ingest(feeds, db, force_poll=False)
        second = [p for p, _ in newsroom.requests[before:] if p.endswith(".xml")]
        before = len(newsroom.requests)
        run_ingest(feeds, db, force_poll=True)  # --force polls feeds in backoff, never gone ones
        forced = [p for p, _ in newsroom.requests[before:] if p.endswith(".xml")]

        newsroom.add("/gone.xml", Page(rss2([Item("Back", article("back", "ferry return"))]), "application/rss+xml"))
        code = cli.main(["enable-feed", urls["gone"], "--db", str(db)])
        enabled = capsys.readouterr().out
        before = len(newsroom.requests)
        run_ingest(feeds, db)
        after_enable = [p for p, _ in newsroom.requests[before:] if p.endswith(".xml")]

    hostile_case("feed HTTP 410 Gone", f"gone={gone[0][1]}; not polled by the next runs (even --force) until "
                 "`wirecopy enable-feed`, then polled and loaded", meter.seconds, meter.growth_mib)
    hostile_case("feeds failing with 500 / 429 / 503 + Retry-After, next run",
                 "not polled again before their backoff or Retry-After", meter.seconds, meter.growth_mib)
    hostile_case("feed moved by 301, next run", "polled at the new URL only", meter.seconds, meter.growth_mib)

    assert gone == [("410", True)]
    assert "/gone.xml" not in second and "/gone.xml" not in forced
    assert sorted(second) == ["/healthy.xml", "/new-home.xml"], "errors and Retry-After hold the others back"
    assert "/old-home.xml" not in second, "the 301 was stored: the next poll goes straight to the new URL"
    assert {"/500.xml", "/429.xml", "/503.xml"} <= set(forced)
    assert code == 0 and "re-enabled" in enabled
    assert "/gone.xml" in after_enable
    assert query(db, "SELECT last_status, gone FROM feeds WHERE configured_url = ?", [urls["gone"]]) == [("200", False)]
    assert newsroom.url("/news/back") in {r[0] for r in query(db, "SELECT url FROM articles")}
    assert {r[0] for r in query(db, "SELECT url FROM articles")} == set(healthy) | {moved, newsroom.url("/news/back")}
    waits = dict(query(db, "SELECT configured_url, epoch(next_poll_at - last_polled_at) FROM feeds"))
    assert abs(waits[urls["429"]] - 3600) < 5 and abs(waits[urls["503"]] - 1800) < 5
