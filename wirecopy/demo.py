"""`wirecopy demo`: a bundled fictional newsroom served on 127.0.0.1, ingested into a fresh DuckDB file."""
from __future__ import annotations

import json
import re
import tempfile
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from importlib import resources
from pathlib import Path

import duckdb

from tasks.db import scalar, sql
from wirecopy.newsroom import Newsroom, Page


def _page(outlet: dict, article: dict) -> bytes:
    """An outlet-styled page: navigation, caption and newsletter boilerplate around the story."""
    paragraphs = article["paragraphs"]
    split_at = 1 if len(paragraphs) > 2 else None  # one paragraph cut around an inline link
    body = []
    for i, text in enumerate(paragraphs):
        if i == split_at and " by " in text:
            head, tail = text.split(" by ", 1)
            body.append(f"<p>{escape(head)} by</p><p><a href=\"/people\">{escape(tail.split(',')[0])}</a>"
                        f"{escape(',' + tail.split(',', 1)[1]) if ',' in tail else ''}</p>")
        else:
            body.append(f"<p>{escape(text)}</p>")
        if i == 1:
            body.append(f"<p><strong>{escape(outlet['newsletter'])}</strong></p>")
    if article.get("credit"):
        body.append(f"<p>{escape(article['credit'])}</p>")
    caption = (f"<figure><img src=\"/img/1.jpg\" alt=\"\"><figcaption>{escape(article['caption'])}"
               "</figcaption></figure>" if article.get("caption") else "")
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": article["title"],
                     "datePublished": article["published"],
                     "publisher": {"@type": "Organization", "name": outlet["name"]}})
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(article['title'])} | "
            f"{escape(outlet['name'])}</title><script type=\"application/ld+json\">{ld}</script></head><body>"
            "<header><nav><a href=\"/\">Home</a> <a href=\"/world\">World</a> "
            "<a href=\"/local\">Local</a></nav></header>"
            f"<main><article><h1>{escape(article['title'])}</h1>{caption}{''.join(body)}</article></main>"
            f"<footer><p>© 2026 {escape(outlet['name'])}. All rights reserved.</p></footer></body></html>").encode()


_HOURS_BEFORE = re.compile(r"\{(day|year):([\d.]+)\}")


def dated_articles(now: datetime) -> dict:
    """The bundled newsroom with its dates set relative to `now` (each article `hours_ago` hours
    before it), so "today" and "this week" queries show the demo's stories whenever it runs."""
    data = json.loads(resources.files("wirecopy").joinpath("demo_newsroom", "articles.json").read_text())

    def fill(match: re.Match) -> str:
        when = now - timedelta(hours=float(match.group(2)))
        return f"{when:%b} {when.day}" if match.group(1) == "day" else str(when.year)

    for article in data["articles"]:
        published = now - timedelta(hours=article.pop("hours_ago"))
        article["published"] = published.replace(microsecond=0).isoformat()
        article["paragraphs"] = [_HOURS_BEFORE.sub(fill, text) for text in article["paragraphs"]]
    return data


def _feed(kind: str, name: str, items: list[tuple[str, str, str]], updated: str) -> tuple[bytes, str]:
    """RSS 2.0, Atom or RSS 1.0, so the demo shows each format at work."""
    if kind == "atom":
        entries = "".join(f"<entry><title>{escape(t)}</title><link href=\"{escape(u)}\"/><id>{escape(u)}</id>"
                          f"<updated>{d}</updated></entry>" for t, u, d in items)
        return (f"<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{escape(name)}</title>"
                f"<id>urn:{escape(name)}</id><updated>{updated}</updated>{entries}</feed>").encode(), \
            "application/atom+xml"
    if kind == "rss1":
        seq = "".join(f"<rdf:li rdf:resource=\"{escape(u)}\"/>" for _, u, _ in items)
        entries = "".join(f"<item rdf:about=\"{escape(u)}\"><title>{escape(t)}</title><link>{escape(u)}</link>"
                          f"<dc:date>{d}</dc:date></item>" for t, u, d in items)
        return ("<?xml version=\"1.0\"?><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" "
                "xmlns=\"http://purl.org/rss/1.0/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
                f"<channel rdf:about=\"urn:{escape(name)}\"><title>{escape(name)}</title><link>urn:x</link>"
                f"<description>{escape(name)}</description><items><rdf:Seq>{seq}</rdf:Seq></items></channel>"
                f"{entries}</rdf:RDF>").encode(), "application/rdf+xml"
    entries = "".join(f"<item><title>{escape(t)}</title><link>{escape(u)}?utm_source=rss</link><guid>{escape(u)}</guid>"
                      f"<pubDate>{format_datetime(datetime.fromisoformat(d))}</pubDate></item>" for t, u, d in items)
    return (f"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{escape(name)}</title><link>urn:x</link>"
            f"<description>{escape(name)}</description>{entries}</channel></rss>").encode(), "application/rss+xml"


def serve_demo_newsroom(room: Newsroom, now: datetime | None = None) -> list[tuple[str, str]]:
    """Register every outlet's pages and feed on `room`; returns (outlet, feed URL) pairs."""
    now = now or datetime.now(UTC)
    data = dated_articles(now)
    feeds = []
    for key, outlet in data["outlets"].items():
        items = []
        for article in (a for a in data["articles"] if a["outlet"] == key):
            url = room.add(f"/{key}/{article['slug']}", Page(_page(outlet, article)))
            items.append((article["title"], url, article["published"]))
        body, content_type = _feed(outlet["feed"], outlet["name"], items, now.replace(microsecond=0).isoformat())
        feeds.append((outlet["name"], room.add(f"/{key}/feed.xml", Page(body, content_type))))
    return feeds


def run_demo(db_path: Path | None = None) -> int:
    from flows.ingest import ingest

    workdir = Path(tempfile.mkdtemp(prefix="wirecopy-demo-"))
    db = db_path or workdir / "demo.duckdb"
    with Newsroom() as room:
        feeds = serve_demo_newsroom(room)
        feeds_file = workdir / "feeds.toml"
        # One loopback host serves every outlet: no need to pace requests to it.
        feeds_file.write_text("[settings]\nhost_min_interval_seconds = 0\n\n"
                              + "".join(f'[[feeds]]\noutlet = "{o}"\nurl = "{u}"\n\n' for o, u in feeds))
        print(f"demo newsroom: {len(feeds)} outlets served on {room.base_url}")
        summary = ingest(feeds_path=str(feeds_file), db_path=str(db))
    print(summary.line())
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(sql("demo_articles")).fetchall()
        stories = scalar(con, "count_rows", table="stories")
    finally:
        con.close()
    print(f"\n{len(rows)} articles in {stories} stories, loaded into {db}\n")
    print(f"{'outlet':<18} {'wire':<8} {'story':<12} {'chars':>6}  title")
    for outlet, wire, story, title, chars in rows:
        print(f"{outlet:<18} {wire:<8} {story[:10]:<12} {chars:>6}  {title}")
    from tasks.core.settings import load_settings
    from tasks.lake import reader_attach

    attach = reader_attach(load_settings(None, db, read_feeds_file=False))
    print(f"\nquery it: duckdb -c \"{attach}; USE wirecopy; SELECT outlet, title, wire_service FROM articles\"")
    return 0
