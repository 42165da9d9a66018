"""`wirecopy serve` with no PREFECT_API_URL starts its own server on 127.0.0.1 and serves the
three deployments with the ingest schedule; it stops that server on exit."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def test_serve_starts_a_local_server_and_registers_the_scheduled_deployments(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    proc = subprocess.Popen([sys.executable, "-m", "wirecopy.cli", "serve", "--db", str(tmp_path / "w.duckdb")],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        first = proc.stdout.readline()
        match = re.search(r"starting a local Prefect server at (http://127\.0\.0\.1:\d+)", first)
        assert match, first
        api = match.group(1) + "/api"
        deadline = time.monotonic() + 150
        names: dict[str, dict] = {}
        while time.monotonic() < deadline and len(names) < 3:
            time.sleep(2)
            try:
                found = httpx.post(f"{api}/deployments/filter", json={}, timeout=5).json()
            except (httpx.HTTPError, ValueError):
                continue
            names = {d["name"]: d for d in found if isinstance(d, dict)}
        assert set(names) == {"ingest", "backfill", "rebuild-stories"}
        schedules = names["ingest"]["schedules"]
        assert schedules and schedules[0]["schedule"]["interval"] == 300
        assert names["ingest"]["parameters"]["db_path"] == str(tmp_path / "w.duckdb")
        limits = httpx.post(f"{api}/v2/concurrency_limits/filter", json={}, timeout=5).json()
        assert any(l["name"] == "duckdb-writer" and l["limit"] == 1 for l in limits)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    # The server it started is gone with it.
    try:
        httpx.get(f"{api}/health", timeout=2)
        alive = True
    except httpx.HTTPError:
        alive = False
    assert not alive
