"""Run the hostile suite (tests/hostile/) and print its figures: one row per hostile case with its
outcome, time and peak memory, then `N hostile cases, N survived, 0 articles lost`.

Usage: .venv/bin/python benchmarks/hostile.py [extra pytest arguments]

Times: a feed case shows its poll's own duration (feed_polls.duration_ms); cases served by one
shared ingest run (the hostile newsroom's pages) show that run's wall time; fault cases show the
whole scenario (first run, faulty run, recovery run). Peak memory is the growth of resident
memory of the test process and its children (extraction workers, CLI runs) over the scenario;
for the decoder row it is the peak Python allocation measured by tracemalloc.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "hostile"))

from hostile_kit import format_table  # noqa: E402


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "hostile.json"
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/hostile", *argv],
            cwd=REPO, env={**os.environ, "HOSTILE_REPORT_JSON": str(report)}, capture_output=True, text=True)
        seconds = time.monotonic() - started
        summary = [line for line in result.stdout.splitlines() if " in " in line and ("passed" in line or "failed" in line)]
        if not report.exists():
            print(result.stdout[-5000:], result.stderr[-5000:], sep="\n")
            return result.returncode or 1
        cases = json.loads(report.read_text())
    for line in format_table(cases):
        print(line)
    print(f"(pytest: {summary[-1] if summary else 'no summary'}; suite wall time {seconds:.0f} s)")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
