"""Run the hostile suite (tests/hostile/) and print its figures: one row per hostile case with its
outcome, time and peak memory, then `N hostile cases, N survived, 0 articles lost`.

Usage: .venv/bin/python -m benchmarks.hostile [extra pytest arguments]

Times: a feed case shows its poll's own duration (feed_polls.duration_ms); cases served by one
shared ingest run (the hostile newsroom's pages) show that run's wall time; fault cases show the
whole scenario (first run, faulty run, recovery run). Peak memory is the growth of resident
memory of the test process and its children (extraction workers, CLI runs) over the scenario;
for the decoder row it is the peak Python allocation measured by tracemalloc.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    """The suite prints its own table (tests/hostile/conftest.py) when asked: show that section."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/hostile", *argv],
        cwd=REPO, env={**os.environ, "HOSTILE_REPORT_TABLE": "1"}, capture_output=True, text=True)
    seconds = time.monotonic() - started
    lines = result.stdout.splitlines()
    table = next((i for i, line in enumerate(lines) if "hostile cases" in line and line.startswith("=")), None)
    if table is None:
        print(result.stdout[-5000:], result.stderr[-5000:], sep="\n")
        return result.returncode or 1
    summary = [line for line in lines if " in " in line and ("passed" in line or "failed" in line)]
    for line in lines[table + 1:]:
        if line.startswith("=") or line.startswith("FAILED") or not line.strip():
            break
        print(line)
    print(f"(pytest: {summary[-1].strip('= ') if summary else 'no summary'}; suite wall time {seconds:.0f} s)")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
