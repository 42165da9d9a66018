"""`wirecopy backfill` in a real terminal (a pty, rendered by a terminal emulator): the progress
bar and Prefect's log lines share one console, so no log line is broken by the bar or the bar by
a log line."""
from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import pyte
import pytest
from feedkit import article_page, rss2, story_paragraphs, write_feeds

from wirecopy.newsroom import Page

pytestmark = pytest.mark.usefixtures("prefect_harness")
COLUMNS, ROWS = 160, 1000  # tall enough that nothing scrolls off: the whole session stays on screen
LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} \| (INFO|WARNING|ERROR) +\| ")


def _sitemap_newsroom(newsroom, pages: int) -> None:
    urls = [newsroom.add(f"/news/p{i}", Page(article_page(f"Bar {i}", story_paragraphs(f"progress bar {i}"))))
            for i in range(pages)]
    entries = "".join(f"<url><loc>{u}</loc><lastmod>2025-04-10</lastmod></url>" for u in urls)
    newsroom.add("/sitemap.xml", Page(
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'.encode(),
        "application/xml"))
    newsroom.add("/robots.txt", Page(f"User-agent: *\nSitemap: {newsroom.url('/sitemap.xml')}\n".encode(), "text/plain"))
    newsroom.add("/feed.xml", Page(rss2([]), "application/rss+xml"))


def _run_in_a_terminal(args: list[str], env: dict[str, str]) -> list[str]:
    """The screen's lines after the command ran in a pty of COLUMNS x ROWS."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    proc = subprocess.Popen(args, stdin=terminal, stdout=terminal, stderr=terminal, env=env, close_fds=True)
    os.close(terminal)
    output = bytearray()
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the command exited and the terminal closed
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    assert proc.wait(60) == 0, output.decode(errors="replace")[-3000:]
    screen = pyte.Screen(COLUMNS, ROWS)
    pyte.ByteStream(screen).feed(bytes(output))
    return [line.rstrip() for line in screen.display if line.strip()]


def test_the_backfill_progress_bar_and_prefects_log_lines_do_not_overwrite_each_other(newsroom, tmp_path):
    from prefect.settings import PREFECT_API_URL

    _sitemap_newsroom(newsroom, 24)
    feeds = write_feeds(tmp_path / "feeds.toml", [("Gazette", newsroom.url("/feed.xml"))],
                        batch_size=3, extract_workers=0)  # 8 batches: a log line for each while the bar runs
    lines = _run_in_a_terminal(
        [sys.executable, "-m", "wirecopy.cli", "backfill", "--since", "2025-04-01", "--until", "2025-04-30",
         "--feeds", str(feeds), "--db", str(tmp_path / "w.duckdb")],
        env={**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "TERM": "xterm-256color"})

    bar = [line for line in lines if "fetching 24 pages found in sitemaps" in line]
    logs = [line for line in lines if re.search(r"\| (INFO|WARNING|ERROR) +\|", line)]
    batches = [line for line in logs if "Task run 'fetch and extract pages" in line]
    assert len(bar) == 1 and "24/24" in bar[0], "\n".join(lines)
    assert len(batches) == 8, "\n".join(lines)
    assert all(LOG_LINE.match(line) and "━" not in line for line in logs), "\n".join(lines)
    assert lines.index(bar[0]) > max(lines.index(line) for line in batches), "the bar stays below the log lines"
    assert lines[-1].startswith("backfill sitemaps 2025-04-01..2025-04-30: 24 in range")
