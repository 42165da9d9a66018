"""Requests per new article: adaptive polling (tasks/schedule.py) against fixed 15-minute polling.

Each feed's history is a week of publication times (after a week of warm-up the scheduler learns
from), shaped like real news feeds: a wire's news sitemap, a busy outlet, a regional paper, a
weekly column and a dormant feed that answers 304 every time. Publishing follows the day (quiet
at night, busiest late morning). The adaptive scheduler runs as a deployment every 5 minutes that
polls only the due feeds (tasks/polling.py's plan, with its slack); the baseline polls every feed
every 15 minutes. A poll is one request (a 304 costs as much as a 200); an article counts once,
when the first poll lists it. Also printed: the delay from publication to discovery.

    .venv/bin/python -m benchmarks.polling [--seed 1]
"""
from __future__ import annotations

import argparse
import math
import random
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from tasks.polling import DUE_SLACK
from tasks.schedule import WINDOW, entry_frequency

START = datetime(2026, 11, 2, tzinfo=timezone.utc)  # a Monday: the measured week starts here
SHORTEST, LONGEST = timedelta(minutes=5), timedelta(hours=24)
ADAPTIVE_RUN_EVERY, FIXED_EVERY = timedelta(minutes=5), timedelta(minutes=15)


@dataclass(frozen=True)
class FeedHistory:
    name: str
    published: list[datetime]  # sorted; the warm-up week and the measured week


@dataclass
class Outcome:
    requests: int
    articles: int
    delays: list[float]  # minutes from publication to the poll that listed it

    @property
    def per_article(self) -> float:
        return self.requests / self.articles if self.articles else math.inf

    @property
    def mean_delay(self) -> float:
        return sum(self.delays) / len(self.delays) if self.delays else 0.0


def _day_profile(hour: float) -> float:
    """Relative publishing rate by UTC hour: a night trough a fifth of the late-morning peak."""
    return 0.2 + 0.8 * (0.5 - 0.5 * math.cos((hour - 4.0) / 24.0 * 2 * math.pi)) ** 2


def history(name: str, per_day: float, seed: int, days: int = 14) -> FeedHistory:
    """Publication times of a feed publishing `per_day` entries a day, over the warm-up and measured weeks."""
    rng = random.Random(f"{name}:{seed}")
    mean_profile = sum(_day_profile(h / 10) for h in range(240)) / 240
    times, t, end = [], START - WINDOW, START - WINDOW + timedelta(days=days)
    peak = per_day / 24 / mean_profile  # entries an hour at the profile's maximum (1.0)
    while per_day > 0:
        t += timedelta(hours=rng.expovariate(peak))  # thinning: candidates at the peak rate, kept by profile
        if t >= end:
            break
        if rng.random() < _day_profile(t.hour + t.minute / 60):
            times.append(t)
    return FeedHistory(name, times)


def weekly(name: str, seed: int) -> FeedHistory:
    """One entry a week, on a weekday morning."""
    rng = random.Random(f"{name}:{seed}")
    return FeedHistory(name, [START - WINDOW + timedelta(days=7 * week + rng.randrange(5), hours=rng.uniform(7, 11))
                              for week in range(2)])


def histories(seed: int) -> list[FeedHistory]:
    return [history("wire news sitemap", 1200, seed), history("busy outlet", 50, seed),
            history("regional paper", 8, seed), weekly("weekly column", seed),
            history("dormant feed (always 304)", 0, seed)]


def simulate(feed: FeedHistory, *, adaptive: bool, start: datetime = START,
             end: datetime = START + WINDOW) -> Outcome:
    """Requests made and articles found in [start, end) by one scheduling policy; the warm-up week
    before `start` is polled the same way, so the scheduler starts the week with its history."""
    every = ADAPTIVE_RUN_EVERY if adaptive else FIXED_EVERY
    run, next_poll = start - WINDOW, None
    outcome = Outcome(0, 0, [])
    i = 0  # published[:i] have been listed by a poll
    while run < end:
        if next_poll is None or next_poll <= run + DUE_SLACK or not adaptive:
            listed_before, i = i, _count_until(feed.published, run, i)
            if run >= start:
                outcome.requests += 1
                for when in feed.published[listed_before:i]:
                    if when >= start:
                        outcome.articles += 1
                        outcome.delays.append((run - when).total_seconds() / 60)
            if adaptive:
                recent = [t for t in feed.published[:i] if t > run - WINDOW]
                next_poll = run + entry_frequency(recent, run, shortest=SHORTEST, longest=LONGEST).interval
        run += every
    return outcome


def _count_until(published: list[datetime], until: datetime, start: int) -> int:
    while start < len(published) and published[start] <= until:
        start += 1
    return start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    feeds = histories(args.seed)
    print(f"one simulated week from {START:%Y-%m-%d} (after a week of warm-up), seed {args.seed}")
    print(f"adaptive: runs every 5 min, polls due feeds, intervals {SHORTEST} .. {LONGEST}; fixed: every 15 min\n")
    header = (f"{'feed':<28}{'articles':>9}  {'adaptive req':>12} {'req/article':>11} {'delay min':>9}"
              f"  {'fixed req':>9} {'req/article':>11} {'delay min':>9}")
    print(header)
    totals = {True: Outcome(0, 0, []), False: Outcome(0, 0, [])}
    for feed in feeds:
        got = {mode: simulate(feed, adaptive=mode) for mode in (True, False)}
        for mode, outcome in got.items():
            totals[mode].requests += outcome.requests
            totals[mode].articles += outcome.articles
            totals[mode].delays += outcome.delays
        print(_row(feed.name, got[True], got[False]))
    print(_row("all feeds", totals[True], totals[False]))
    return 0


def _row(name: str, adaptive: Outcome, fixed: Outcome) -> str:
    return (f"{name:<28}{adaptive.articles:>9}  {adaptive.requests:>12} {_ratio(adaptive):>11} "
            f"{adaptive.mean_delay:>9.1f}  {fixed.requests:>9} {_ratio(fixed):>11} {fixed.mean_delay:>9.1f}")


def _ratio(outcome: Outcome) -> str:
    return f"{outcome.per_article:.2f}" if outcome.articles else "-"


if __name__ == "__main__":
    sys.exit(main())
