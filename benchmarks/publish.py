"""What publishing a run costs at 10,000 and at 100,000 stored articles, beside the naive full copy.

    .venv/bin/python -m benchmarks.publish [--new 1000] [--runs 3]

Two stores are built with synthetic rows (articles, stories, raw pages, queue, feed entries), and
published once whole. Then each run stages `--new` fetched articles (with their raw pages, queue and
feed-entry rows, and a share of stored articles moved to new stories, as copies arriving do) and
loads them through `store.load_staged`, the writer's own path, which publishes to the lake. Runs on
the two stores are interleaved. Printed: the publish step's median seconds at each size and their
ratio, beside the naive baseline, copying the whole database file (what a per-run full copy costs).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tasks import db, dedup, lake, staging, store
from tasks.core.settings import Settings

SIZES = (10_000, 100_000)
MOVED_PER_RUN = 50  # stored articles whose story changes in a run

FILL = """
INSERT INTO articles
SELECT 'a' || i, 'https://outlet' || (i % 20) || '.example/news/' || i, 'Outlet ' || (i % 20),
       'https://outlet' || (i % 20) || '.example/feed.xml', 'Title ' || i, NULL,
       TIMESTAMPTZ '2026-01-01' + INTERVAL (i) MINUTE, TIMESTAMPTZ '2026-01-01' + INTERVAL (i) MINUTE,
       repeat('Paragraph of article ' || i || ' with words the outlet used. ', 40), 'en', NULL, 's' || i,
       NULL, NULL, NULL, now()
FROM range($n) t(i);
INSERT INTO stories SELECT 's' || i, 'a' || i, NULL, TIMESTAMPTZ '2026-01-01' + INTERVAL (i) MINUTE, 1, 1
FROM range($n) t(i);
INSERT INTO raw_pages SELECT url, url, 200, 'text/html', fetched_at, 2400, encode(repeat(md5(url), 75))
FROM articles;
INSERT INTO fetch_queue SELECT url, feed_url, outlet, title, published_at, 'done', 1, NULL, fetched_at, NULL,
       fetched_at FROM articles;
INSERT INTO feed_entries SELECT feed_url, url, url, title, NULL, published_at, fetched_at FROM articles;
INSERT INTO feeds SELECT DISTINCT feed_url, feed_url, outlet, NULL, NULL, now(), '200', NULL, 0, NULL, false
FROM articles;
"""

MOVE = """
UPDATE articles SET story_id = 'moved-' || $run || '-' || article_id
WHERE article_id IN (SELECT 'a' || (hash(i, $run) % $n) FROM range($moved) t(i));
INSERT INTO stories SELECT story_id, article_id, NULL, published_at, 1, 1 FROM articles
WHERE story_id LIKE 'moved-' || $run || '-%';
"""


def settings_for(root: Path) -> Settings:
    return Settings(db_path=root / "wirecopy.duckdb", db_wait_seconds=60)


def build(root: Path, n: int) -> Settings:
    settings = settings_for(root)
    with db.writer(settings.db_path, wait_seconds=60) as con:
        for statement in filter(str.strip, FILL.split(";")):
            con.execute(statement, {"n": n} if "$n" in statement else None)
        lake.publish(con, settings, lake.Publisher("benchmark"))  # the first publish copies the store whole
    return settings


def stage_run(settings: Settings, run: int, new: int) -> None:
    now = datetime.now(timezone.utc)
    articles, raw, queue, entries = [], [], [], []
    for i in range(new):
        url = f"https://outlet{i % 20}.example/run{run}/{i}"
        feed = f"https://outlet{i % 20}.example/feed.xml"
        when = now - timedelta(minutes=i)
        articles.append(dict(article_id=f"r{run}-{i}", url=url, outlet=f"Outlet {i % 20}", feed_url=feed,
                             title=f"Run {run} article {i}", authors=None, published_at=when, fetched_at=now,
                             text=f"Paragraph of run {run} article {i} with words. " * 40, language="en",
                             wire_service=None, site_name=None, description=None, page_url=None, extracted_at=now))
        raw.append(dict(url=url, final_url=url, http_status=200, content_type="text/html", fetched_at=now,
                        bytes=2400, body_zlib=os.urandom(2400)))
        queue.append(dict(url=url, feed_url=feed, outlet=f"Outlet {i % 20}", feed_title=None, feed_published_at=when,
                          status="done", attempts=1, last_error=None, last_attempt_at=now, next_attempt_at=None,
                          updated_at=now))
        entries.append(dict(feed_url=feed, entry_id=url, url=url, title=None, author=None, published_at=when,
                            first_seen_at=now))
    staging.write_batch(settings.staging_dir, {"raw_pages": raw, "fetch_queue": queue, "feed_entries": entries,
                                               "articles": articles})


def publish_run(settings: Settings, run: int, new: int, stored: int) -> float:
    """One run's load through the writer's path; returns the publish step's seconds."""
    stage_run(settings, run, new)
    with db.writer(settings.db_path, wait_seconds=60) as con:  # copies arriving move stored articles
        for statement in filter(str.strip, MOVE.split(";")):
            con.execute(statement, {k: v for k, v in {"run": run, "n": stored, "moved": MOVED_PER_RUN}.items()
                                    if f"${k}" in statement})
    summary = store.load_staged(settings.db_path, settings.staging_dir, wait_seconds=60,
                                assign_stories=dedup.assign_merged,
                                publish=store.PublishTo(settings, lake.Publisher("benchmark", f"run {run}")))
    return summary.publish_seconds


def full_copy(settings: Settings) -> float:
    started = time.perf_counter()
    shutil.copyfile(settings.db_path, settings.db_path.with_name("full-copy.duckdb"))
    seconds = time.perf_counter() - started
    settings.db_path.with_name("full-copy.duckdb").unlink()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--new", type=int, default=1000, help="articles each run loads")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wirecopy-publish-") as tmp:
        stores = {}
        for n in SIZES:
            (Path(tmp) / str(n)).mkdir()
            started = time.perf_counter()
            stores[n] = build(Path(tmp) / str(n), n)
            print(f"built and published {n:,} stored articles in {time.perf_counter() - started:.1f} s", flush=True)
        publish: dict[int, list[float]] = {n: [] for n in SIZES}
        copy: dict[int, list[float]] = {n: [] for n in SIZES}
        for run in range(args.runs):
            for n in SIZES:
                publish[n].append(publish_run(stores[n], run, args.new, n))
                copy[n].append(full_copy(stores[n]))
        print(f"\npublishing a run of {args.new:,} new articles ({MOVED_PER_RUN} stored ones moved to new "
              f"stories), median of {args.runs} interleaved runs, load {os.getloadavg()[0]:.1f}:")
        for n in SIZES:
            size = stores[n].db_path.stat().st_size / 2**20
            print(f"  {n:>7,} stored: publish {statistics.median(publish[n]):.3f} s   "
                  f"naive full copy of the {size:,.0f} MiB database {statistics.median(copy[n]):.3f} s")
        small, large = (statistics.median(publish[n]) for n in SIZES)
        small_copy, large_copy = (statistics.median(copy[n]) for n in SIZES)
        print(f"  ratio 100,000 / 10,000: publish {large / small:.2f}x (target < 1.5x), "
              f"full copy {large_copy / small_copy:.2f}x")


if __name__ == "__main__":
    main()
