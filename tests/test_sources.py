"""Every kind of feed URL, served on 127.0.0.1 and ingested by the flow: JSON Feed, news sitemap
indexes, forced kinds, unreadable bodies, and anti-bot walls."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from html import escape

import pytest
from feedkit import Item, article_page, query, rss2, story_paragraphs, write_feeds

from wirecopy.newsroom import Page

pytestmark = pytest.mark.usefixtures("prefect_harness")
NOW = datetime.now(UTC).replace(microsecond=0)


def run_ingest(feeds, db, **kwargs):
    from flows.ingest import ingest

    return ingest(feeds_path=str(feeds), db_path=str(db), **kwargs)


def publish(newsroom, slug: str, topic: str) -> str:
    return newsroom.add(f"/news/{slug}", Page(article_page(topic.title(), story_paragraphs(topic))))


def news_sitemap(entries: list[tuple[str, str, datetime]]) -> bytes:
    urls = "".join(
        f"<url><loc>{escape(loc)}</loc><news:news><news:publication><news:name>Wire</news:name>"
        f"<news:language>en</news:language></news:publication>"
        f"<news:publication_date>{when.isoformat()}</news:publication_date>"
        f"<news:title>{escape(title)}</news:title></news:news></url>" for loc, title, when in entries)
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>').encode()


def sitemap_index(children: list[tuple[str, datetime | None]]) -> bytes:
    items = "".join(f"<sitemap><loc>{escape(loc)}</loc>"
                    + (f"<lastmod>{lastmod.isoformat()}</lastmod>" if lastmod else "") + "</sitemap>"
                    for loc, lastmod in children)
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>').encode()


def test_a_json_feed_loads_its_articles_with_titles_authors_and_dates(newsroom, tmp_path):
    links = [publish(newsroom, f"j{i}", f"glacier survey {i}") for i in range(3)]
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "Ice Desk",
            "authors": [{"name": "Desk Staff"}],
            "items": [{"id": f"ice-{i}", "url": link, "title": f"Glacier {i}",
                       "date_published": (NOW - timedelta(hours=i + 1)).isoformat()}
                      for i, link in enumerate(links)]}
    feed["items"][0]["authors"] = [{"name": "Ana Ruiz"}, {"name": "Li Wei"}]
    newsroom.add("/feed.json", Page(json.dumps(feed).encode(), "application/feed+json"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Ice Desk", newsroom.url("/feed.json"))])
    db = tmp_path / "w.duckdb"

    summary = run_ingest(feeds, db)

    assert sorted(r[0] for r in query(db, "SELECT url FROM articles")) == sorted(links)
    entries = query(db, "SELECT entry_id, title, author, published_at FROM feed_entries ORDER BY entry_id")
    assert [e[:3] for e in entries] == [("ice-0", "Glacier 0", "Ana Ruiz, Li Wei"),
                                        ("ice-1", "Glacier 1", "Desk Staff"), ("ice-2", "Glacier 2", "Desk Staff")]
    assert entries[0][3] == NOW - timedelta(hours=1)
    assert query(db, "SELECT kind, last_status FROM feeds") == [("json", "200")]
    assert summary.feeds_failed == 0


def test_a_news_sitemap_index_reads_only_children_that_can_hold_new_urls(newsroom, tmp_path):
    a = [publish(newsroom, f"a{i}", f"port strike {i}") for i in range(2)]
    b = [publish(newsroom, f"b{i}", f"grain exports {i}") for i in range(2)]
    newsroom.add("/sitemap-a.xml", Page(news_sitemap([(u, f"Strike {i}", NOW - timedelta(hours=2))
                                                      for i, u in enumerate(a)]), "application/xml"))
    newsroom.add("/sitemap-b.xml", Page(news_sitemap([(u, f"Grain {i}", NOW - timedelta(hours=1))
                                                      for i, u in enumerate(b)]), "application/xml"))
    newsroom.add("/sitemap-2019.xml", Page(news_sitemap([(publish(newsroom, "old", "old story"), "Old",
                                                          NOW - timedelta(days=2000))]), "application/xml"))
    newsroom.add("/news-index.xml", Page(sitemap_index([
        (newsroom.url("/sitemap-a.xml"), None), (newsroom.url("/sitemap-b.xml"), None),
        (newsroom.url("/sitemap-2019.xml"), NOW - timedelta(days=2000))]), "text/xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Wire", newsroom.url("/news-index.xml"))])
    db = tmp_path / "w.duckdb"

    run_ingest(feeds, db)
    first = len(newsroom.requests)
    fresh = publish(newsroom, "b-new", "grain corridor talks")
    newsroom.add("/sitemap-b.xml", Page(news_sitemap([(u, f"Grain {i}", NOW - timedelta(hours=1))
                                                      for i, u in enumerate(b + [fresh])]), "application/xml"))
    summary = run_ingest(feeds, db)

    stored = {r[0] for r in query(db, "SELECT url FROM articles")}
    assert stored == set(a + b + [fresh]), "the children's news entries load; the 2019 archive is not read"
    assert "/sitemap-2019.xml" not in newsroom.paths_requested()
    second = newsroom.requests[first:]
    assert sorted(p for p, _ in second if p.endswith(".xml")) == ["/news-index.xml", "/sitemap-a.xml",
                                                                  "/sitemap-b.xml"]
    asked = dict(second)
    assert asked["/sitemap-a.xml"].get("if-none-match") and asked["/sitemap-b.xml"].get("if-none-match"), \
        "each child is asked with its own conditional GET"
    children = dict(query(db, "SELECT sitemap_url, last_status FROM sitemap_children"))
    assert children == {newsroom.url("/sitemap-a.xml"): "304", newsroom.url("/sitemap-b.xml"): "200",
                        newsroom.url("/sitemap-2019.xml"): None}
    assert query(db, "SELECT status, entries_new FROM feed_polls ORDER BY polled_at") == [("200", 4), ("304", 1)]
    assert summary.articles_new == 1
    titles = dict(query(db, "SELECT url, title FROM feed_entries"))
    assert titles[fresh] == "Grain 2", "news:title is the entry's title"
    assert query(db, "SELECT kind FROM feeds") == [("sitemap",)]


def test_type_in_feeds_toml_forces_the_kind(newsroom, tmp_path):
    link = publish(newsroom, "r", "ferry fares")
    newsroom.add("/feed.xml", Page(rss2([Item("Fares", link)]), "application/rss+xml"))
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[settings]\npoll_min_seconds = 0\npoll_max_seconds = 0\n\n[[feeds]]\noutlet = "Ferry"\n'
                     f'url = "{newsroom.url("/feed.xml")}"\ntype = "json"\n')
    db = tmp_path / "w.duckdb"

    run_ingest(feeds, db)

    assert query(db, "SELECT status FROM feed_polls") == [("not_a_feed",)], "read as JSON Feed, as forced"
    assert query(db, "SELECT count(*) FROM articles") == [(0,)]


def test_a_feed_that_could_not_be_read_keeps_no_validators_and_is_read_once_it_can_be(newsroom, tmp_path):
    link = publish(newsroom, "v", "dam inspection")
    newsroom.add("/feed", Page(b"<html><body><p>Our feed moved</p></body></html>", "text/html"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Dam Post", newsroom.url("/feed"))])
    db = tmp_path / "w.duckdb"

    run_ingest(feeds, db)
    run_ingest(feeds, db, force_poll=True)
    polls = [h for p, h in newsroom.requests if p == "/feed"]
    newsroom.add("/feed", Page(json.dumps({"version": "https://jsonfeed.org/version/1", "items": [
        {"id": "d1", "url": link, "title": "Dam"}]}).encode(), "application/json"))
    run_ingest(feeds, db, force_poll=True)

    assert [("if-none-match" in h) for h in polls] == [False, False], "the unread 200's ETag was not kept"
    assert query(db, "SELECT status FROM feed_polls ORDER BY polled_at") == [("not_a_feed",), ("not_a_feed",),
                                                                             ("200",)]
    assert query(db, "SELECT etag IS NOT NULL, consecutive_failures, kind FROM feeds") == [(True, 0, "json")]
    assert query(db, "SELECT url FROM articles") == [(link,)]


def test_an_rss_channel_with_no_item_that_feedparser_complains_of_is_a_malformed_poll(newsroom, tmp_path):
    newsroom.add("/quiet.xml", Page(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title>'
                                    b"</channel></rss>", "text/html"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Quiet Post", newsroom.url("/quiet.xml"))])
    db = tmp_path / "w.duckdb"

    run_ingest(feeds, db)

    [(status, error)] = query(db, "SELECT status, error FROM feed_polls")
    assert status == "malformed" and error.startswith("NonXMLContentType"), "the kind, then feedparser's words"
    assert query(db, "SELECT etag, consecutive_failures FROM feeds") == [(None, 1)], "a failed poll"


CLOUDFLARE_CHALLENGE = (b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
                        b"<script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1\"></script>"
                        b"</body></html>")


def test_challenge_pages_are_recorded_as_blocked_with_the_vendor_and_back_off(newsroom, tmp_path, capsys,
                                                                              monkeypatch):
    from tasks import pages
    from wirecopy import cli

    monkeypatch.setattr(pages, "_HOST_WAITS", pages._HostWaits())  # the wait must not outlive this test
    newsroom.add("/walled.xml", Page(CLOUDFLARE_CHALLENGE, "text/html", status=403,
                                     headers={"cf-ray": "8f1c2a3b4c5d6e7f-AMS", "Server": "cloudflare"}))
    walled = newsroom.add("/news/walled", Page(b"<html><script src='https://ct.captcha-delivery.com/c.js'>"
                                               b"</script></html>", "text/html", status=403,
                                               headers={"X-DataDome": "protected"}))
    newsroom.add("/open.xml", Page(rss2([Item("Walled", walled)]), "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Walled", newsroom.url("/walled.xml")),
                                                  ("Open", newsroom.url("/open.xml"))])
    db = tmp_path / "w.duckdb"

    summary = run_ingest(feeds, db)
    capsys.readouterr()
    assert cli.main(["status", "--db", str(db)]) == 0
    status = capsys.readouterr().out

    poll = query(db, "SELECT status, blocked_by, error FROM feed_polls WHERE feed_url LIKE '%walled.xml'")[0]
    assert poll[:2] == ("blocked", "Cloudflare") and "HTTP 403" in poll[2]
    failures, next_poll, polled = query(db, "SELECT consecutive_failures, next_poll_at, last_polled_at FROM feeds "
                                            "WHERE outlet = 'Walled'")[0]
    assert failures == 1 and next_poll >= polled + timedelta(seconds=60), "a wall backs off like a failure"
    assert summary.feeds_failed == 1
    assert query(db, "SELECT url, kind, blocked_by FROM page_errors") == [(walled, "blocked", "DataDome")]
    assert query(db, "SELECT url, status FROM fetch_queue") == [(walled, "failed")], \
        "a walled page is retried later (a plain 403 is refused for good)"
    assert "blocked by anti-bot walls" in status
    assert "127.0.0.1\tCloudflare\tfeed polls 1, pages 0" in status
    assert "127.0.0.1\tDataDome\tfeed polls 0, pages 1" in status
    assert "backoff after blocked by Cloudflare" in status
