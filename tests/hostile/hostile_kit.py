"""What the hostile suite serves and measures: misbehaving handlers, raw TCP listeners, run meters.

Everything listens on loopback (127.0.0.1, 127.0.0.2 or ::1); the test-wide loopback guard fails
any connection elsewhere.
"""
from __future__ import annotations

import faulthandler
import gzip
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
MiB = 1024 * 1024
GiB = 1024 * MiB

# --- bodies ----------------------------------------------------------------------------------


def gzip_bomb_layers() -> tuple[bytes, bytes]:
    """(outer, inner): inner is ~1 MiB of gzip that inflates to 1 GiB of zeros; outer is inner
    gzipped again (1.8 KiB). Stored doubly compressed so the suite never has to make 1 GiB."""
    outer = (HERE / "fixtures" / "bomb-1gib.gz.gz").read_bytes()
    inner = gzip.decompress(outer)
    assert int.from_bytes(inner[-4:], "little") == GiB, "the bomb's gzip trailer declares 1 GiB"
    return outer, inner


PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>"
       b"endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def deep_page(levels: int = 10_000) -> bytes:
    text = b"<p>Deep inside the page, the harbour strike story went on for many more paragraphs.</p>"
    return (b"<!doctype html><html><head><title>Deep</title></head><body>" + b"<div>" * levels
            + text * 5 + b"</div>" * levels + b"</body></html>")


def one_paragraph_page(size: int, *, inline_markup: bool = False) -> bytes:
    """An article page whose body is one paragraph of `size` bytes (plain words, or words with
    an inline element every few words, which trafilatura's extractor handles in quadratic time)."""
    unit = (b"<b>Talks</b> went on <i>late</i> into the night. " if inline_markup
            else b"Officials said the talks would go on late into the night. ")
    head = b"<!doctype html><html lang=\"en\"><head><title>One paragraph</title></head><body><article><h1>One paragraph</h1><p>"
    tail = b"</p></article></body></html>"
    return head + unit * ((size - len(head) - len(tail)) // len(unit)) + tail


# --- handlers (callables taking the BaseHTTPRequestHandler) ------------------------------------


def streaming(total: int, *, content_length: bool, content_type: str = "application/rss+xml",
              chunk: int = 256 * 1024):
    """`total` bytes of filler, announced by Content-Length or not (then the connection closes)."""
    def handler(req) -> None:
        req.send_response(200)
        req.send_header("Content-Type", content_type)
        if content_length:
            req.send_header("Content-Length", str(total))
        else:
            req.send_header("Connection", "close")
            req.close_connection = True
        req.end_headers()
        sent = 0
        block = b"<!-- filler -->" * (chunk // 15)
        while sent < total:
            piece = block[:total - sent]
            req.wfile.write(piece)
            sent += len(piece)
    return handler


def encoded(body: bytes, encoding: str, content_type: str = "application/rss+xml"):
    def handler(req) -> None:
        req.send_response(200)
        req.send_header("Content-Type", content_type)
        req.send_header("Content-Encoding", encoding)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)
    return handler


def trickle(stop: threading.Event, *, interval: float = 1.0, content_type: str = "application/rss+xml"):
    """One byte a second (announcing a 100 kB body), until the client gives up or the test ends."""
    def handler(req) -> None:
        req.send_response(200)
        req.send_header("Content-Type", content_type)
        req.send_header("Content-Length", "100000")
        req.end_headers()
        for _ in range(120):
            req.wfile.write(b"<")
            req.wfile.flush()
            if stop.wait(interval):
                return
    return handler


def close_mid_body(body: bytes, *, content_type: str = "application/rss+xml"):
    """Announces the whole body, sends a third of it, then closes the connection."""
    def handler(req) -> None:
        req.send_response(200)
        req.send_header("Content-Type", content_type)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body[:len(body) // 3])
        req.wfile.flush()
        req.close_connection = True
        req.connection.shutdown(socket.SHUT_RDWR)
    return handler


def delayed(body: bytes, seconds: float, content_type: str = "application/rss+xml"):
    """A slow but valid server: the whole answer after `seconds`."""
    def handler(req) -> None:
        time.sleep(seconds)
        req.send_response(200)
        req.send_header("Content-Type", content_type)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)
    return handler


def send_html(req, page: bytes) -> None:
    """Answer a newsroom request with a 200 HTML page (for handlers that first wait on something)."""
    req.send_response(200)
    req.send_header("Content-Type", "text/html; charset=utf-8")
    req.send_header("Content-Length", str(len(page)))
    req.end_headers()
    req.wfile.write(page)


def blocking(entered: threading.Event, release: threading.Event, page: bytes):
    """Signals that the request arrived, then waits (the test kills the client meanwhile)."""
    def handler(req) -> None:
        entered.set()
        release.wait(60)
        send_html(req, page)
    return handler


# --- raw TCP listeners -----------------------------------------------------------------------


class Listener:
    """A plain TCP listener on a loopback address. `hold=True`: accept and never answer (a black
    hole); otherwise accept, record and close: proof of whether anything connected."""

    def __init__(self, host: str, *, hold: bool = False) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self.hold = hold
        self.accepted: list[object] = []
        self._held: list[socket.socket] = []
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(64)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def url(self, path: str = "/") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, addr = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted.append(addr)
            if self.hold:
                self._held.append(conn)
            else:
                conn.close()

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self._held:
            conn.close()
        self._sock.close()


# --- bounds and measurements -----------------------------------------------------------------

_deadlines: list[float] = []
# Where a deadline's traceback dump goes: the terminal's stderr (pytest keeps a dup of it, set by
# conftest), not the per-test capture, which is lost when the process exits.
DEADLINE_FD: int | None = None


def _dump_later(seconds: float) -> None:
    fd = DEADLINE_FD if DEADLINE_FD is not None else sys.__stderr__.fileno()
    faulthandler.dump_traceback_later(seconds, exit=True, file=fd)


@contextmanager
def hard_deadline(seconds: float) -> Iterator[None]:
    """No hang survives this: past the deadline, every thread's traceback is dumped and the test
    process exits (a CI failure, not a CI timeout). Nested deadlines restore the outer one."""
    _deadlines.append(time.monotonic() + seconds)
    _dump_later(seconds)
    try:
        yield
    finally:
        _deadlines.pop()
        faulthandler.cancel_dump_traceback_later()
        if _deadlines:
            _dump_later(max(_deadlines[-1] - time.monotonic(), 1.0))


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        total += proc.memory_info().rss
        for child in proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return total


@dataclass
class Meter:
    """Wall time and peak resident memory of a process tree (this test process by default,
    extraction workers and CLI subprocesses included), sampled every 100 ms (a sample costs 1 to 5 ms
    of this process's CPU, which the in-process runs need)."""

    pid: int = field(default_factory=os.getpid)
    seconds: float = 0.0
    baseline: int = 0
    peak: int = 0

    def __enter__(self) -> Meter:
        self._proc = psutil.Process(self.pid)
        self.baseline = self.peak = _tree_rss(self._proc)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._started = time.monotonic()
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, _tree_rss(self._proc))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _tree_rss(self._proc))
        self.seconds = time.monotonic() - self._started

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.baseline) / MiB

    @property
    def peak_mib(self) -> float:
        return self.peak / MiB


