"""End-to-end ingest throughput on a loopback newsroom, beside a bare trafilatura.extract loop.

    .venv/bin/python -m benchmarks.throughput [--corpus DIR] [--pages 5000] [--outlets 20]
                                              [--scale 1000,10000] [--workers N] [--quick]

Builds a newsroom of OUTLETS feeds and PAGES article pages (50 to 300 KiB each), serves it from
a separate, niced process on 127.0.0.1 (a real newsroom costs this machine no CPU; the server's
own CPU time is counted and printed apart), and runs the real `wirecopy ingest` on it in a
subprocess, cold, into a fresh database. Pages are real pages of the corpus (`pages/*.html.gz`,
bodies from `truth.jsonl`) whose body paragraphs, headline and URL are replaced by text from a
word-bigram chain over the corpus's true bodies, so every page has different text (dedup would
merge identical bodies) of the same shape as the page's own; without a corpus (`--corpus ''`)
pages are synthetic. The default corpus is `../shared/corpus/fundus-en-dev` beside the repo.

Then, in the same run:
- a warm ingest of the same newsroom into the same database: every feed answers 304;
- Prefect's start-up alone: a fresh process that runs an empty flow on the ephemeral API;
- a bare loop of `trafilatura.extract(html, url=url)` over the same pages in this process;
- the cold ingest again at each `--scale` size, for the per-page cost at each size.

Prints pages/s end to end and for the bare loop, their ratio, peak RSS of the ingest's process
tree (pool workers and Prefect's server included), CPU by process, the stage times the flow
reports (written to the file named by WIRECOPY_TIMINGS), Prefect's share of the wall time, the
warm run's wall time beyond Prefect's start-up, and the per-page cost at each size. Only
127.0.0.1 is contacted. `--quick` is a smoke run of a few hundred pages.
"""
from __future__ import annotations

import argparse
import gzip
import html as htmlmod
import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

from tasks.core.settings import Settings
from wirecopy.prefect_api import STARTUP_TIMEOUT_VARIABLE

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "fundus-en-dev"
KiB = 1024
MIN_PAGE, MAX_PAGE = 50 * KiB, 300 * KiB
SEED = 20260601
_WS = re.compile(r"\s+")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d+(?:[.,]\d+)*|[.,;:!?]")


# --- pages -----------------------------------------------------------------------------------

def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip()


@dataclass
class Template:
    """A real page with its body paragraphs, headline and URL turned into placeholders."""

    name: str
    parts: list[str | int]  # literal text, or the index of a paragraph to fill in
    lengths: list[int]  # words in each original paragraph
    kinds: list[str]  # "p" or "h" (a heading inside the body)


class Chain:
    """Word-bigram text: shares the corpus's vocabulary and rhythm, never its passages."""

    def __init__(self, texts: list[str]) -> None:
        self.next: dict[str, list[str]] = {}
        for text in texts:
            words = _TOKEN.findall(text)
            for a, b in zip(["."] + words, words):
                self.next.setdefault(a, []).append(b)
        self.keys = list(self.next)

    def words(self, rng: random.Random, n: int) -> str:
        out: list[str] = []
        word = "."
        while len(out) < n or word not in ".!?":
            options = self.next.get(word) or self.next["."]
            word = options[int(rng.random() * len(options))]
            out.append(word)
            if len(out) > n + 40:
                break
        text = " ".join(out)
        text = re.sub(r" ([.,;:!?])", r"\1", text)
        return text[:1].upper() + text[1:]


def _placeholder(i: int) -> str:
    return f"@@WC{i}@@"


_PLACEHOLDER = re.compile(r"@@WC(-?\d+)@@")


def _split(text: str) -> list[str | int]:
    """Literal text and placeholder indexes, in order."""
    pieces = _PLACEHOLDER.split(text)
    return [int(p) if i % 2 else p for i, p in enumerate(pieces)]


TITLE, URL = -1, -2


