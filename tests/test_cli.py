"""The `wirecopy` command as a user runs it: exit codes and one-line reasons."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent


def wirecopy(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wirecopy.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


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


def test_status_lists_one_line_per_feed(tmp_path):
    db = tmp_path / "w.duckdb"
    from tasks.store import apply_migrations

    con = duckdb.connect(str(db))
    apply_migrations(con)
    con.execute("INSERT INTO feeds (url, configured_url, outlet, last_polled_at, last_status, "
                "consecutive_failures, next_poll_at) VALUES "
                "('http://127.0.0.1/a.xml', 'http://127.0.0.1/a.xml', 'Alpha', now(), '200', 0, now()), "
                "('http://127.0.0.1/b.xml', 'http://127.0.0.1/b.xml', 'Beta', now(), '500', 3, now())")
    con.close()
    result = wirecopy("status", "--db", str(db), cwd=tmp_path)
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Alpha\thttp://127.0.0.1/a.xml") and "status 200" in lines[0]
    assert "status 500" in lines[1] and "failures 3" in lines[1]


def test_demo_ingests_the_bundled_newsroom_offline_and_ties_wire_copies_together(tmp_path):
    db = tmp_path / "demo.duckdb"
    result = wirecopy("demo", "--db", str(db), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "12 articles in 9 stories" in result.stdout
    con = duckdb.connect(str(db), read_only=True)
    try:
        pickup = con.execute("SELECT wire_service, outlet_count FROM story_pickup "
                             "WHERE outlet_count > 1 ORDER BY outlet_count DESC").fetchall()
    finally:
        con.close()
    assert pickup == [("Reuters", 3), ("AP", 2)]
