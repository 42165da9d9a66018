"""`wirecopy serve` against real Prefect servers: its own (PREFECT_API_URL unset), and one where
`prefect deploy --all` has deployed the flows and whose deployments serve must leave as they are."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import prefect_db
import pytest
from feedkit import Item, article_page, rss2, story_paragraphs, write_feeds

from wirecopy.newsroom import Page

REPO = Path(__file__).resolve().parent.parent
PREFECT = [sys.executable, "-m", "prefect"]
STARTUP = 300  # seconds: a first start creates the server's database; the suite may run beside other work

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_for(predicate, what: str, timeout: float = STARTUP, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := predicate()):
            return value
        assert proc is None or proc.poll() is None, f"exited with {proc.returncode} while waiting for {what}"
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def prefect_server(tmp_path, prefect_database_template) -> Iterator[tuple[str, dict[str, str]]]:
    """`prefect server start` on a loopback port, with its own Prefect home (its database seeded
    from the suite's template): (API URL, client env)."""
    port = _free_port()
    prefect_db.seed(prefect_database_template, tmp_path / "server-home" / "prefect.db")
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "server-home")}
    server = subprocess.Popen([*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    api = f"http://127.0.0.1:{port}/api"
    try:
        _wait_for(lambda: _healthy(api), "the Prefect server", proc=server)
        yield api, {**env, "PREFECT_API_URL": api}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)


def _serve(*args: str, env: dict[str, str]) -> subprocess.Popen:
    # Ctrl-C works as in a terminal even where the test runner ignores SIGINT (xdist workers do)
    return subprocess.Popen([sys.executable, "-m", "wirecopy.cli", "serve", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _interrupt(proc: subprocess.Popen) -> tuple[int, str]:
    """Ctrl-C, as in a terminal: SIGINT to serve's process group."""
    os.killpg(proc.pid, signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
    return proc.returncode, out


def _deployments(api: str) -> dict[str, dict]:
    """What a user would compare: each deployment's parameters, pull steps, schedules, pause state."""
    from prefect.client.orchestration import SyncPrefectClient

    with SyncPrefectClient(api) as client:
        flows = {f.id: f.name for f in client.read_flows()}
        return {f"{flows[d.flow_id]}/{d.name}": {
            "parameters": d.parameters, "pull_steps": d.pull_steps, "paused": d.paused,
            "entrypoint": d.entrypoint, "work_pool": d.work_pool_name,
            "schedules": [(s.schedule.model_dump(mode="json", exclude={"anchor_date"}), s.active)
                          for s in d.schedules]} for d in client.read_deployments()}


def _flow_runs(api: str, deployment: str) -> list:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with SyncPrefectClient(api) as client:
        flow, name = deployment.split("/")
        found = client.read_deployment_by_name(f"{flow}/{name}")
        return client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[found.id])))


def test_serve_beside_prefect_deploy_leaves_the_deployed_flows_as_they_were(prefect_server, newsroom, tmp_path):
    api, env = prefect_server
    subprocess.run([*PREFECT, "work-pool", "create", "wirecopy", "--type", "process"], env=env, check=True,
                   capture_output=True, timeout=STARTUP)
    deployed = subprocess.run([*PREFECT, "--no-prompt", "deploy", "--all"], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=STARTUP)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    before = _deployments(api)
    assert set(before) == {"ingest/ingest", "backfill/backfill", "rebuild-stories/rebuild-stories"}
    assert before["ingest/ingest"]["schedules"] and not before["ingest/ingest"]["paused"]

    # The README's backfill command with a day April does not have: refused, no run created.
    refused = subprocess.run([*PREFECT, "deployment", "run", "backfill/backfill", "--param", "since=2025-04-31",
                              "--param", "until=2025-04-30"], env=env, capture_output=True, text=True, timeout=STARTUP)
    assert refused.returncode != 0
    assert "Validation failed for field 'since'" in refused.stdout + refused.stderr, refused.stdout + refused.stderr
    assert _flow_runs(api, "backfill/backfill") == []

    links = [newsroom.add(f"/news/{i}", Page(article_page(f"Served {i}", story_paragraphs(f"served pier {i}"))))
             for i in range(3)]
    newsroom.add("/feed.xml", Page(rss2([Item(f"Served {i}", link) for i, link in enumerate(links)]), "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Gazette", newsroom.url("/feed.xml"))])
    db = tmp_path / "served.duckdb"
    serve = _serve("--feeds", str(feeds), "--db", str(db), env=env)
    try:
        # serve runs an ingest as it starts, not only 5 minutes later.
        completed = _wait_for(lambda: [r for r in _safe(_flow_runs, api, "ingest/serve") if r.state_type == "COMPLETED"],
                              "serve's first ingest", proc=serve)
        assert len(completed) == 1
        during = _deployments(api)
    finally:
        code, out = _interrupt(serve)
    assert code == 0, out
    assert f"export PREFECT_API_URL={api}" in out.splitlines()

    after = _deployments(api)
    assert {k: after[k] for k in before} == before, "prefect deploy's deployments are unchanged and unpaused"
    assert {"ingest/serve", "backfill/serve", "rebuild-stories/serve"} <= set(during)
    assert not during["ingest/serve"]["paused"] and during["ingest/serve"]["schedules"][0][0]["interval"] == 300
    assert during["ingest/serve"]["parameters"] == {"feeds_path": str(feeds), "db_path": str(db)}
    assert all(after[f"{flow}/serve"]["paused"] for flow in ("ingest", "backfill", "rebuild-stories")), \
        "serve paused its own deployments on exit"
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        assert sorted(r[0] for r in con.execute("SELECT url FROM articles").fetchall()) == sorted(links)


