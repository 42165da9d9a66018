"""Story dedup on the synthetic syndication corpus, and the incremental cost of assign_stories.

    .venv/bin/python -m benchmarks.dedup ../shared/corpus/fundus-en-dev [--direct] [--skip-cost] [--sizes 10000 100000]

Quality, measured as a user gets it: each synthetic corpus of benchmarks/synth_corpus.py is served
as pages on 127.0.0.1 (one site and RSS feed per outlet; headline in `<h1>`, body paragraphs in
`<article>`, `article:published_time`), one real `wirecopy ingest` loads it, and `articles.story_id`
is scored against the labels (pairwise precision / recall, B-cubed F1; a page that never became an
article counts as missed) beside two baselines on the same ingested texts: an exact hash of the
normalised text, and datasketch MinHash LSH (128 permutations) at Jaccard 0.5 on word 5-shingles.
Per-kind lines show which copies are missed and which negatives are wrongly merged.
`rebuild_stories` must reproduce the partition. `--direct` is a fast diagnostic: the corpus goes
into `articles` rows directly and `dedup.assign_stories` runs per batch in publication order.

Cost: synthetic wire stories with copies and negatives (about 500 articles a day) are
bulk-inserted (Arrow) and indexed through assign_stories in big batches; then the next 1,000
articles to arrive are assigned against the 10,000 and against the 100,000 stored before them
(timed in a transaction that is rolled back; best of three runs after a warm-up). Both stores span
more than the 14-day candidate window. Wall time and CPU time (all threads, DuckDB's included) are
printed: on a shared machine CPU time is the steadier measure of the work done.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
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
    stories_by_key,
    write_feeds_toml,
)
from benchmarks.synth_corpus import Article, build_corpus, scale_corpus
from tasks import dedup
from tasks.db import apply_migrations
from tasks.wire import detect_wire

COPY_KINDS = ("wire", "full", "trimmed", "teaser", "earlier", "later")
NEGATIVE_KINDS = ("followup", "same-event", "own")


def arrow_rows(articles: list[Article], detect: bool) -> pa.Table:
    """Rows as the loader stores them; `detect=False` takes the generator's wire label instead of
    running tasks.wire.detect_wire (the bulk cost setup measures dedup, not extraction)."""
    ts = pa.timestamp("us", "UTC")
    return pa.table({
        "article_id": [a.article_id for a in articles], "url": [a.url for a in articles],
        "outlet": [a.outlet for a in articles], "title": [a.title for a in articles],
        "published_at": pa.array([a.published_at for a in articles], ts),
        "fetched_at": pa.array([a.published_at for a in articles], ts),
        "text": [a.text for a in articles],
        "wire_service": [detect_wire(a.text, title=a.title, url=a.url) if detect else a.wire for a in articles],
        "extracted_at": pa.array([a.published_at for a in articles], ts),
    })


def insert(con: duckdb.DuckDBPyConnection, rows: pa.Table) -> None:
    con.register("new_articles", rows)
    con.execute("INSERT INTO articles BY NAME SELECT * FROM new_articles")
    con.unregister("new_articles")


def ingest(con: duckdb.DuckDBPyConnection, articles: list[Article], batch: int) -> None:
    """Load in publication order, one transaction per batch, as the loader does."""
    for start in range(0, len(articles), batch):
        part = articles[start:start + batch]
        con.execute("BEGIN TRANSACTION")
        insert(con, arrow_rows(part, detect=True))
        dedup.assign_stories(con, [a.article_id for a in part])
        con.execute("COMMIT")


# --- scoring ---------------------------------------------------------------------------------

def counts(pred: dict[str, str], gold: dict[str, str]) -> Counter:
    """Pair counts and B-cubed sums of one corpus, to pool over corpora."""
    p, g = pairs_of(pred), pairs_of(gold)
    size_p, size_g = Counter(pred.values()), Counter(gold.values())
    both = Counter((pred[i], gold[i]) for i in gold)
    return Counter({
        "tp": len(p & g), "predicted": len(p), "gold": len(g), "items": len(gold),
        "b3_precision": sum(both[(pred[i], gold[i])] / size_p[pred[i]] for i in gold),
        "b3_recall": sum(both[(pred[i], gold[i])] / size_g[gold[i]] for i in gold),
    })


def scores(c: Counter) -> str:
    """Pairwise precision and recall, and B-cubed F1 ('n/a' precision when no pair is predicted)."""
    precision = f"{c['tp'] / c['predicted']:9.3f}" if c["predicted"] else f"{'n/a':>9}"
    bp, br = c["b3_precision"] / c["items"], c["b3_recall"] / c["items"]
    return f"{precision} {c['tp'] / c['gold']:7.3f} {2 * bp * br / (bp + br):7.3f}"


def by_kind(pred: dict[str, str], articles: list[Article]) -> Counter:
    """Per kind: gold pairs of copies found, and negatives merged with another story."""
    gold = {a.article_id: a.story for a in articles}
    kind = {a.article_id: a.kind for a in articles}
    c: Counter = Counter()
    for a, b in pairs_of(gold):
        for k in {kind[a], kind[b]}:
            c[(k, "pairs")] += 1
            c[(k, "found")] += pred[a] == pred[b]
    stories_in = defaultdict(set)
    for article in articles:
        stories_in[pred[article.article_id]].add(article.story)
    for article in articles:
        if article.kind in NEGATIVE_KINDS:
            c[(article.kind, "articles")] += 1
            c[(article.kind, "merged")] += len(stories_in[pred[article.article_id]]) > 1
    return c


def kind_lines(c: Counter) -> list[str]:
    lines = [f"  {k:10} pair recall {c[(k, 'found')] / c[(k, 'pairs')]:.3f} ({c[(k, 'pairs')]} pairs)"
             for k in COPY_KINDS if c[(k, "pairs")]]
    lines += [f"  {k:10} wrongly merged {c[(k, 'merged')]}/{c[(k, 'articles')]}" for k in NEGATIVE_KINDS]
    return lines


# --- baselines -------------------------------------------------------------------------------

def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def exact_hash(articles: list[Article]) -> dict[str, str]:
    return {a.article_id: hashlib.sha1(" ".join(_words(a.text)).encode()).hexdigest() for a in articles}


def ingest_end_to_end(articles: list[Article], tmp: Path) -> tuple[Path, dict[str, str]]:
    """Serve the corpus on loopback, one site and feed per outlet, and run `wirecopy ingest`."""
    stories = [Story(a.article_id, a.outlet, a.title, a.published_at,
                     article_html(a.title, a.text.split("\n\n"), a.published_at)) for a in articles]
    db = tmp / "synth.duckdb"
    with outlets_on_loopback(stories) as (feeds, keys):
        write_feeds_toml(tmp / "feeds.toml", feeds, LOOPBACK_SETTINGS)
        code, _, output = run_ingest(tmp / "feeds.toml", db, tmp / "prefect-home")
    if code != 0:
        sys.exit(f"wirecopy ingest failed ({code}):\n{output}")
    return db, keys


def quality(fundus_dir: Path, batch: int, seeds: list[int], direct: bool) -> None:
    methods = ("wirecopy (story_id)", "exact hash of normalised text", "MinHash LSH, Jaccard 0.5, word 5-shingles")
    pooled: dict[str, Counter] = {m: Counter() for m in methods}
    kinds: Counter = Counter()
    sizes: Counter = Counter()
    agree, seconds, missing = True, 0.0, 0
    for seed in seeds:
        articles = sorted(build_corpus(fundus_dir, seed), key=lambda a: (a.published_at, a.article_id))
        gold = {a.article_id: a.story for a in articles}
        sizes.update({"articles": len(articles), "stories": len(set(gold.values())), "pairs": len(pairs_of(gold))})
        sizes.update(Counter(a.kind for a in articles))
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            if direct:
                db = Path(tmp) / "synth.duckdb"
                con = duckdb.connect(str(db))
                apply_migrations(con)
                ingest(con, articles, batch)
                con.close()
                keys = {a.url: a.article_id for a in articles}
            else:
                db, keys = ingest_end_to_end(articles, Path(tmp))
            seconds += time.perf_counter() - t0
            pred, texts = stories_by_key(db, keys)
            before, rebuilt = rebuilt_stories(db)
            agree &= pairs_of(before) == pairs_of(rebuilt)
        missing += len(gold) - len(pred)
        pred.update({i: f"missing-{i}" for i in gold if i not in pred})  # a page not loaded is a miss
        baselines = (pred, exact_hash(articles), minhash_lsh({i: texts.get(i, "") for i in gold}))
        for name, clusters in zip(methods, baselines):
            pooled[name] += counts(clusters, gold)
        kinds += by_kind(pred, articles)
    print(f"Synthetic corpus, seeds {', '.join(map(str, seeds))}: {sizes['articles']} articles, "
          f"{sizes['stories']} stories, {sizes['pairs']} gold pairs; kinds: "
          + ", ".join(f"{k} {sizes[k]}" for k in (*COPY_KINDS, *NEGATIVE_KINDS)))
    how = (f"direct path (diagnostic): assign_stories in batches of {batch}" if direct else
           "end to end: each corpus served on loopback (a site and feed per outlet), one `wirecopy ingest`")
    print(f"{how}: {seconds:.1f}s in all; pages not loaded as articles: {missing}")
    print()
    print(f"{'method (pooled over seeds)':44} {'precision':>9} {'recall':>7} {'B3 F1':>7}")
    for name in methods:
        print(f"{name:44} {scores(pooled[name])}")
    print("wirecopy by kind:")
    print("\n".join(kind_lines(kinds)))
    print(f"rebuild_stories agrees with incremental (same partition): {'yes' if agree else 'no'}")


# --- cost ------------------------------------------------------------------------------------

def _status_mb(field: str) -> float:
    found = re.search(rf"{field}:\s+(\d+)", Path("/proc/self/status").read_text())
    return int(found.group(1)) / 1024 if found else 0.0


_earlier_peaks = [0.0]


def peak_rss_mb() -> float:
    """Peak RSS of the process so far (Linux VmHWM, including the marks reset below)."""
    return max(_status_mb("VmHWM"), *_earlier_peaks)


def reset_peak_rss() -> float:
    """Reset the kernel's peak-RSS mark to time one step; returns the current RSS in MB."""
    _earlier_peaks.append(_status_mb("VmHWM"))
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def index_stored(con: duckdb.DuckDBPyConnection, rows: pa.Table, batch: int = 10_000) -> float:
    t0 = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    insert(con, rows)
    con.execute("COMMIT")
    ids = rows["article_id"].to_pylist()
    for start in range(0, len(ids), batch):
        con.execute("BEGIN TRANSACTION")
        dedup.assign_stories(con, ids[start:start + batch])
        con.execute("COMMIT")
    return time.perf_counter() - t0


