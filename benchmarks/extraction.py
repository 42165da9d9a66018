"""Score wirecopy's extraction against hand-checked article bodies, beside plain trafilatura.

Usage: python -m benchmarks.extraction CORPUS [CORPUS ...] [--direct] [--rounds 3] [--pages]
       (e.g. ../shared/corpus/fundus-en-dev ../shared/corpus/fundus-world-dev)

Each CORPUS holds truth.jsonl and the gzipped pages it names. The figure comes from the user's
path: every page of a corpus is served from a loopback newsroom (`wirecopy.newsroom`, one RSS
feed listing the pages with their true headline), `wirecopy ingest` runs in a subprocess into a
fresh DuckDB file, and `articles.text` is scored. `--direct` scores `extract_article(html, url)`
called here instead (a fast diagnostic; the page's own URL then reaches the extractor).

The score is bag-of-words precision, recall and F1 (tokens \\w+, lowercased, multiset
intersection) of the text against the true body (paragraphs and headings joined), averaged over
pages, beside plain `trafilatura.extract(html, url=url)` on the same pages; a page with no
article scores 0. Then the CPU per page of `extract_article(html, url)` against
`trafilatura.extract(html, url=url)`: time.process_time around each call, the two interleaved
page by page (their order alternating), over ROUNDS rounds; the ratio of the totals is printed
per round and overall.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from statistics import mean, median

import duckdb
import trafilatura

from benchmarks.throughput import rss, run_ingest
from tasks.core.errors import ExtractionError
from tasks.extract import extract_article
from wirecopy.newsroom import Newsroom, Page

_TOKEN = re.compile(r"\w+")
_REGRESSION = 0.05  # F1 below plain trafilatura by more than this counts as a regression


@dataclass
class CorpusPage:
    name: str
    url: str
    title: str | None
    published: str | None
    truth: str
    html: bytes


def bag_of_words(predicted: str, truth: str) -> tuple[float, float, float]:
    """Precision, recall and F1 of the predicted tokens against the true ones (multisets)."""
    pred, gold = Counter(_TOKEN.findall(predicted.lower())), Counter(_TOKEN.findall(truth.lower()))
    common = sum((pred & gold).values())
    precision = common / sum(pred.values()) if pred else 0.0
    recall = common / sum(gold.values()) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def load_corpus(corpus: Path) -> list[CorpusPage]:
    rows = [json.loads(line) for line in (corpus / "truth.jsonl").read_text().splitlines() if line.strip()]
    return [
        CorpusPage(
            name=Path(row["file"]).name.removesuffix(".html.gz"),
            url=row["url"],
            title=row.get("title"),
            published=row.get("published"),
            truth="\n".join(block["text"] for block in row["body"]),
            html=gzip.decompress((corpus / row["file"]).read_bytes()),
        )
        for row in rows
    ]


def texts_through_ingest(pages: list[CorpusPage], work: Path) -> tuple[list[str | None], str]:
    """`articles.text` of each page after a real `wirecopy ingest` of a loopback newsroom serving them
    (None where no article was loaded), and the ingest's summary line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIRECOPY_") and k != "PREFECT_API_URL"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")  # a busy machine starts it slowly
    feeds, db = work / "feeds.toml", work / "extraction.duckdb"
    with Newsroom() as room:
        start = datetime(2026, 5, 1, tzinfo=timezone.utc)
        urls, items = [], []
        for i, page in enumerate(pages):
            urls.append(room.add(f"/pages/{i}.html", Page(page.html)))
            items.append((page.title or page.name, urls[-1], start + timedelta(minutes=i)))
        feed_url = room.add("/feed.xml", Page(rss(items[::-1], "Corpus"), "application/rss+xml"))
        feeds.write_text(f'[[feeds]]\noutlet = "Corpus"\nurl = "{feed_url}"\n')
        run = run_ingest(feeds, db, env, work / "timings.json")
    if run.rc != 0:
        raise SystemExit(f"wirecopy: ingest failed (exit {run.rc}):\n{run.output[-3000:]}")
    con = duckdb.connect(str(db), read_only=True)
    try:
        loaded = dict(con.execute("SELECT url, text FROM articles").fetchall())
    finally:
        con.close()
    summary = next((line[line.index("feeds polled"):] for line in reversed(run.output.splitlines())
                    if "feeds polled" in line), "")
    return [loaded.get(url) for url in urls], summary