def build_template(raw: bytes, row: dict) -> Template | None:
    """Placeholders where the page's true body paragraphs, headline and URL are; None if it has no
    recognisable body. Inline scripts and styles are dropped, largest first, down to 300 KiB."""
    import lxml.html

    tree = lxml.html.document_fromstring(raw)
    blocks: dict[str, int] = {}
    lengths: list[int] = []
    kinds: list[str] = []
    for block in row["body"]:
        text = _norm(block["text"])
        if text and text not in blocks:
            blocks[text] = len(lengths)
            lengths.append(len(text.split()))
            kinds.append("h" if block.get("kind", "p").startswith("h") else "p")
    matches = []
    for el in tree.iter():
        if not isinstance(el.tag, str) or el.tag in ("script", "style", "head", "title", "html", "body"):
            continue
        index = blocks.get(_norm(el.text_content()))
        if index is not None:
            matches.append((el, index))
    # the innermost element holding a paragraph's text: drop ancestors of other matches
    matched = {el for el, _ in matches}
    inner = [(el, i) for el, i in matches if not any(a in matched for a in el.iterdescendants())]
    if len({i for _, i in inner}) < 0.6 * len(lengths) or len(lengths) < 4:
        return None
    for el, index in inner:
        for child in list(el):
            el.remove(child)
        el.text = _placeholder(index)
    text = lxml.html.tostring(tree, encoding="unicode", method="html", doctype="<!DOCTYPE html>")
    if row.get("title"):
        for variant in {row["title"], htmlmod.escape(row["title"]), htmlmod.escape(row["title"], quote=False)}:
            text = text.replace(variant, _placeholder(TITLE))
    text = text.replace(row["url"], _placeholder(URL))
    # fit in 300 KiB (leaving room for the body) by dropping the largest inline scripts and styles
    budget = MAX_PAGE - sum(lengths) * 7
    blobs = sorted(re.finditer(r"<(script|style)\b(?![^>]*ld\+json)[^>]*>.*?</\1>", text, re.S | re.I),
                   key=lambda m: len(m.group(0)), reverse=True)
    cut: list[tuple[int, int]] = []
    size = len(text.encode())
    for m in blobs:
        if size <= budget:
            break
        cut.append(m.span())
        size -= len(m.group(0).encode())
    for start, end in sorted(cut, reverse=True):
        text = text[:start] + text[end:]
    if size > budget or size < MIN_PAGE // 2:
        return None
    return Template(row.get("file", "?"), _split(text), lengths, kinds)


SYNTHETIC_WORDS = ("council minister harbour union port court budget farmers drivers police storm river "
                   "election tariff talks vote strike railway hospital school energy prices wages bridge "
                   "coast festival museum airline exports imports shipping inflation housing water fishing "
                   "border treaty senate mayor teachers nurses doctors factory miners refinery drought the "
                   "a of to and in on for with said would could after before during against between "
                   "officials residents company government report week month year people city region").split()


def synthetic_template(k: int) -> Template:
    """A news-like page: head with metadata and scripts, navigation, the article, related links, footer."""
    rng = random.Random(k)
    nav = "".join(f'<li><a href="/section/{w}">{w.title()}</a></li>' for w in rng.sample(SYNTHETIC_WORDS, 30))
    related = "".join(f'<li><a href="/news/{rng.randrange(10**6)}">{" ".join(rng.sample(SYNTHETIC_WORDS, 8))}</a></li>'
                      for _ in range(60))
    script = "var cfg=" + json.dumps({f"k{i}": " ".join(rng.sample(SYNTHETIC_WORDS, 12)) for i in range(700)}) + ";"
    n = rng.randint(12, 30)
    lengths = [rng.randint(25, 70) for _ in range(n)]
    body = "".join(f"<p>{_placeholder(i)}</p>" for i in range(n))
    text = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<title>{_placeholder(TITLE)} | Outlet {k}</title>'
            f'<meta property="og:title" content="{_placeholder(TITLE)}">'
            f'<link rel="canonical" href="{_placeholder(URL)}">'
            f'<meta property="article:published_time" content="2026-05-0{1 + k % 9}T0{k % 10}:15:00+00:00">'
            f'<meta name="author" content="Staff Writer"><script>{script}</script><style>'
            + "".join(f".c{i}{{margin:{i}px;padding:{i % 7}px}}" for i in range(600)) +
            f'</style></head><body><header><nav><ul>{nav}</ul></nav></header><main><article>'
            f'<h1>{_placeholder(TITLE)}</h1><div class="byline">By Staff Writer</div>{body}</article>'
            f'<aside><h2>Related</h2><ul>{related}</ul></aside></main><footer><ul>{nav}</ul>'
            f'<p>Copyright Outlet {k}. All rights reserved.</p></footer></body></html>')
    return Template(f"synthetic-{k}", _split(text), lengths, ["p"] * n)