def max_rss_self() -> int:
    """Lifetime peak RSS of this process, in bytes (exact, unlike sampling)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# --- running ingest ---------------------------------------------------------------------------


def run_ingest(feeds: Path, db: Path, **kwargs):
    """One in-process run of the Prefect flow (under the session's prefect_test_harness)."""
    from flows.ingest import ingest

    return ingest(feeds_path=str(feeds), db_path=str(db), **kwargs)


def prefect_api_url() -> str:
    """The test harness's API, so CLI subprocesses skip starting their own Prefect server."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    assert url, "run under the prefect_harness fixture"
    return url


def start_cli(*args: str, cwd: Path, api_url: str, env: dict[str, str] | None = None,
              hook: str | None = None, hook_file: Path | None = None) -> subprocess.Popen:
    """`wirecopy ARGS` in its own session (so SIGKILL reaches the extraction workers too), against
    the Prefect API at `api_url` (an already running server: no ephemeral server start per run).

    `hook` names a fault hook in tests/hostile/hooks/sitecustomize.py (test-only: the product
    has no such switch); the loopback guard is installed there as in every test subprocess.
    """
    full = {**os.environ, "PREFECT_API_URL": api_url, **(env or {})}
    if hook:
        full["PYTHONPATH"] = os.pathsep.join([str(HERE / "hooks"), full.get("PYTHONPATH", "")])
        full["WIRECOPY_TEST_HOOK"] = hook
        full["WIRECOPY_TEST_HOOK_FILE"] = str(hook_file)
    return subprocess.Popen([sys.executable, "-m", "wirecopy.cli", *args], cwd=cwd, env=full,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def kill_session(proc: subprocess.Popen) -> None:
    """SIGKILL the run and every process it started (its session), then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate(timeout=30)


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the run ended (exit {proc.returncode}) before {what}:\n{out}\n{err[-3000:]}")
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


# --- the figures table --------------------------------------------------------------------------


def format_table(cases: list[dict]) -> list[str]:
    """case, outcome, time, peak memory; then `N hostile cases, N survived, N articles lost`."""
    def secs(s: float | None) -> str:
        return "-" if s is None else f"{s:.1f} s"

    def mib(m: float | None) -> str:
        return "-" if m is None else f"{m:.0f} MiB"

    width = max([len(c["case"]) for c in cases] + [4])
    owidth = min(max([len(c["outcome"]) for c in cases] + [7]), 100)
    lines = [f"{'case':<{width}}  {'outcome':<{owidth}}  {'time':>8}  {'peak mem':>9}",
             f"{'-' * width}  {'-' * owidth}  {'-' * 8}  {'-' * 9}"]
    for c in cases:
        outcome = c["outcome"] if c["survived"] else f"FAILED: {c['outcome']}"
        if len(outcome) > owidth:
            outcome = outcome[:owidth - 1] + "…"
        lines.append(f"{c['case']:<{width}}  {outcome:<{owidth}}  {secs(c['seconds']):>8}  {mib(c['peak_mib']):>9}")
    survived = sum(bool(c["survived"]) for c in cases)
    lost = sum(c["lost"] for c in cases)
    lines.append(f"{len(cases)} hostile cases, {survived} survived, {lost} articles lost")
    return lines