def _safe(read, *args):
    """A read of serve's deployment before serve has registered it: nothing yet."""
    from prefect.exceptions import ObjectNotFound

    try:
        return read(*args)
    except ObjectNotFound:
        return []


def test_serve_without_a_server_starts_its_own_on_the_serve_port_in_its_own_home(tmp_path):
    port, home = _free_port(), tmp_path / "serve-home"
    feeds = write_feeds(tmp_path / "feeds.toml", [("Gazette", "http://127.0.0.1:9/feed.xml")])
    env = {**os.environ, "WIRECOPY_SERVE_PORT": str(port), "WIRECOPY_SERVE_PREFECT_HOME": str(home)}
    api = f"http://127.0.0.1:{port}/api"
    serve = _serve("--feeds", str(feeds), "--db", str(tmp_path / "w.duckdb"), env=env)
    try:
        first = serve.stdout.readline()
        assert first.startswith(f"wirecopy serve: PREFECT_API_URL is not set; starting a Prefect server at "
                                f"http://127.0.0.1:{port} with its own home {home}"), first
        assert serve.stdout.readline() == f"export PREFECT_API_URL={api}\n"
        served = _wait_for(lambda: {k: v for k, v in _deployments(api).items() if k.endswith("/serve")}
                           if _healthy(api) and len(_deployments(api)) == 3 else None, "serve's deployments", proc=serve)
        limits = httpx.post(f"{api}/v2/concurrency_limits/filter", json={}, timeout=5).json()
    finally:
        code, out = _interrupt(serve)
    assert code == 0, out
    assert set(served) == {"ingest/serve", "backfill/serve", "rebuild-stories/serve"}
    assert served["ingest/serve"]["schedules"][0][0]["interval"] == 300
    assert any(limit["name"] == "duckdb-writer" and limit["limit"] == 1 for limit in limits)
    assert (home / "prefect.db").exists(), "the server's database is in serve's own home"
    assert not _healthy(api), "the server serve started is stopped with it"


def test_serve_refuses_a_serve_port_that_is_taken_in_one_line(tmp_path):
    feeds = write_feeds(tmp_path / "feeds.toml", [("Gazette", "http://127.0.0.1:9/feed.xml")])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "wirecopy.cli", "serve", "--feeds", str(feeds)], cwd=tmp_path,
                                env={**os.environ, "WIRECOPY_SERVE_PORT": str(port)}, capture_output=True, text=True,
                                timeout=STARTUP)
    assert result.returncode == 3
    assert result.stderr.strip() == (f"wirecopy: port {port} on 127.0.0.1 is taken (another `wirecopy serve`?): stop "
                                     "what listens there, or set serve_port (WIRECOPY_SERVE_PORT), or point "
                                     "PREFECT_API_URL at the server already there")