class PageMaker:
    """Deterministic pages: page i of a newsroom is the same bytes in every process."""

    def __init__(self, corpus: Path | None) -> None:
        self.templates: list[Template] = []
        self.chain: Chain | None = None
        if corpus:
            rows = [json.loads(line) for line in (corpus / "truth.jsonl").read_text().splitlines() if line.strip()]
            texts = []
            for row in rows:
                template = build_template(gzip.decompress((corpus / row["file"]).read_bytes()), row)
                if template:
                    self.templates.append(template)
                texts.append(" ".join(b["text"] for b in row["body"]))
            self.chain = Chain(texts)
        else:
            self.templates = [synthetic_template(k) for k in range(12)]

    def _words(self, rng: random.Random, n: int) -> str:
        if self.chain:
            return self.chain.words(rng, n)
        text = " ".join(rng.choice(SYNTHETIC_WORDS) for _ in range(n))
        return text[:1].upper() + text[1:] + "."

    def page(self, i: int, base_url: str, outlet: int) -> tuple[str, str, bytes]:
        """(path, headline, HTML) of page i."""
        rng = random.Random(SEED * 1_000_003 + i)
        template = self.templates[i % len(self.templates)]
        title = self._words(rng, rng.randint(8, 14)).rstrip(".!?")
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower())[:60].strip("-")
        path = f"/o{outlet}/news/{i}-{slug}.html"
        fill = {TITLE: htmlmod.escape(title), URL: base_url + path}
        for k, (n, kind) in enumerate(zip(template.lengths, template.kinds)):
            text = self._words(rng, n) if kind == "p" else self._words(rng, min(n, 10)).rstrip(".")
            fill[k] = htmlmod.escape(text, quote=False)
        body = "".join(p if isinstance(p, str) else fill[p] for p in template.parts)
        return path, title, body.encode()


def outlet_of(i: int, outlets: int) -> int:
    return i % outlets


def rss(items: list[tuple[str, str, datetime]], title: str) -> bytes:
    entries = "".join(f"<item><title>{htmlmod.escape(t)}</title><link>{htmlmod.escape(u)}</link>"
                      f"<guid>{htmlmod.escape(u)}</guid><pubDate>{format_datetime(d)}</pubDate></item>"
                      for t, u, d in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{htmlmod.escape(title)}'
            f"</title><link>http://127.0.0.1/</link><description>benchmark outlet</description>{entries}"
            "</channel></rss>").encode()


# --- the newsroom process --------------------------------------------------------------------

def serve(conn, corpus: str | None, pages: int, outlets: int) -> None:
    """Child process: build the newsroom, serve it on 127.0.0.1 until told to stop."""
    os.nice(10)  # the ingest has priority: a remote newsroom would cost this machine nothing
    from wirecopy.newsroom import Newsroom, Page

    maker = PageMaker(Path(corpus) if corpus else None)
    with Newsroom() as room:
        base = room.base_url
        feeds: dict[int, list[tuple[str, str, datetime]]] = {k: [] for k in range(outlets)}
        start = datetime(2026, 5, 1, tzinfo=timezone.utc)
        sizes = []
        for i in range(pages):
            outlet = outlet_of(i, outlets)
            path, title, body = maker.page(i, base, outlet)
            sizes.append(len(body))
            room.add(path, Page(body))
            feeds[outlet].append((title, base + path, start + timedelta(minutes=i)))
        for k, items in feeds.items():
            room.add(f"/o{k}/feed.xml", Page(rss(items[::-1], f"Outlet {k}"), "application/rss+xml"))
        conn.send({"base_url": base, "bytes": sum(sizes), "min": min(sizes), "max": max(sizes)})
        conn.recv()  # "stop"
        served = len(room.requests)
    times = os.times()
    conn.send({"cpu": times.user + times.system, "requests": served})


class Server:
    def __init__(self, corpus: Path | None, pages: int, outlets: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=serve, args=(child, str(corpus) if corpus else None, pages, outlets),
                                daemon=True)
        self.proc.start()
        self.info = self.conn.recv()
        self.outlets = outlets

    def feeds_toml(self, path: Path, workers: int | None) -> None:
        # Every page is on one loopback host: pacing it like a real site would measure the pacing.
        lines = ["[settings]", "host_min_interval_seconds = 0"]
        if workers:
            lines += [f"extract_workers = {workers}"]
        lines.append("")
        for k in range(self.outlets):
            lines += ["[[feeds]]", f'outlet = "Outlet {k}"', f'url = "{self.info["base_url"]}/o{k}/feed.xml"', ""]
        path.write_text("\n".join(lines))

    def stop(self) -> dict:
        self.conn.send("stop")
        result = self.conn.recv()
        self.proc.join(10)
        return result


