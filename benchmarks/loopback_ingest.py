"""Run `wirecopy ingest` the way a user does, on outlets served from 127.0.0.1.

Quality benchmarks score what lands in the database through this path (fetch, extraction,
cleaning, load, story assignment), not what one function returns when fed text directly.
"""
from __future__ import annotations

import html as htmlmod
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from benchmarks.throughput import rss  # the benchmarks' one RSS writer
from tasks import dedup
from wirecopy.newsroom import Newsroom, Page

REPO = Path(__file__).resolve().parent.parent
# A loopback newsroom costs no one anything: no per-host pacing between its pages.
LOOPBACK_SETTINGS: dict[str, object] = {"host_min_interval_seconds": 0}


@dataclass(frozen=True)
class Story:
    """One article page of an outlet: where it is served, what its feed entry says."""

    key: str  # the corpus's id for the page
    outlet: str
    title: str
    published: datetime
    html: bytes


def article_html(headline: str, paragraphs: list[str], published: datetime) -> bytes:
    """An outlet's article page: the headline, its date, the body paragraphs inside `<article>`."""
    body = "".join(f"<p>{htmlmod.escape(p)}</p>\n" for p in paragraphs)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{htmlmod.escape(headline)}'
            f'</title><meta property="article:published_time" content="{published.isoformat()}"></head><body>'
            f'<article><h1>{htmlmod.escape(headline)}</h1>\n{body}</article></body></html>').encode()


@contextmanager
def outlets_on_loopback(stories: list[Story]) -> Iterator[tuple[list[tuple[str, str]], dict[str, str]]]:
    """One site and one RSS feed per outlet, each on its own 127.0.0.1 port.

    Yields the (outlet, feed URL) pairs and a map from each page's URL to its story key."""
    by_outlet: dict[str, list[Story]] = {}
    for story in stories:
        by_outlet.setdefault(story.outlet, []).append(story)
    feeds, keys = [], {}
    with ExitStack() as stack:
        for outlet, items in sorted(by_outlet.items()):
            room = stack.enter_context(Newsroom())
            entries = []
            for story in items:
                url = room.add(f"/news/{story.key}.html", Page(story.html))
                keys[url] = story.key
                entries.append((story.title, url, story.published))
            feeds.append((outlet, room.add("/feed.xml", Page(rss(entries, outlet), "application/rss+xml"))))
        yield feeds, keys


def write_feeds_toml(path: Path, feeds: list[tuple[str, str]], settings: dict[str, object] | None = None) -> None:
    lines = []
    if settings:
        lines.append("[settings]")
        lines += [f"{k} = {v!r}" if not isinstance(v, str) else f'{k} = "{v}"' for k, v in settings.items()]
        lines.append("")
    for outlet, url in feeds:
        lines += ["[[feeds]]", f"outlet = {outlet!r}".replace("'", '"'), f'url = "{url}"', ""]
    path.write_text("\n".join(lines))


def ingest_env(prefect_home: Path) -> dict[str, str]:
    """The user's command with a Prefect home of its own and no Prefect server of the user's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "WIRECOPY_"))}
    env.update(PREFECT_HOME=str(prefect_home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="300")
    return env


def run_ingest(feeds_toml: Path, db: Path, prefect_home: Path) -> tuple[int, float, str]:
    """`wirecopy ingest` in a process of its own; returns exit code, seconds and its output."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "wirecopy.cli", "ingest", "--feeds", str(feeds_toml),
                           "--db", str(db)], cwd=REPO, env=ingest_env(prefect_home),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc.returncode, time.perf_counter() - started, proc.stdout


def stories_by_key(db: Path, keys: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Each served page's story and stored text, by its corpus key, read from the database."""
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT url, story_id, text FROM articles").fetchall()
    con.close()
    found = [(keys[url], story, text) for url, story, text in rows if url in keys]
    return {k: s for k, s, _ in found}, {k: t for k, _, t in found}


def rebuilt_stories(db: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Story of each URL before and after `rebuild_stories` on the database."""
    con = duckdb.connect(str(db))
    before = dict(con.execute("SELECT url, story_id FROM articles").fetchall())
    con.execute("BEGIN TRANSACTION")
    dedup.rebuild_stories(con)
    con.execute("COMMIT")
    after = dict(con.execute("SELECT url, story_id FROM articles").fetchall())
    con.close()
    return before, after
