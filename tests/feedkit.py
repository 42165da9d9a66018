"""Builders for the feeds, pages and feeds.toml files tests serve and ingest."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from html import escape
from pathlib import Path

import duckdb


@dataclass
class Item:
    title: str
    link: str
    guid: str | None = None
    published: datetime | None = None


def rss2(items: list[Item], title: str = "Test outlet") -> bytes:
    parts = []
    for it in items:
        guid = f"<guid isPermaLink=\"false\">{escape(it.guid)}</guid>" if it.guid else ""
        date = f"<pubDate>{format_datetime(it.published)}</pubDate>" if it.published else ""
        parts.append(f"<item><title>{escape(it.title)}</title><link>{escape(it.link)}</link>{guid}{date}</item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>http://example.invalid/</link><description>d</description>{''.join(parts)}</channel></rss>").encode()


def atom(items: list[Item], title: str = "Test outlet") -> bytes:
    parts = []
    for it in items:
        when = (it.published or datetime(2026, 11, 1, tzinfo=timezone.utc)).isoformat()
        parts.append(f"<entry><title>{escape(it.title)}</title><link rel=\"alternate\" href=\"{escape(it.link)}\"/>"
                     f"<id>{escape(it.guid or it.link)}</id><updated>{when}</updated></entry>")
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(title)}</title><id>urn:test</id><updated>2026-11-01T00:00:00Z</updated>"
            f"{''.join(parts)}</feed>").encode()


def rss1(items: list[Item], title: str = "Test outlet") -> bytes:
    seq = "".join(f'<rdf:li rdf:resource="{escape(it.link)}"/>' for it in items)
    parts = "".join(f'<item rdf:about="{escape(it.link)}"><title>{escape(it.title)}</title>'
                    f"<link>{escape(it.link)}</link>"
                    + (f"<dc:date>{it.published.isoformat()}</dc:date>" if it.published else "")
                    + "</item>" for it in items)
    return ('<?xml version="1.0" encoding="utf-8"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<channel rdf:about="urn:test"><title>{escape(title)}</title><link>http://example.invalid/</link>'
            f"<description>d</description><items><rdf:Seq>{seq}</rdf:Seq></items></channel>{parts}</rdf:RDF>").encode()


def article_page(title: str, paragraphs: list[str], *, published: str | None = None,
                 author: str | None = None) -> bytes:
    meta = f'<meta property="article:published_time" content="{published}">' if published else ""
    byline = f'<meta name="author" content="{escape(author)}">' if author else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"{meta}{byline}</head><body><header><nav><a href=\"/\">Home</a> <a href=\"/world\">World</a></nav>"
            f"</header><main><article><h1>{escape(title)}</h1>{body}</article></main>"
            f"<footer><p>Copyright Test outlet. All rights reserved.</p></footer></body></html>").encode()


WORDS = ("council minister harbour union port court budget farmers drivers police storm river "
         "election tariff talks vote strike railway hospital school energy prices wages bridge "
         "coast festival museum airline exports imports shipping inflation housing water fishing "
         "border treaty senate mayor teachers nurses doctors factory miners refinery drought").split()


def story_paragraphs(topic: str, n: int = 6) -> list[str]:
    """Article-like paragraphs whose wording differs from one topic to the next, as real stories do."""
    rng = random.Random(topic)
    paragraphs = []
    for i in range(n):
        words = " ".join(rng.choice(WORDS) for _ in range(22))
        paragraphs.append(f"Paragraph {i + 1} on {topic}: officials said the {words} would be reviewed "
                          f"again on {rng.choice(['Monday', 'Tuesday', 'Friday'])}.")
    return paragraphs


# Tests serve many pages from one loopback host and ingest the same feeds run after run: unless a
# test says otherwise, every run polls every feed and requests are not paced (tests of the
# scheduler and of pacing set these themselves). Extraction runs in a thread: a process pool
# spawned for every run (each worker importing trafilatura) is a large part of a small run's
# CPU; the tests of the pool, its bound and its workers set extract_workers themselves.
TEST_DEFAULTS = {"poll_min_seconds": 0.0, "poll_max_seconds": 0.0, "host_min_interval_seconds": 0.0,
                 "extract_workers": 0}


def write_feeds(path: Path, feeds: list[tuple[str, str]], **settings: object) -> Path:
    """feeds.toml with TEST_DEFAULTS under `settings`; a setting given as None is left out (wirecopy's default)."""
    settings = {key: value for key, value in {**TEST_DEFAULTS, **settings}.items() if value is not None}
    lines = []
    if settings:
        lines.append("[settings]")
        for key, value in settings.items():
            lines.append(f"{key} = {value!r}" if not isinstance(value, bool) else f"{key} = {str(value).lower()}")
        lines.append("")
    for outlet, url in feeds:
        lines += ["[[feeds]]", f'outlet = "{outlet}"', f'url = "{url}"', ""]
    path.write_text("\n".join(lines).replace("'", '"'))
    return path


def query(db: Path, sql: str, params: object = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()
    finally:
        con.close()
