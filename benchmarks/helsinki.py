"""Story dedup and wire attribution on real syndication: the hand-labelled Helsinki corpus.

    .venv/bin/python benchmarks/helsinki.py /work/shared/corpus/helsinki-dev [--batches 4]

Runs the ingest code path: a fresh DuckDB file, the migrations, `articles` rows (paragraphs joined
by blank lines, `tasks.wire.detect_wire` per article, published_at = scrape time), then
`dedup.assign_stories` per batch in scrape-time order, each batch in its own transaction. Scores
pairwise precision and recall against the gold pairs (all pairs inside a labelled story, minus
`unsure_pairs`) and AP / Reuters attribution recall (articles labelled with the agency whose
attributed wire, view `article_wire`, is that agency), beside two naive baselines on the same
data: datasketch MinHash LSH at Jaccard 0.5 on raw word 5-shingles, and per-article wire markers.
Finally `rebuild_stories` must reproduce the incremental partition.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from baselines import minhash_lsh, pairs_of  # noqa: E402
from tasks import dedup  # noqa: E402
from tasks.store import apply_migrations  # noqa: E402
from tasks.wire import detect_wire  # noqa: E402

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
        r["body"] = "\n\n".join(p.strip() for p in r["text"].split(" ### ") if p.strip())
    rows.sort(key=lambda r: (r["time"], r["id"]))
    unsure = {tuple(sorted(p)) for p in labels["unsure_pairs"]}
    return rows, labels["articles"], unsure


def pairwise(pred: dict[str, str], gold: dict[str, str], unsure: set) -> tuple[float, float]:
    p, g = pairs_of(pred) - unsure, pairs_of(gold) - unsure
    tp = len(p & g)
    return tp / max(len(p), 1), tp / max(len(g), 1)


def ingest(con: duckdb.DuckDBPyConnection, rows: list[dict], batches: int) -> float:
    """Insert the articles batch by batch as the loader does; returns seconds spent in dedup."""
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
    return spent


def attribution(wires: dict[str, str | None], gold: dict[str, dict], agency: str) -> tuple[float, int]:
    ids = [i for i, g in gold.items() if g["wire"] == agency]
    return sum(wires.get(i) == agency for i in ids) / max(len(ids), 1), len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--batches", type=int, default=4)
    args = parser.parse_args()
    rows, gold, unsure = load(args.corpus)
    gold_story = {i: g["story"] for i, g in gold.items()}

    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "helsinki.duckdb"))
        apply_migrations(con)
        seconds = ingest(con, rows, args.batches)
        incremental = dict(con.execute("SELECT article_id, story_id FROM articles").fetchall())
        attributed = dict(con.execute("SELECT article_id, attributed_wire FROM article_wire").fetchall())
        detected = dict(con.execute("SELECT article_id, detected_wire FROM article_wire").fetchall())
        n_stories = con.execute("SELECT count(*) FROM stories").fetchone()[0]
        con.execute("BEGIN TRANSACTION")
        dedup.rebuild_stories(con)
        con.execute("COMMIT")
        rebuilt = dict(con.execute("SELECT article_id, story_id FROM articles").fetchall())
        con.close()

    markers = {r["id"]: next((a for a, rx in NAIVE_MARKERS.items() if rx.search(r["body"])), None) for r in rows}
    lsh = minhash_lsh({r['id']: r['body'] for r in rows})
    print(f"Helsinki corpus: {len(rows)} articles, {len(set(gold_story.values()))} gold stories, "
          f"{len(pairs_of(gold_story) - unsure)} gold pairs ({len(unsure)} unsure pairs excluded)")
    print(f"wirecopy: {n_stories} stories, assign_stories in {args.batches} batches took {seconds:.2f}s")
    print()
    print(f"{'method':42} {'precision':>9} {'recall':>7}")
    for name, pred in (("wirecopy (story_id)", incremental), ("naive MinHash LSH, Jaccard 0.5, 5-shingles", lsh)):
        p, r = pairwise(pred, gold_story, unsure)
        print(f"{name:42} {p:9.3f} {r:7.3f}")
    print()
    print(f"{'attribution recall':42} {'AP':>9} {'Reuters':>7}")
    for name, wires in (("wirecopy (story wire, view article_wire)", attributed),
                        ("tasks.wire.detect_wire per article", detected),
                        ("naive per-article markers", markers)):
        (ap, n_ap), (rt, n_rt) = attribution(wires, gold, "AP"), attribution(wires, gold, "Reuters")
        print(f"{name:42} {ap:9.3f} {rt:7.3f}")
    print(f"(labelled copies: AP {n_ap}, Reuters {n_rt})")
    print()
    same = set(pairs_of(incremental)) == set(pairs_of(rebuilt))
    print(f"rebuild_stories agrees with incremental (same partition): {'yes' if same else 'no'}; "
          f"same story ids: {'yes' if incremental == rebuilt else 'no'}")


if __name__ == "__main__":
    main()