def assign_new(con: duckdb.DuckDBPyConnection, new: pa.Table) -> tuple[float, float, int, float, float]:
    """Wall and CPU seconds (all threads, DuckDB's included) to assign the new articles (rolled back
    after), how many joined a story, and the RSS before and at its peak during the assignment (MB)."""
    ids = new["article_id"].to_pylist()
    con.execute("BEGIN TRANSACTION")
    insert(con, new)
    rss = reset_peak_rss()
    t0, c0 = time.perf_counter(), time.process_time()
    dedup.assign_stories(con, ids)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = _status_mb("VmHWM")
    joined = (con.execute("""SELECT count(*) FROM articles a JOIN stories s USING (story_id)
                            WHERE a.article_id IN (SELECT unnest($ids)) AND s.article_count > 1""",
                         {"ids": ids}).fetchone() or (0,))[0]
    con.execute("ROLLBACK")
    return seconds, cpu, joined, rss, peak


def cost(fundus_dir: Path, sizes: list[int], n_new: int) -> None:
    t0 = time.perf_counter()
    corpus = scale_corpus(fundus_dir, stories=int((max(sizes) + n_new) / 4.0))
    corpus.sort(key=lambda a: (a.published_at, a.article_id))
    assert len(corpus) >= max(sizes) + n_new, "scale corpus too small"
    days = (corpus[max(sizes)].published_at - corpus[0].published_at).days
    print(f"\nIncremental cost: {len(corpus):,} synthetic articles ({days} days of wire stories, copies and "
          f"negatives) generated in {time.perf_counter() - t0:.0f}s")
    rows = arrow_rows(corpus, detect=False)  # Arrow buffers: no Python objects for the GC to walk
    del corpus
    gc.collect()
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "scale.duckdb"))
        apply_migrations(con)
        have = 0
        for size in sizes:
            setup = index_stored(con, rows.slice(have, size - have))
            have = size
            new = rows.slice(size, n_new)  # the next articles to arrive
            assign_new(con, new)  # warm-up (token cache, DuckDB's first-query costs)
            runs = [assign_new(con, new) for _ in range(3)]
            wall, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
            _, _, joined, rss, peak = runs[0]
            walls.append(wall)
            cpus.append(cpu)
            postings = (con.execute("SELECT count(*) FROM story_postings").fetchone() or (0,))[0]
            con.execute("CHECKPOINT")
            db_mb = (Path(tmp) / "scale.duckdb").stat().st_size / 2**20
            print(f"  {n_new} new vs {size:>7,} stored: wall {wall:.2f}s, CPU {cpu:.2f}s (best of 3; wall "
                  f"{', '.join(f'{r[0]:.2f}' for r in runs)}); RSS {rss:.0f} MB before, peak {peak:.0f} MB during")
            print(f"      {joined} joined a story; stored index built in {setup:.0f}s; {postings:,} postings; "
                  f"database file {db_mb:.0f} MB")
        con.close()
    print(f"  ratio {sizes[-1]:,} / {sizes[0]:,} stored: wall {walls[-1] / walls[0]:.2f}x, "
          f"CPU {cpus[-1] / cpus[0]:.2f}x (target < 1.5x)")
    print(f"  peak RSS of the whole run (generated corpus, DuckDB cache, index build): {peak_rss_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("fundus_dir", type=Path)
    parser.add_argument("--batch", type=int, default=100, help="articles per load transaction (quality run)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--new", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9], help="synthetic corpora to pool")
    parser.add_argument("--skip-cost", action="store_true")
    parser.add_argument("--direct", action="store_true",
                        help="diagnostic: insert the corpus as articles rows and call assign_stories, no fetch")
    args = parser.parse_args()
    quality(args.fundus_dir, args.batch, args.seeds, args.direct)
    if not args.skip_cost:
        cost(args.fundus_dir, args.sizes, args.new)


if __name__ == "__main__":
    main()