# --- running the ingest ----------------------------------------------------------------------

@dataclass
class Run:
    wall: float = 0.0
    rc: int = 0
    peak_rss: int = 0  # sum over the process tree
    peak_pss: int = 0  # the same with shared pages split between the processes sharing them
    peak_by_role: dict[str, int] = field(default_factory=dict)  # RSS of each role at the peak
    cpu_total: float = 0.0
    cpu_by_role: dict[str, float] = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    output: str = ""


def _role(proc, root_pid: int) -> str:
    if proc.pid == root_pid:
        return "ingest main"
    try:
        cmd = " ".join(proc.cmdline())
    except Exception:
        return "other"
    if "multiprocessing" in cmd and ("spawn_main" in cmd or "forkserver" in cmd):
        return "extract workers"
    if "prefect" in cmd or "uvicorn" in cmd:
        return "prefect server"
    return "other"


def _sample(root, stop: threading.Event, run: Run, cpu_seen: dict) -> None:
    import psutil

    while not stop.is_set():
        try:
            procs = [root] + root.children(recursive=True)
        except psutil.Error:
            break
        rss = pss = 0
        by_role: dict[str, int] = {}
        for p in procs:
            try:
                with p.oneshot():
                    memory = p.memory_full_info()
                    rss, pss = rss + memory.rss, pss + memory.pss
                    t = p.cpu_times()
                    role = _role(p, root.pid) if p.pid not in cpu_seen else cpu_seen[p.pid][0]
                    cpu_seen[p.pid] = (role, t.user + t.system)
                    by_role[role] = by_role.get(role, 0) + memory.rss
            except psutil.Error:
                pass
        if rss > run.peak_rss:
            run.peak_by_role = by_role
        run.peak_rss = max(run.peak_rss, rss)
        run.peak_pss = max(run.peak_pss, pss)
        stop.wait(0.1)


def run_ingest(feeds: Path, db: Path, env: dict, timings_path: Path) -> Run:
    import psutil

    run = Run()
    env = {**env, "WIRECOPY_TIMINGS": str(timings_path)}
    start = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "wirecopy.cli", "ingest", "--feeds", str(feeds), "--db", str(db)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    stop, cpu_seen = threading.Event(), dict[int, tuple[str, float]]()  # pid -> (role, CPU seconds)
    sampler = threading.Thread(target=_sample, args=(psutil.Process(proc.pid), stop, run, cpu_seen), daemon=True)
    sampler.start()
    output = proc.stdout
    assert output is not None  # stdout=PIPE
    reader = threading.Thread(target=lambda: setattr(run, "output", output.read().decode(errors="replace")),
                              daemon=True)
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    run.wall = time.time() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    run.rc = proc.returncode
    stop.set()
    sampler.join()
    reader.join(10)
    run.cpu_total = usage.ru_utime + usage.ru_stime
    for role, cpu in cpu_seen.values():
        run.cpu_by_role[role] = run.cpu_by_role.get(role, 0.0) + cpu
    if timings_path.exists():
        run.timings = json.loads(timings_path.read_text())
        timings_path.unlink()
    run.timings.setdefault("process_started_at", start)
    return run


PREFECT_ONLY = """
import time
start = time.time()
from prefect import flow
@flow(name="noop")
def noop():
    return 1
noop()
"""