def texts_direct(pages: list[CorpusPage]) -> list[str | None]:
    texts: list[str | None] = []
    for page in pages:
        try:
            texts.append(extract_article(page.html, page.url).text)
        except ExtractionError:
            texts.append(None)
    return texts


def cpu_ratios(pages: list[CorpusPage], rounds: int) -> list[tuple[float, float]]:
    """(wirecopy, bare) CPU seconds per round, the two calls interleaved on each page."""
    def wirecopy(page: CorpusPage) -> None:
        try:
            extract_article(page.html, page.url)
        except ExtractionError:
            pass

    def bare(page: CorpusPage) -> None:
        trafilatura.extract(page.html, url=page.url)

    wirecopy(pages[0])  # one-time loading (py3langid's model, trafilatura's stoplists) outside the rounds
    bare(pages[0])
    totals = []
    for r in range(rounds):
        spent = {wirecopy: 0.0, bare: 0.0}
        for i, page in enumerate(pages):
            for func in (wirecopy, bare) if (i + r) % 2 == 0 else (bare, wirecopy):
                start = time.process_time()
                func(page)
                spent[func] += time.process_time() - start
        totals.append((spent[wirecopy], spent[bare]))
    return totals


def _f(scores: tuple[float, float, float]) -> str:
    return " ".join(f"{s:.3f}" for s in scores)


def report(corpus: Path, args: argparse.Namespace) -> None:
    pages = load_corpus(corpus)
    print(f"== {corpus.name}: {len(pages)} pages; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
          flush=True)
    if args.direct:
        texts, path = texts_direct(pages), "extract_article called directly (--direct)"
    else:
        with tempfile.TemporaryDirectory(prefix="wirecopy-extraction-") as work:
            texts, line = texts_through_ingest(pages, Path(work))
        path = f"wirecopy ingest of a loopback newsroom, scored from articles.text ({line})"
    ours = [bag_of_words(text or "", page.truth) for text, page in zip(texts, pages)]
    plain = [bag_of_words(trafilatura.extract(page.html, url=page.url) or "", page.truth) for page in pages]
    worse = [i for i, (o, p) in enumerate(zip(ours, plain)) if o[2] < p[2] - _REGRESSION]
    if args.pages:
        print(f"{'page':45s} {'wirecopy P/R/F1':>20s} {'trafilatura P/R/F1':>20s}")
        for page, text, o, p in zip(pages, texts, ours, plain):
            flag = "  <-- below trafilatura" if o[2] < p[2] - _REGRESSION else ""
            print(f"{page.name:45s} {_f(o):>20s} {_f(p):>20s}{'  NO ARTICLE' if text is None else ''}{flag}")

    def means(scores: list[tuple[float, float, float]]) -> tuple[float, float, float]:
        return tuple(mean(s[i] for s in scores) for i in range(3))  # type: ignore[return-value]

    print(f"text from: {path}")
    print(f"wirecopy            P/R/F1 {_f(means(ours))}   (no article: {sum(t is None for t in texts)})")
    print(f"plain trafilatura   P/R/F1 {_f(means(plain))}")
    print(f"pages worse than plain trafilatura by > {_REGRESSION} F1: {len(worse)}"
          + (f" ({', '.join(pages[i].name for i in worse)})" if worse else ""))
    if args.rounds:
        totals = cpu_ratios(pages, args.rounds)
        per_round = ", ".join(f"{w / b:.2f}x" for w, b in totals)
        ours_ms = 1000 * sum(w for w, _ in totals) / (len(totals) * len(pages))
        bare_ms = 1000 * sum(b for _, b in totals) / (len(totals) * len(pages))
        print(f"CPU per page, interleaved, {args.rounds} rounds: extract_article {ours_ms:.1f} ms, "
              f"trafilatura.extract {bare_ms:.1f} ms; ratio {ours_ms / bare_ms:.2f}x "
              f"(rounds {per_round}; median {median(w / b for w, b in totals):.2f}x)")
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", type=Path, nargs="+", help="folders with truth.jsonl and pages/")
    parser.add_argument("--direct", action="store_true",
                        help="call extract_article here instead of ingesting a loopback newsroom (diagnostic)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the interleaved CPU comparison (0: none)")
    parser.add_argument("--pages", action="store_true", help="print every page's scores")
    args = parser.parse_args()
    for corpus in args.corpora:
        if not (corpus / "truth.jsonl").is_file():
            raise SystemExit(f"wirecopy: no truth.jsonl in {corpus}")
    for corpus in args.corpora:
        report(corpus, args)


if __name__ == "__main__":
    main()
