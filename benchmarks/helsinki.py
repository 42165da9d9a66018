"""Story dedup and wire attribution on real syndication: the hand-labelled Helsinki corpus.

    .venv/bin/python -m benchmarks.helsinki ../shared/corpus/helsinki-dev [--direct]

By default this measures what a user gets: every article is served as an HTML page on a loopback
site of its outlet (one site and one RSS feed per outlet, on 127.0.0.1; the scraped paragraphs
inside `<article>`, the first as the `<h1>` headline, `article:published_time` = scrape time,
the furniture the scrape kept left in), one real `wirecopy ingest` loads them, and the scores
are read from the database: `articles.story_id` and the view `article_wire`. Beside it, the naive
MinHash LSH baseline on the same ingested texts.

`--direct` is a fast diagnostic only: it skips fetching and extraction, inserts the CSV's
paragraphs as `articles` rows itself and calls `dedup.assign_stories` per batch.

Scores: pairwise precision and recall against the gold pairs (all pairs inside a labelled story,
minus `unsure_pairs`), and AP / Reuters attribution recall (articles labelled with the agency
whose attributed wire is that agency). Finally `rebuild_stories` must reproduce the partition.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from benchmarks.baselines import minhash_lsh, pairs_of
from benchmarks.loopback_ingest import (
    LOOPBACK_SETTINGS,
    Story,
    article_html,
    outlets_on_loopback,
    rebuilt_stories,
    run_ingest,
    write_feeds_toml,
)
from tasks import dedup
from tasks.db import apply_migrations
from tasks.wire import detect_wire

NAIVE_MARKERS = {  # the dateline / byline strings a first attempt greps for
    "AP": re.compile(r"\(AP\)|\bBy (?:The )?Associated Press\b"),
    "Reuters": re.compile(r"\(Reuters\)"),
    "AFP": re.compile(r"\(AFP\)"),
}


def load(corpus: Path) -> tuple[list[dict], dict, set[tuple[str, str]]]:
    labels = json.loads((corpus / "labels.json").read_text())
    with open(corpus / "articles.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["time"] = datetime.fromisoformat(r["scrape_time"]).astimezone(timezone.utc)
        r["paragraphs"] = [p.strip() for p in r["text"].split(" ### ") if p.strip()]
        r["body"] = "\n\n".join(r["paragraphs"])
    rows.sort(key=lambda r: (r["time"], r["id"]))
    unsure = {tuple(sorted(p)) for p in labels["unsure_pairs"]}
    return rows, labels["articles"], unsure


def page_html(row: dict) -> bytes:
    """The scraped article as its outlet's page: headline, date, every paragraph the scrape kept."""
    head, *rest = row["paragraphs"] or [""]
    return article_html(head, rest, row["time"])


def pairwise(pred: dict[str, str], gold: dict[str, str], unsure: set) -> tuple[float, float]:
    p, g = pairs_of(pred) - unsure, pairs_of(gold) - unsure
    tp = len(p & g)
    return tp / max(len(p), 1), tp / max(len(g), 1)


def attribution(wires: dict[str, str | None], gold: dict[str, dict], agency: str) -> tuple[float, int]:
    ids = [i for i, g in gold.items() if g["wire"] == agency]
    return sum(wires.get(i) == agency for i in ids) / max(len(ids), 1), len(ids)