def prefect_startup(env: dict) -> float:
    """Wall time of a fresh process that runs an empty flow: imports, ephemeral API, shutdown.
    It gets the start-up bound wirecopy sets for itself, so a busy machine slows it, not fails it."""
    env = {STARTUP_TIMEOUT_VARIABLE: str(Settings.prefect_startup_timeout), **env}
    start = time.time()
    subprocess.run([sys.executable, "-c", PREFECT_ONLY], cwd=REPO, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.time() - start


def bare_extraction(maker: PageMaker, pages: int, outlets: int, base_url: str,
                    limit: int) -> tuple[float, float, int]:
    """Wall and CPU seconds and count for trafilatura.extract over the first `limit` pages, here."""
    import trafilatura

    docs = [maker.page(i, base_url, outlet_of(i, outlets)) for i in range(min(pages, limit))]
    trafilatura.extract(docs[0][2], url=base_url + docs[0][0])  # one-time loading
    start, cpu = time.perf_counter(), time.process_time()
    for path, _, body in docs:
        trafilatura.extract(body, url=base_url + path)
    return time.perf_counter() - start, time.process_time() - cpu, len(docs)


def db_counts(db: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: (con.execute(f"SELECT count(*) FROM {t}").fetchone() or (0,))[0]
                for t in ("articles", "stories", "raw_pages", "page_errors")}
    finally:
        con.close()


# --- the report ------------------------------------------------------------------------------

def in_flow(run: Run) -> float:
    t = run.timings
    if "flow_started_at" in t and "flow_ended_at" in t:
        return t["flow_ended_at"] - t["flow_started_at"]
    return run.wall


def prefect_seconds(run: Run) -> float:
    """Wall time the flow's own work does not account for: start-up and shutdown around the flow body,
    and the gap between each sequential step's call and its body (task-run bookkeeping)."""
    t = run.timings
    outside = run.wall - in_flow(run)
    steps = t.get("steps", {})
    inside = sum(max(0.0, s.get("call", 0.0) - s.get("body", s.get("call", 0.0))) for s in steps.values())
    return outside + inside


def fmt_stages(run: Run) -> list[str]:
    steps = run.timings.get("steps", {})
    lines = []
    for name, s in steps.items():
        extra = "".join(f", {k} {v:.2f}s" for k, v in s.items() if k not in ("call", "body"))
        body = f" (body {s['body']:.2f}s)" if "body" in s else ""
        lines.append(f"    {name:<16s} {s.get('call', 0.0):7.2f}s{body}{extra}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS) if DEFAULT_CORPUS.is_dir() else "",
                        help="corpus folder (truth.jsonl, pages/); '' for synthetic pages")
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--outlets", type=int, default=20)
    parser.add_argument("--scale", default="1000,10000", help="other page counts to run cold, for the per-page cost")
    parser.add_argument("--bare-pages", type=int, default=0, help="pages in the bare loop (default: all)")
    parser.add_argument("--workers", type=int, default=0, help="extract_workers for the ingest (default: its own)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 pages, 4 outlets, scale 400")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    if args.quick:
        args.pages, args.outlets, args.scale = 200, 4, "400"
    corpus = Path(args.corpus) if args.corpus else None
    scale = [int(n) for n in args.scale.split(",") if n.strip()]

    env = {k: v for k, v in os.environ.items() if not k.startswith("WIRECOPY_") and k != "PREFECT_API_URL"}
    env["PYTHONPATH"] = str(REPO)
    work = Path(tempfile.mkdtemp(prefix="wirecopy-throughput-"))
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cores {os.cpu_count()}")
    print(f"pages: {'corpus ' + str(corpus) if corpus else 'synthetic'}; work folder {work}", flush=True)

    startups: list[float] = []

    def cold(pages: int, tag: str, warm: bool = False) -> tuple[Run, Run | None, dict, dict, dict]:
        server = Server(corpus, pages, args.outlets)
        feeds, db = work / f"feeds-{tag}.toml", work / f"{tag}.duckdb"
        server.feeds_toml(feeds, args.workers or None)
        info = server.info
        print(f"[{tag}] newsroom: {pages} pages, {args.outlets} feeds, {info['bytes'] / 2**20:.0f} MiB, "
              f"pages {info['min'] // KiB}-{info['max'] // KiB} KiB; ingesting cold...", flush=True)
        first = run_ingest(feeds, db, env, work / "timings.json")
        second = None
        if warm:  # warm ingests and empty flows in turns, so both see the same machine load
            print(f"[{tag}] ingesting warm (every feed answers 304), 3 times, beside 3 empty flows...", flush=True)
            warm_runs = []
            for _ in range(3):
                warm_runs.append(run_ingest(feeds, db, env, work / "timings.json"))
                startups.append(prefect_startup(env))
            second = sorted(warm_runs, key=lambda r: r.wall)[1]
        served = server.stop()
        counts = db_counts(db) if db.exists() else {}
        for r in (first, second):
            if r and r.rc != 0:
                print(f"[{tag}] ingest failed (exit {r.rc}):\n{r.output[-3000:]}")
        return first, second, counts, served, info

    main_run, warm_run, counts, served, info = cold(args.pages, f"n{args.pages}", warm=True)
    last_line = main_run.output.strip().splitlines()[-1] if main_run.output.strip() else ""
    print(f"[n{args.pages}] cold {main_run.wall:.1f}s; {last_line}")

    maker = PageMaker(corpus)
    bare_s, bare_cpu, bare_n = bare_extraction(maker, args.pages, args.outlets, info["base_url"],
                                               args.bare_pages or args.pages)
    print(f"bare trafilatura.extract: {bare_n} pages in {bare_s:.1f}s", flush=True)

    startup = sorted(startups)[len(startups) // 2] if startups else prefect_startup(env)
    scaled: dict[int, Run] = {args.pages: main_run}
    for n in scale:
        if n == args.pages:
            continue
        run, _, c, _, _ = cold(n, f"n{n}")
        scaled[n] = run
        print(f"[n{n}] cold {run.wall:.1f}s, {c.get('articles', 0)} articles", flush=True)

    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    # report
    n = args.pages
    e2e = n / main_run.wall
    bare = bare_n / bare_s
    print()
    print(f"== wirecopy ingest throughput: {n} pages, {args.outlets} feeds, "
          f"{'corpus pages' if corpus else 'synthetic pages'} ({info['bytes'] / n / KiB:.0f} KiB mean) ==")
    print(f"loaded: {counts}")
    print(f"end to end (cold ingest, process start to exit): {main_run.wall:.1f}s = {e2e:.1f} pages/s")
    print(f"bare trafilatura.extract, one process:           {bare_s:.1f}s for {bare_n} pages = {bare:.1f} pages/s"
          f" ({1000 * bare_cpu / bare_n:.1f} ms CPU/page)")
    print(f"ratio end-to-end / bare:                         {e2e / bare:.2f}x (target >= 1.5x)")
    print(f"peak RSS of the ingest process tree:             {main_run.peak_rss / 2**20:.0f} MiB (target < 1024 MiB;"
          f" PSS {main_run.peak_pss / 2**20:.0f} MiB)")
    print("    at the peak: " + ", ".join(f"{role} {b / 2**20:.0f} MiB"
                                          for role, b in sorted(main_run.peak_by_role.items())))
    cpu = ", ".join(f"{k} {v:.1f}s = {1000 * v / n:.1f} ms/page" for k, v in sorted(main_run.cpu_by_role.items()))
    print(f"CPU of the ingest tree: {main_run.cpu_total:.1f}s ({cpu}); newsroom server (niced, separate) "
          f"{served['cpu']:.1f}s for {served['requests']} requests")
    print("stages (wall; fetch and extract overlap, their busy times are summed over pages):")
    print("\n".join(fmt_stages(main_run)))
    pre = prefect_seconds(main_run)
    print(f"Prefect: {pre:.1f}s of {main_run.wall:.1f}s wall = {100 * pre / main_run.wall:.0f}% "
          f"(start-up and shutdown around the flow {main_run.wall - in_flow(main_run):.1f}s, "
          f"task-run bookkeeping of sequential steps {pre - (main_run.wall - in_flow(main_run)):.2f}s)")
    if warm_run:
        print(f"warm run (all {args.outlets} feeds 304), median of 3: {warm_run.wall:.2f}s wall; Prefect start-up "
              f"alone (empty flow in a fresh process, median of 3 taken in turn with them) {startup:.2f}s; "
              f"beyond it {warm_run.wall - startup:.2f}s (target < 2s); the warm flow body took "
              f"{in_flow(warm_run):.2f}s")
        print("  warm stages:\n" + "\n".join(fmt_stages(warm_run)))
    print("scaling (cold ingest; per-page cost = flow wall without the fixed start-up / pages):")
    costs = {}
    for size in sorted(scaled):
        r = scaled[size]
        costs[size] = in_flow(r) / size * 1000
        print(f"  {size:6d} pages: wall {r.wall:7.1f}s, in flow {in_flow(r):7.1f}s, {costs[size]:.2f} ms/page, "
              f"{size / r.wall:.1f} pages/s end to end, CPU {1000 * r.cpu_total / size:.1f} ms/page, "
              f"peak RSS {r.peak_rss / 2**20:.0f} MiB (PSS {r.peak_pss / 2**20:.0f})")
    if len(costs) > 1:
        print(f"  per-page cost max/min: {max(costs.values()) / min(costs.values()):.2f} (target < 1.3)")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if main_run.rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
