"""When to poll a feed next: as often as it publishes (Miniflux's entry-frequency scheduler).

A feed that listed n entries over the last week is asked every week/n, between a shortest and a
longest interval: a wire adding hundreds a day is asked at the shortest, a feed that adds nothing
(or answers 304 every time) drifts to the longest as its last entries leave the window.
Failures keep their own rule (exponential backoff, Retry-After), set by the poll.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tasks.core.settings import Settings

WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class PollSchedule:
    interval: timedelta
    reason: str  # shown by `wirecopy status`


def describe_interval(interval: timedelta) -> str:
    """3h20m, 28m48s, 5m: how people read an interval."""
    seconds = int(round(interval.total_seconds()))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds % 60 else f"{seconds // 60}m"


def backoff_delay(failures: int, settings: Settings) -> timedelta:
    """The wait after `failures` failures in a row (of a feed's polls, or of a page's attempts):
    base, 2x base, 4x base... capped at backoff_max_seconds."""
    doublings = min(max(failures - 1, 0), 64)  # past this the cap holds anyway; far past it floats overflow
    return timedelta(seconds=min(settings.backoff_base_seconds * 2 ** doublings, settings.backoff_max_seconds))


def entry_frequency(entry_times: Iterable[datetime], now: datetime, *, shortest: timedelta,
                    longest: timedelta) -> PollSchedule:
    """The interval for a feed whose entries appeared at `entry_times` (published, else first seen)."""
    since = now - WINDOW
    count = sum(1 for when in entry_times if since <= when)
    if count == 0:
        return PollSchedule(longest, f"no entry in the last 7 days: every {describe_interval(longest)} (the longest)")
    interval = WINDOW / count
    per_day = count / 7
    rate = f"{per_day:.0f}" if per_day >= 10 else f"{per_day:.2g}"
    rate = f"{rate} entries a day over the last 7 days"
    if interval <= shortest:
        return PollSchedule(shortest, f"{rate}: every {describe_interval(shortest)} (the shortest)")
    if interval >= longest:
        return PollSchedule(longest, f"{rate}: every {describe_interval(longest)} (the longest)")
    return PollSchedule(interval, f"{rate}: every {describe_interval(interval)}")
