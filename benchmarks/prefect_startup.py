"""First runs on a busy machine: `wirecopy ingest`, each with a fresh Prefect home (Prefect creates
its database as its temporary server starts), while two CPU-bound processes take the cores.

    .venv/bin/python -m benchmarks.prefect_startup [--runs 20] [--baseline-runs 10]

Runs wirecopy as configured (its `prefect_startup_timeout`) and, interleaved, with the bound set
to Prefect's own default (20 s, `WIRECOPY_PREFECT_STARTUP_TIMEOUT=20`), the naive baseline, on the
same 5-article loopback newsroom. Prints each run (exit, seconds from the temporary server's
start to the flow's first log line), then how many succeeded of each, and the load average.
Only 127.0.0.1 is contacted.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from feedkit import Item, article_page, rss2, story_paragraphs, write_feeds  # noqa: E402

from wirecopy.newsroom import Newsroom, Page  # noqa: E402

PREFECT_DEFAULT_BOUND = 20
_STAMP = re.compile(r"^(\d\d:\d\d:\d\d\.\d{3}) \| .*?(Starting temporary server|Beginning flow run)", re.M)


def server_seconds(stderr: str) -> float | None:
    """Seconds from 'Starting temporary server' to the flow's first log line (None if it never ran)."""
    stamps = {kind: datetime.strptime(t, "%H:%M:%S.%f") for t, kind in _STAMP.findall(stderr)}
    if len(stamps) < 2:
        return None
    return (stamps["Beginning flow run"] - stamps["Starting temporary server"]).total_seconds() % 86400


def one_run(feeds: Path, work: Path, bound: int | None) -> tuple[int, float | None, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "WIRECOPY_"))}
    env["PREFECT_HOME"] = tempfile.mkdtemp(prefix="prefect-home-", dir=work)
    if bound is not None:
        env["WIRECOPY_PREFECT_STARTUP_TIMEOUT"] = str(bound)
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "wirecopy.cli", "ingest", "--feeds", str(feeds),
                             "--db", str(Path(env["PREFECT_HOME"]) / "w.duckdb")], cwd=work, env=env,
                            capture_output=True, text=True, timeout=1800)
    return result.returncode, server_seconds(result.stderr), time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--baseline-runs", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wirecopy-startup-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the CPU burners too
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    results: dict[str, list[tuple[int, float | None, float]]] = {"wirecopy": [], "baseline": []}
    loads = []
    try:
        with Newsroom() as room:
            links = [room.add(f"/news/{i}", Page(article_page(f"Start {i}", story_paragraphs(f"start {i}"))))
                     for i in range(5)]
            room.add("/feed.xml", Page(rss2([Item(f"Start {i}", link) for i, link in enumerate(links)]),
                                       "application/rss+xml", conditional=False))
            feeds = write_feeds(work / "feeds.toml", [("Gazette", room.url("/feed.xml"))],
                                extract_workers=None)  # wirecopy's default: its process pool
            plan, every = [], max(1, args.runs // max(1, args.baseline_runs))
            for i in range(args.runs):  # interleaved: a baseline run after every few of wirecopy's
                plan.append("wirecopy")
                if (i + 1) % every == 0 and plan.count("baseline") < args.baseline_runs:
                    plan.append("baseline")
            plan += ["baseline"] * (args.baseline_runs - plan.count("baseline"))
            for n, kind in enumerate(plan, 1):
                loads.append(os.getloadavg()[0])
                code, up, wall = one_run(feeds, work, None if kind == "wirecopy" else PREFECT_DEFAULT_BOUND)
                results[kind].append((code, up, wall))
                print(f"run {n:2d} {kind:8s} exit {code}  server up to first flow log "
                      f"{'-' if up is None else f'{up:5.1f} s'}  wall {wall:5.1f} s  load {loads[-1]:.1f}", flush=True)
    finally:
        for burner in burners:
            burner.kill()
    for kind, label in (("wirecopy", "wirecopy (its prefect_startup_timeout)"),
                        ("baseline", f"Prefect's default bound ({PREFECT_DEFAULT_BOUND} s)")):
        runs = results[kind]
        ups = sorted(up for code, up, _ in runs if code == 0 and up is not None)
        print(f"{label}: {sum(code == 0 for code, _, _ in runs)}/{len(runs)} succeeded"
              + (f"; server up in median {ups[len(ups) // 2]:.1f} s, max {ups[-1]:.1f} s" if ups else ""))
    print(f"two CPU-bound processes beside each run; 1-minute load average during the runs "
          f"{min(loads):.1f} to {max(loads):.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
