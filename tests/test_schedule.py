"""The adaptive scheduler on feed histories, and a deployment that runs often polling only due feeds."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from feedkit import Item, query, rss2, write_feeds

from benchmarks.polling import START, FeedHistory, simulate
from tasks.schedule import entry_frequency
from wirecopy.newsroom import Page

NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
SHORTEST, LONGEST = timedelta(minutes=5), timedelta(hours=24)


def every(interval: timedelta, until: datetime = NOW, days: int = 7) -> list[datetime]:
    times, t = [], until - timedelta(days=days)
    while t < until:
        t += interval
        times.append(t)
    return times


def test_a_feed_with_50_entries_a_day_is_asked_every_29_minutes():
    schedule = entry_frequency(every(timedelta(days=1) / 50), NOW, shortest=SHORTEST, longest=LONGEST)
    assert schedule.interval == timedelta(days=1) / 50
    assert schedule.reason == "50 entries a day over the last 7 days: every 28m48s"


def test_a_feed_with_one_entry_a_week_is_asked_once_a_day():
    schedule = entry_frequency([NOW - timedelta(days=3)], NOW, shortest=SHORTEST, longest=LONGEST)
    assert schedule.interval == LONGEST and "(the longest)" in schedule.reason


def test_a_busy_wire_is_asked_at_the_shortest_interval():
    schedule = entry_frequency(every(timedelta(days=1) / 1200), NOW, shortest=SHORTEST, longest=LONGEST)
    assert schedule.interval == SHORTEST
    assert schedule.reason == "1200 entries a day over the last 7 days: every 5m (the shortest)"


def test_entries_older_than_a_week_do_not_count():
    schedule = entry_frequency(every(timedelta(hours=1), until=NOW - timedelta(days=8)), NOW,
                               shortest=SHORTEST, longest=LONGEST)
    assert schedule.interval == LONGEST and schedule.reason.startswith("no entry in the last 7 days")


def test_over_a_week_a_feed_that_always_answers_304_is_asked_7_times_not_672():
    dormant = FeedHistory("dormant", [])
    assert simulate(dormant, adaptive=True).requests == 7
    assert simulate(dormant, adaptive=False).requests == 672


def test_over_a_week_a_feed_with_50_entries_a_day_costs_about_one_request_per_article():
    busy = FeedHistory("busy", every(timedelta(days=1) / 50, until=START + timedelta(days=7), days=14))
    adaptive, fixed = simulate(busy, adaptive=True), simulate(busy, adaptive=False)
    assert adaptive.articles == fixed.articles == 350
    assert adaptive.per_article <= 1.0 < fixed.per_article


def test_a_weekly_feed_is_asked_once_a_day_and_still_finds_its_article():
    weekly = FeedHistory("weekly", [START - timedelta(days=4), START + timedelta(days=3, hours=9)])
    adaptive = simulate(weekly, adaptive=True)
    assert adaptive.articles == 1 and adaptive.requests <= 8


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_soon_after_another_polls_only_the_feeds_that_are_due(newsroom, tmp_path, capsys):
    from flows.ingest import ingest
    from wirecopy import cli

    newsroom.add("/quiet.xml", Page(rss2([Item("Old", newsroom.url("/n/1"),
                                               published=NOW - timedelta(days=30))]), "application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.toml", [("Quiet", newsroom.url("/quiet.xml"))],
                        poll_min_seconds=300, poll_max_seconds=86400)
    db = tmp_path / "w.duckdb"

    ingest(feeds_path=str(feeds), db_path=str(db))
    second = ingest(feeds_path=str(feeds), db_path=str(db))
    capsys.readouterr()
    cli.main(["status", "--db", str(db)])
    status = capsys.readouterr().out

    assert newsroom.paths_requested().count("/quiet.xml") == 1
    assert (second.feeds_polled, second.feeds_waiting) == (0, 1)
    interval, reason = query(db, "SELECT poll_interval_seconds, poll_reason FROM feeds")[0]
    assert interval == 86400 and reason.startswith("no entry in the last 7 days")
    assert "every 24h00m (the longest)" in status
