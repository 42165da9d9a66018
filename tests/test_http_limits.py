"""Fetch limits on a real loopback server: size caps hold through gzip, time bounds hold."""
from __future__ import annotations

import asyncio
import gzip
import time
from datetime import datetime, timezone

import pytest

from tasks.core.errors import FetchFailed
from tasks.core.settings import Settings
from tasks.http import fetch_url, make_client, retry_after
from wirecopy.newsroom import Page


def fetch(url: str, settings: Settings, max_bytes: int):
    async def go():
        async with make_client(settings) as client:
            return await fetch_url(client, url, settings, max_bytes=max_bytes, allowed_host=url)
    return asyncio.run(go())


def test_gzip_bomb_is_stopped_at_the_limit_without_inflating_it(newsroom):
    bomb = gzip.compress(b"\0" * (200 * 1024 * 1024), 9)  # ~200 KiB that inflate to 200 MiB
    def handler(req):
        req.send_response(200)
        req.send_header("Content-Type", "text/html")
        req.send_header("Content-Encoding", "gzip")
        req.send_header("Content-Length", str(len(bomb)))
        req.end_headers()
        req.wfile.write(bomb)
    url = newsroom.add("/bomb", handler)
    with pytest.raises(FetchFailed) as err:
        fetch(url, Settings(), max_bytes=1024 * 1024)
    assert err.value.kind == "too_large"


def test_body_without_content_length_is_cut_at_the_limit(newsroom):
    def handler(req):
        req.send_response(200)
        req.send_header("Content-Type", "text/html")
        req.send_header("Connection", "close")
        req.end_headers()
        for _ in range(100):
            req.wfile.write(b"x" * 10_000)
    url = newsroom.add("/stream", handler)
    with pytest.raises(FetchFailed) as err:
        fetch(url, Settings(), max_bytes=50_000)
    assert err.value.kind == "too_large"


def test_a_server_trickling_bytes_hits_the_total_time_bound(newsroom):
    def handler(req):
        req.send_response(200)
        req.send_header("Content-Type", "text/html")
        req.send_header("Content-Length", "1000")
        req.end_headers()
        for _ in range(1000):
            req.wfile.write(b"x")
            req.wfile.flush()
            time.sleep(0.2)
    url = newsroom.add("/slow", handler)
    started = time.monotonic()
    with pytest.raises(FetchFailed) as err:
        fetch(url, Settings(total_timeout=1.5, read_timeout=1.0), max_bytes=10_000)
    assert err.value.kind == "timeout"
    assert time.monotonic() - started < 5


def test_redirect_loops_and_long_chains_are_refused(newsroom):
    newsroom.add("/loop-a", Page(b"", status=302, headers={"Location": "/loop-b"}))
    newsroom.add("/loop-b", Page(b"", status=302, headers={"Location": "/loop-a"}))
    for i in range(8):
        newsroom.add(f"/hop{i}", Page(b"", status=301, headers={"Location": f"/hop{i + 1}"}))
    with pytest.raises(FetchFailed) as loop:
        fetch(newsroom.url("/loop-a"), Settings(), 10_000)
    with pytest.raises(FetchFailed) as chain:
        fetch(newsroom.url("/hop0"), Settings(), 10_000)
    assert (loop.value.kind, chain.value.kind) == ("redirect_loop", "too_many_redirects")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "javascript:alert(1)",
                                 "data:text/html,hi"])
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(FetchFailed) as err:
        fetch(url, Settings(), 10_000)
    assert err.value.kind == "bad_scheme"


def test_retry_after_accepts_seconds_and_http_dates_and_is_capped():
    now = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    assert (retry_after({"retry-after": "120"}, now, 3600) - now).total_seconds() == 120
    when = retry_after({"retry-after": "Sat, 28 Nov 2026 12:30:00 GMT"}, now, 3600)
    assert (when - now).total_seconds() == 1800
    assert (retry_after({"retry-after": "999999"}, now, 3600) - now).total_seconds() == 3600
    assert retry_after({}, now, 3600) is None
