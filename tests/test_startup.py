"""A first run on a new machine: `wirecopy ingest` with a fresh Prefect home (Prefect creates its
database as its temporary server starts) while two CPU-bound processes take the cores until the
flow run begins. Prefect's own 20 s bound failed half such runs; wirecopy's
`prefect_startup_timeout` holds. `benchmarks/prefect_startup.py` runs twenty of these beside
Prefect's default bound."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from feedkit import Item, article_page, rss2, story_paragraphs, write_feeds

from wirecopy.newsroom import Page


@pytest.mark.slow
def test_ingest_with_a_fresh_prefect_home_succeeds_beside_two_cpu_bound_processes(newsroom, tmp_path):
    links = [newsroom.add(f"/news/{i}", Page(article_page(f"First run {i}", story_paragraphs(f"first run {i}"))))
             for i in range(3)]
    newsroom.add("/feed.xml", Page(rss2([Item(f"First run {i}", link) for i, link in enumerate(links)]),
                                   "application/rss+xml", conditional=False))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Gazette", newsroom.url("/feed.xml"))],
                        extract_workers=None)  # as a user runs it: extraction on its process pool
    home = tmp_path / "prefect-home"
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    with open(tmp_path / "ingest.out", "w+") as stdout:
        ingest = subprocess.Popen([sys.executable, "-m", "wirecopy.cli", "ingest", "--feeds", str(feeds),
                                   "--db", str(tmp_path / "w.duckdb")], cwd=tmp_path, stdout=stdout,
                                  stderr=subprocess.PIPE, text=True, env={**os.environ, "PREFECT_HOME": str(home)})
        bound = threading.Timer(600, ingest.kill)
        bound.start()
        try:
            stderr = ""
            for line in ingest.stderr:  # the start-up, under load: its end is the flow run's first line
                stderr += line
                if "Beginning flow run" in line:
                    break
        finally:
            for burner in burners:
                burner.kill()
                burner.wait()
        stderr += ingest.communicate()[1]
        bound.cancel()
        stdout.seek(0)
        printed = stdout.read()
    assert ingest.returncode == 0, stderr
    assert "Beginning flow run" in stderr, "the run started beside the two burners"
    assert "articles new 3, loaded 3" in printed
    assert (home / "prefect.db").exists(), "a fresh Prefect home, its database created by this run"
