"""The `wirecopy` command as a user runs it: exit codes and one-line reasons.

Every failure a user can cause is one `wirecopy: ...` line and the README's exit code; the ones
that need no Prefect are refused before Prefect starts (these runs take a second, not twenty)."""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import prefect_db
import pytest
from feedkit import Item, article_page, query, rss2, story_paragraphs, write_feeds

from wirecopy.newsroom import Page

REPO = Path(__file__).resolve().parent.parent


def wirecopy(*args: str, cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """The CLI in a subprocess, with the suite's environment (conftest.py: its own Prefect home,
    none of the user's Prefect or proxy settings)."""
    return subprocess.run([sys.executable, "-m", "wirecopy.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def harness_api() -> dict[str, str]:
    """The environment that points a CLI run at the suite's Prefect test server (under the
    prefect_harness fixture), so it does not start a temporary server of its own."""
    from prefect.settings import PREFECT_API_URL

    return {"PREFECT_API_URL": PREFECT_API_URL.value()}


def only_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def suite_prefect_home() -> Path:
    """The Prefect home tests/conftest.py made for this test process."""
    home = Path(os.environ["PREFECT_HOME"])
    assert home.name.startswith("wirecopy-tests-prefect-home-")
    return home


def test_cli_subprocesses_use_the_suites_own_prefect_home_and_none_of_the_users_settings(tmp_path):
    PREFECT_HOME = suite_prefect_home()
    probe = subprocess.run(
        [sys.executable, "-c", "import os\nfrom prefect.settings import PREFECT_API_URL, PREFECT_HOME, "
         "PREFECT_PROFILES_PATH, PREFECT_API_DATABASE_CONNECTION_URL as DB\n"
         "print(PREFECT_HOME.value()); print(PREFECT_PROFILES_PATH.value()); print(DB.value())\n"
         "print(PREFECT_API_URL.value()); print(sorted(k for k in os.environ if 'proxy' in k.lower()))"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert probe.returncode == 0, probe.stderr
    home, profiles, database, api_url, proxies = probe.stdout.strip().splitlines()
    users_prefect = Path.home() / ".prefect"
    assert Path(home) == PREFECT_HOME and Path(profiles).is_relative_to(PREFECT_HOME)
    assert str(PREFECT_HOME) in database and str(users_prefect) not in database
    assert api_url == "None" and proxies == "[]"
    from prefect.settings import PREFECT_HOME as in_this_process

    assert in_this_process.value() == PREFECT_HOME, "and so does the test process itself"


def test_ingest_with_a_missing_feeds_file_fails_with_one_clear_line(tmp_path):
    result = wirecopy("ingest", "--feeds", str(tmp_path / "nope.toml"), "--db", str(tmp_path / "w.duckdb"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"wirecopy: feeds file not found: {tmp_path / 'nope.toml'}"
    assert not (tmp_path / "w.duckdb").exists()


def test_feeds_file_comes_from_the_environment_when_not_given(tmp_path):
    result = wirecopy("ingest", cwd=tmp_path, env={"WIRECOPY_FEEDS": str(tmp_path / "env-feeds.toml")})
    assert result.returncode == 2
    assert "env-feeds.toml" in result.stderr


def test_ingest_into_a_database_it_cannot_open_fails_with_a_reason(tmp_path):
    feeds = tmp_path / "feeds.toml"
    feeds.write_text('[[feeds]]\noutlet = "A"\nurl = "http://127.0.0.1:9/feed.xml"\n')
    not_a_db = tmp_path / "garbage.duckdb"
    not_a_db.write_bytes(b"this is not a duckdb file" * 100)
    result = wirecopy("ingest", "--feeds", str(feeds), "--db", str(not_a_db), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("wirecopy: cannot open database")
    assert "garbage.duckdb" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def _stored_articles_db(path: Path, outlets: list[str]) -> Path:
    from tasks.db import apply_migrations

    con = duckdb.connect(str(path))
    apply_migrations(con)
    for i, outlet in enumerate(outlets):
        con.execute("INSERT INTO articles (article_id, url, outlet, fetched_at, text, extracted_at) "
                    "VALUES (?, ?, ?, now(), 'text', now())", [f"a{i}", f"http://127.0.0.1/{i}", outlet])
    con.close()
    return path


@pytest.mark.parametrize("args,line", [
    (["--since", "2025-04-31", "--until", "2025-05-01"],
     "argument --since: not a date (YYYY-MM-DD): '2025-04-31' (see `wirecopy backfill --help`)"),
    (["--since", "yesterday", "--until", "2025-05-01"],
     "argument --since: not a date (YYYY-MM-DD): 'yesterday' (see `wirecopy backfill --help`)"),
    (["--since", "2025-04-30", "--until", "2025-04-01"], "until: 2025-04-01 is before since (2025-04-30)"),
    (["--since", "2025-04-01", "--until", "2025-04-30", "--outlet", "Gazete"],
     "no outlet named 'Gazete' in {feeds} (known: Gazette, Herald)"),
    (["--since", "2025-04-01", "--until", "2025-04-30", "--outlet", "Gazete", "--mode", "reprocess"],
     "no outlet named 'Gazete' in {feeds} or among the articles in {db} (known: Courier, Gazette, Herald)"),
])
def test_a_backfill_the_user_got_wrong_is_refused_in_one_line_before_prefect_starts(tmp_path, args, line):
    feeds = write_feeds(tmp_path / "feeds.toml", [("Gazette", "http://127.0.0.1:9/g.xml"),
                                                  ("Herald", "http://127.0.0.1:9/h.xml")])
    db = _stored_articles_db(tmp_path / "w.duckdb", ["Courier", "Gazette"])
    result = wirecopy("backfill", *args, "--feeds", str(feeds), "--db", str(db), cwd=tmp_path)
    assert (result.returncode, only_line(result)) == (2, "wirecopy: " + line.format(feeds=feeds, db=db))


def test_a_reprocess_of_an_outlet_known_only_from_stored_articles_is_accepted(tmp_path):
    """The outlet check refuses unknown names, not outlets whose feed has left the file."""
    from flows.params import BackfillMode, check_outlet
    from tasks.core.settings import load_settings

    db = _stored_articles_db(tmp_path / "w.duckdb", ["Courier"])
    settings = load_settings(tmp_path / "no-feeds.toml", db)
    check_outlet("Courier", BackfillMode.REPROCESS, settings)


@pytest.mark.parametrize("args,code,start", [
    (["backfill", "--since", "2025-04-01", "--until", "2025-04-30", "--mode", "everything"], 2,
     "wirecopy: argument --mode: invalid choice: 'everything'"),
    (["ingets"], 2, "wirecopy: argument command: invalid choice: 'ingets'"),
    (["backfill", "--since", "2025-04-01"], 2, "wirecopy: the following arguments are required: --until"),
    (["status", "--db", "{tmp}/typo.duckdb"], 2, "wirecopy: no such database: {tmp}/typo.duckdb"),
    (["enable-feed", "http://127.0.0.1/x.xml", "--db", "{tmp}/typo.duckdb"], 2,
     "wirecopy: no such database: {tmp}/typo.duckdb"),
    (["rebuild-stories", "--db", "{tmp}/typo.duckdb"], 2, "wirecopy: no such database: {tmp}/typo.duckdb"),
])
def test_wrong_arguments_and_paths_are_one_line_with_the_documented_code(tmp_path, args, code, start):
    result = wirecopy(*[a.format(tmp=tmp_path) for a in args], cwd=tmp_path)
    assert result.returncode == code
    assert only_line(result).startswith(start.format(tmp=tmp_path)), result.stderr
    assert not (tmp_path / "typo.duckdb").exists()


def test_a_prefect_api_url_at_a_stopped_server_is_one_line_naming_it(tmp_path):
    feeds = write_feeds(tmp_path / "feeds.toml", [("Gazette", "http://127.0.0.1:9/g.xml")])
    stopped = "http://127.0.0.1:9/api"  # the discard port: nothing listens there
    for command in (["ingest"], ["serve"]):
        result = wirecopy(*command, "--feeds", str(feeds), "--db", str(tmp_path / "w.duckdb"), cwd=tmp_path,
                          env={"PREFECT_API_URL": stopped})
        assert result.returncode == 3, result.stderr
        assert only_line(result).startswith(
            f"wirecopy: cannot reach the Prefect API at {stopped} (PREFECT_API_URL): ConnectError"), result.stderr
    assert not (tmp_path / "w.duckdb").exists()


def test_a_temporary_prefect_server_that_does_not_start_in_time_is_one_line_naming_the_setting(tmp_path):
    feeds = write_feeds(tmp_path / "feeds.toml", [("Gazette", "http://127.0.0.1:9/g.xml")])
    # A fresh Prefect home: the server must create its database, which takes far longer than 1 s.
    result = wirecopy("ingest", "--feeds", str(feeds), "--db", str(tmp_path / "w.duckdb"), cwd=tmp_path,
                      env={"PREFECT_HOME": str(tmp_path / "prefect-home"), "WIRECOPY_PREFECT_STARTUP_TIMEOUT": "1"})
    assert result.returncode == 3
    line = [entry for entry in result.stderr.splitlines() if entry.startswith("wirecopy:")]
    assert line == [entry for entry in result.stderr.splitlines() if "Timed out" in entry or "within 1s" in entry], result.stderr
    assert line[0].startswith("wirecopy: Prefect's temporary API server did not answer within 1s")
    assert "prefect_startup_timeout" in line[0] and "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_temporary_prefect_server_that_exits_as_it_starts_is_one_line_without_waiting_out_the_bound(tmp_path):
    feeds = write_feeds(tmp_path / "feeds.toml", [("Gazette", "http://127.0.0.1:9/g.xml")])
    unopenable = f"sqlite+aiosqlite:///{tmp_path}/no-such-folder/prefect.db"
    result = wirecopy("ingest", "--feeds", str(feeds), "--db", str(tmp_path / "w.duckdb"), cwd=tmp_path,
                      env={"PREFECT_API_DATABASE_CONNECTION_URL": unopenable, "WIRECOPY_PREFECT_STARTUP_TIMEOUT": "3600"})
    assert result.returncode == 3
    line = [entry for entry in result.stderr.splitlines() if entry.startswith("wirecopy:")]
    assert len(line) == 1 and line[0].startswith("wirecopy: Prefect's temporary API server exited as it started")
    assert "Traceback" not in result.stderr, result.stderr


@pytest.mark.usefixtures("prefect_harness")
def test_a_busy_database_is_one_line_without_prefects_tracebacks(newsroom, tmp_path):
    links = [newsroom.add(f"/news/{i}", Page(article_page(f"Busy {i}", story_paragraphs(f"busy quay {i}"))))
             for i in range(2)]
    newsroom.add("/feed.xml", Page(rss2([Item(f"Busy {i}", link) for i, link in enumerate(links)]), "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Gazette", newsroom.url("/feed.xml"))], db_wait_seconds=1.0)
    db = _stored_articles_db(tmp_path / "w.duckdb", [])
    # An analyst's read-only connection: the run reads and fetches, then cannot write.
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys\n"
                               f"con = duckdb.connect({str(db)!r}, read_only=True)\nprint('open', flush=True)\n"
                               "sys.stdin.readline()\n"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        result = wirecopy("ingest", "--feeds", str(feeds), "--db", str(db), cwd=tmp_path, env=harness_api())
    finally:
        holder.communicate("done\n", timeout=30)
    assert result.returncode == 1
    about_it = [entry for entry in result.stderr.splitlines() if "held by another process" in entry or "DatabaseBusy" in entry
                or entry.startswith("wirecopy:")]
    assert about_it == [f"wirecopy: database {db} is held by another process (a running ingest, or an open "
                        "connection) and stayed busy for 1s (setting db_wait_seconds)"], result.stderr
    assert "Traceback" not in result.stderr and "Finished in state Failed" not in result.stderr
    assert any((tmp_path / "w.duckdb.staging").iterdir()), "what was fetched waits in staging"

    for link in links:  # the pages are gone now: only the staged copies can bring them in
        newsroom.routes.pop(link.removeprefix(newsroom.base_url))
    again = wirecopy("ingest", "--feeds", str(feeds), "--db", str(db), cwd=tmp_path, env=harness_api())
    assert again.returncode == 0, again.stderr
    assert "articles new 0, loaded 2" in again.stdout, "the summary counts the staged work it loaded"
    assert sorted(r[0] for r in query(db, "SELECT url FROM articles")) == sorted(links)
    assert not any((tmp_path / "w.duckdb.staging").iterdir())


def test_status_prints_a_header_and_one_line_per_feed(tmp_path):
    db = tmp_path / "w.duckdb"
    from tasks.db import apply_migrations

    con = duckdb.connect(str(db))
    apply_migrations(con)
    con.execute("INSERT INTO feeds (url, configured_url, outlet, last_polled_at, last_status, "
                "consecutive_failures, next_poll_at) VALUES "
                "('http://127.0.0.1/a.xml', 'http://127.0.0.1/a.xml', 'Alpha', now(), '200', 0, now()), "
                "('http://127.0.0.1/b.xml', 'http://127.0.0.1/b.xml', 'Beta', now(), '500', 3, now())")
    con.close()
    result = wirecopy("status", "--db", str(db), cwd=tmp_path)
    assert result.returncode == 0
    header, *lines = result.stdout.strip().splitlines()
    assert header.split("\t") == ["outlet", "url", "kind", "last poll", "status", "failures", "next poll (why)"]
    assert [line.split("\t")[:2] for line in lines] == [["Alpha", "http://127.0.0.1/a.xml"],
                                                        ["Beta", "http://127.0.0.1/b.xml"]]
    assert [line.split("\t")[4:6] for line in lines] == [["200", "0"], ["500", "3"]]


def _readme_query(starting_with: str) -> str:
    """An example query of the README, as a user would paste it."""
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```sql\n(.*?)```", readme, re.S)
    for block in blocks:
        for statement in block.split(";"):
            if starting_with in statement:
                return "\n".join(entry for entry in statement.splitlines() if not entry.startswith("--"))
    raise AssertionError(f"no README query under {starting_with!r}")


def _flow_runs_in(server_db: Path) -> int:
    con = sqlite3.connect(server_db)
    try:
        return con.execute("SELECT count(*) FROM flow_run").fetchone()[0]
    finally:
        con.close()


@pytest.mark.slow
def test_demo_ingests_the_bundled_newsroom_offline_and_the_readme_queries_show_its_stories(
        tmp_path, prefect_database_template):
    server_db = suite_prefect_home() / "prefect.db"
    if not server_db.exists():
        prefect_db.seed(prefect_database_template, server_db)
    runs_before = _flow_runs_in(server_db)
    db = tmp_path / "demo.duckdb"
    result = wirecopy("demo", "--db", str(db), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "12 articles in 9 stories" in result.stdout
    assert _flow_runs_in(server_db) > runs_before, "the run's temporary Prefect server used the suite's home"
    assert Path(tempfile.gettempdir()) in server_db.parents
    con = duckdb.connect(str(db), read_only=True)
    try:
        pickup = con.execute("SELECT wire_service, outlet_count FROM story_pickup "
                             "WHERE outlet_count > 1 ORDER BY outlet_count DESC").fetchall()
        today = con.execute(_readme_query("Today's most picked-up wire stories")).fetchall()
        week = con.execute(_readme_query("This week's coverage counted once per story")).fetchall()
    finally:
        con.close()
    assert pickup == [("Reuters", 3), ("AP", 2)]
    assert [(wire, outlets) for _, wire, outlets, *_ in today] == [("Reuters", 3), ("AP", 2), ("AFP", 1)]
    assert len(week) == 9 and week[0][3:] == (3, 3)


def test_the_demo_newsroom_is_dated_relative_to_the_run_whenever_it_runs():
    from wirecopy.demo import dated_articles

    for now in (datetime(2031, 3, 1, 0, 30, tzinfo=timezone.utc), datetime.now(timezone.utc)):
        articles = dated_articles(now)["articles"]
        published = [datetime.fromisoformat(a["published"]) for a in articles]
        assert all(now - timedelta(days=1) < p < now for p in published), published
        wire_first = min(p for a, p in zip(articles, published) if "(Reuters)" in a["paragraphs"][0])
        assert all(f"LENZA, {wire_first:%b} {wire_first.day} (Reuters)" in a["paragraphs"][0]
                   for a in articles if "(Reuters)" in a["paragraphs"][0])
        assert not any("{" in text for a in articles for text in a["paragraphs"])
