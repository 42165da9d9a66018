"""Typed flow parameters, checked before a run does anything.

A deployment run's `--param` values arrive as JSON strings: Prefect's server checks them against
the JSON schema of the flow's signature when the run is created (dates by `pattern`, as it does
not check `format`), and the flow engine validates them with pydantic before the flow body runs.
`wirecopy backfill` checks the same types before Prefect starts.
"""
from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, ValidationError, ValidationInfo

from tasks import db, store
from tasks.core.errors import ConfigError
from tasks.core.settings import Settings, load_feeds

# YYYY-MM-DD with a day that exists in its month (29 February is left to pydantic's date check).
ISO_DAY = (r"^\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)"
           r"|02-(?:0[1-9]|1\d|2\d))$")


class BackfillMode(StrEnum):
    REPROCESS = "reprocess"  # re-extract stored raw pages; nothing refetched
    SITEMAPS = "sitemaps"  # fetch what the outlets' sitemaps list for the range


def _not_before_since(until: date, info: ValidationInfo) -> date:
    since = info.data.get("since")
    if since is not None and until < since:
        raise ValueError(f"{until} is before since ({since})")
    return until


Day = Annotated[date, Field(description="a UTC day, YYYY-MM-DD", json_schema_extra={"pattern": ISO_DAY})]
# `until` follows `since` in a signature or model, so its validator sees the validated `since`.
LastDay = Annotated[Day, AfterValidator(_not_before_since)]


class BackfillRange(BaseModel):
    """The days a backfill covers: whole UTC days, both ends included."""

    since: Day
    until: LastDay


def one_line(exc: ValidationError) -> str:
    """pydantic's report as one line: `field: reason; field: reason`."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        reason = error["msg"].removeprefix("Value error, ")
        given = error.get("input")
        if isinstance(given, str) and error["type"] != "value_error":
            reason += f" (got {given!r})"
        parts.append(f"{where}: {reason}" if where else reason)
    return "; ".join(parts)


def check_outlet(outlet: str | None, mode: BackfillMode, settings: Settings) -> None:
    """A backfill limited to an outlet nobody knows would report 0 and look done: refuse it.
    Sitemaps come from the feeds file's outlets; a reprocess may also name an outlet whose
    articles are stored but whose feed has left the file."""
    if outlet is None:
        return
    known = set()
    if mode == BackfillMode.SITEMAPS or settings.feeds_path.exists():
        known |= {feed.outlet for feed in load_feeds(settings.feeds_path)}
    where = str(settings.feeds_path)
    if mode == BackfillMode.REPROCESS:
        with db.reader(settings.db_path, wait_seconds=settings.db_wait_seconds) as con:
            known |= set(store.read_stored_outlets(con))
        where += f" or among the articles in {settings.db_path}"
    if outlet not in known:
        names = sorted(known)
        listed = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        raise ConfigError(f"no outlet named {outlet!r} in {where} (known: {listed or 'none'})")