def ingest_direct(db: Path, rows: list[dict], batches: int) -> float:
    """Insert the articles batch by batch as the loader does; returns seconds spent in dedup."""
    con = duckdb.connect(str(db))
    apply_migrations(con)
    spent = 0.0
    size = -(-len(rows) // batches)
    for start in range(0, len(rows), size):
        batch = rows[start:start + size]
        urls = [f"https://{r['publisher']}/helsinki-dev/{r['id']}" for r in batch]
        table = pa.table({
            "article_id": [r["id"] for r in batch], "url": urls, "outlet": [r["publisher"] for r in batch],
            "published_at": pa.array([r["time"] for r in batch], pa.timestamp("us", "UTC")),
            "fetched_at": pa.array([r["time"] for r in batch], pa.timestamp("us", "UTC")),
            "text": [r["body"] for r in batch],
            "wire_service": [detect_wire(r["body"], url=u) for r, u in zip(batch, urls)],
            "extracted_at": pa.array([r["time"] for r in batch], pa.timestamp("us", "UTC")),
        })
        con.execute("BEGIN TRANSACTION")
        con.register("batch", table)
        con.execute("INSERT INTO articles BY NAME SELECT * FROM batch")
        con.unregister("batch")
        t0 = time.perf_counter()
        dedup.assign_stories(con, [r["id"] for r in batch])
        spent += time.perf_counter() - t0
        con.execute("COMMIT")
    con.close()
    return spent


def ingest_end_to_end(db: Path, rows: list[dict], tmp: Path) -> tuple[dict[str, str], float]:
    """Serve the corpus on loopback and run `wirecopy ingest`; returns {page URL: corpus id}."""
    stories = [Story(r["id"], r["publisher"], (r["paragraphs"] or [r["id"]])[0][:200], r["time"], page_html(r))
               for r in rows]
    with outlets_on_loopback(stories) as (feeds, keys):
        write_feeds_toml(tmp / "feeds.toml", feeds, LOOPBACK_SETTINGS)
        code, seconds, output = run_ingest(tmp / "feeds.toml", db, tmp / "prefect-home")
    if code != 0:
        sys.exit(f"wirecopy ingest failed ({code}):\n{output}")
    print(next((line for line in output.splitlines() if line.startswith("feeds polled")), output.strip()[-300:]))
    return keys, seconds


def read_results(db: Path, keys: dict[str, str] | None) -> dict:
    """Per corpus id: story, attributed and detected wire, text; and the pages that did not load."""
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("""SELECT a.url, a.article_id, a.story_id, w.attributed_wire, w.detected_wire, a.text
                          FROM articles a JOIN article_wire w USING (article_id)""").fetchall()
    errors = con.execute("SELECT url, kind, error FROM page_errors ORDER BY attempted_at").fetchall()
    stories = (con.execute("SELECT count(*) FROM stories").fetchone() or (0,))[0]
    con.close()
    key_of = (lambda url, aid: keys.get(url)) if keys is not None else (lambda url, aid: aid)
    out: dict = {"story": {}, "attributed": {}, "detected": {}, "text": {}, "stories": stories,
                 "article_key": {}}
    story_key: dict[str, str] = {}
    for url, aid, story, attributed, detected, text in rows:
        key = key_of(url, aid)
        if key is None:
            continue
        story_key[aid] = key
        out["story"][key], out["attributed"][key], out["detected"][key], out["text"][key] = (
            story, attributed, detected, text)
    out["errors"] = [(keys.get(u, u) if keys else u, kind, err) for u, kind, err in errors]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--direct", action="store_true",
                        help="diagnostic: skip fetching and extraction, feed the CSV text to dedup")
    parser.add_argument("--batches", type=int, default=4, help="with --direct: assign_stories calls")
    args = parser.parse_args()
    rows, gold, unsure = load(args.corpus)
    gold_story = {i: g["story"] for i, g in gold.items()}

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        db = tmp / "helsinki.duckdb"
        if args.direct:
            seconds = ingest_direct(db, rows, args.batches)
            keys = None
            how = f"direct path (diagnostic): assign_stories in {args.batches} batches, {seconds:.2f}s"
        else:
            keys, seconds = ingest_end_to_end(db, rows, tmp)
            how = f"end to end: one `wirecopy ingest` of {len(rows)} pages on loopback, {seconds:.1f}s"
        result = read_results(db, keys)
        before, rebuilt = rebuilt_stories(db)

    loaded = result["story"]
    markers = {i: next((a for a, rx in NAIVE_MARKERS.items() if rx.search(t or "")), None)
               for i, t in result["text"].items()}
    lsh = minhash_lsh({i: t or "" for i, t in result["text"].items()})
    print(f"Helsinki corpus: {len(rows)} articles, {len(set(gold_story.values()))} gold stories, "
          f"{len(pairs_of(gold_story) - unsure)} gold pairs ({len(unsure)} unsure pairs excluded)")
    print(f"{how}; articles rows {len(loaded)} of {len(rows)}; {result['stories']} stories")
    missing = sorted(set(gold) - set(loaded))
    if missing:
        print(f"  not loaded: {len(missing)}: " + "; ".join(
            f"{k} {kind}: {err}" for k, kind, err in result["errors"] if k in missing)[:2000])
    print()
    print(f"{'method (same ingested texts)':42} {'precision':>9} {'recall':>7}")
    for name, pred in (("wirecopy (articles.story_id)", loaded), ("naive MinHash LSH, Jaccard 0.5, 5-shingles", lsh)):
        p, r = pairwise(pred, gold_story, unsure)
        print(f"{name:42} {p:9.3f} {r:7.3f}")
    print()
    print(f"{'attribution recall':42} {'AP':>9} {'Reuters':>7}")
    for name, wires in (("wirecopy (view article_wire, attributed)", result["attributed"]),
                        ("tasks.wire.detect_wire per article", result["detected"]),
                        ("naive per-article markers", markers)):
        (ap, n_ap), (rt, n_rt) = attribution(wires, gold, "AP"), attribution(wires, gold, "Reuters")
        print(f"{name:42} {ap:9.3f} {rt:7.3f}")
    print(f"(labelled copies: AP {n_ap}, Reuters {n_rt})")
    print()
    same = set(pairs_of(before)) == set(pairs_of(rebuilt))
    print(f"rebuild_stories agrees with incremental (same partition): {'yes' if same else 'no'}; "
          f"same story ids: {'yes' if before == rebuilt else 'no'}")


if __name__ == "__main__":
    main()
