"""The `wirecopy` command.

Every failure a user can cause or meet is one `wirecopy: ...` line on stderr and an exit code
(the README's table): what the user gave is checked before any network or Prefect start-up, and
`main()` is the one place that maps error types to codes.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import IntEnum
from pathlib import Path
from typing import NoReturn

from tasks import db
from tasks.core.errors import ConfigError, DatabaseBusy, DatabaseError, LakeError
from tasks.core.settings import Settings, load_feeds, load_settings
from wirecopy.prefect_api import PrefectUnavailable, apply_startup_timeout, ensure_api


class ExitCode(IntEnum):
    OK = 0
    DATABASE = 1  # the database is busy beyond db_wait_seconds, or unusable; fetched work stays staged
    USAGE = 2  # arguments, feeds file, settings, a path or an outlet that does not exist
    PREFECT = 3  # Prefect's API could not be started or reached, or was lost during the run
    SOFTWARE = 70  # a bug in wirecopy: the traceback is printed above the line
    INTERRUPTED = 130  # Ctrl-C


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is a ConfigError (one line, exit 2), not usage text and a line."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{message} (see `{self.prog} --help`)")


def _quiet_prefect() -> None:
    """Ephemeral Prefect by default, without its telemetry and server chatter on the user's terminal."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    # The temporary server's own errors: a server that does not start is told by the `wirecopy:` line
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_UVICORN_LEVEL", "CRITICAL")
    os.environ.setdefault("DO_NOT_TRACK", "1")


class _FailureEchoes(logging.Filter):
    """On the terminal a failure is told once, by the `wirecopy:` line: Prefect's tracebacks and
    failed-state echoes of it are kept off the console (its API handler still sends them to the
    server, so the Prefect UI and `prefect flow-run logs` keep them whole)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info or record.exc_text:
            return False
        if record.name.startswith(("prefect.flow_runs", "prefect.task_runs")):
            message = record.getMessage()
            return not message.startswith("Finished in state ") or message.startswith("Finished in state Completed")
        return True


@contextmanager
def _prefect_run(settings: Settings) -> Iterator[None]:
    """Prefect's API made sure of (started or reached) before any work, and its console quiet
    about failures the error boundary reports."""
    apply_startup_timeout(settings.prefect_startup_timeout)
    from prefect.logging.configuration import ensure_logging_setup
    from prefect.logging.handlers import PrefectConsoleHandler

    ensure_logging_setup()

    consoles = [h for h in logging.getLogger().handlers if isinstance(h, PrefectConsoleHandler)]
    echoes = _FailureEchoes()
    for handler in consoles:
        handler.addFilter(echoes)
    try:
        ensure_api(settings.prefect_startup_timeout)
        yield
    finally:
        for handler in consoles:
            handler.removeFilter(echoes)


def cmd_ingest(args: argparse.Namespace) -> int:
    from tasks.db import check_openable

    settings = load_settings(args.feeds, args.db)
    load_feeds(settings.feeds_path)
    check_openable(settings.db_path)
    with _prefect_run(settings):
        from flows.ingest import ingest

        summary = ingest(feeds_path=str(settings.feeds_path), db_path=str(settings.db_path),
                         force_poll=args.force)
    print(summary.line())
    for outlet, url, error in summary.failures:
        print(f"  feed failed: {outlet} {url}: {error}")
    return ExitCode.OK


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M:%S%z")
    return str(value)


STATUS_COLUMNS = ("outlet", "url", "kind", "last poll", "status", "failures", "next poll (why)")


def cmd_status(args: argparse.Namespace) -> int:
    from tasks import store

    settings = load_settings(args.feeds, args.db, read_feeds_file=False)
    if not settings.db_path.exists():
        raise ConfigError(f"no such database: {settings.db_path}")
    with db.reader(settings.db_path, wait_seconds=10) as con:
        rows = store.read_feed_status(con)
        blocked = _blocked_hosts(con)
    if not rows:
        print(f"no feeds polled yet in {settings.db_path}")
        return ExitCode.OK
    print("\t".join(STATUS_COLUMNS))
    for outlet, url, polled, status, error, failures, next_poll, gone, kind, _, reason in rows:
        state = ("GONE (410; re-enable with `wirecopy enable-feed URL`)" if gone
                 else f"{_fmt(next_poll)} ({reason or 'due'})")
        detail = f" ({error})" if error and status != "200" else ""
        print(f"{outlet}\t{url}\t{kind or '?'}\t{_fmt(polled)}\t{_fmt(status)}{detail}\t{failures}\t{state}")
    _print_blocked_hosts(blocked)
    return ExitCode.OK


def cmd_feeds_import(args: argparse.Namespace) -> int:
    from wirecopy.opml import import_opml

    feeds_path = load_settings(args.feeds, None, read_feeds_file=False).feeds_path
    try:
        report = import_opml(Path(args.file), feeds_path)
    except OSError as exc:
        raise ConfigError(f"cannot write {exc.filename or 'the feeds file'}: {exc.strerror or exc}") from None
    print(f"added {len(report.added)} feeds to {feeds_path}; {len(report.duplicates)} already there, "
          f"{len(report.skipped)} skipped")
    for feed in report.added:
        print(f"  added: {feed.outlet}\t{feed.url}" + (f"\t[{feed.category}]" if feed.category else ""))
    for feed, existing in report.duplicates:
        print(f"  duplicate: {feed.url} (as {existing})")
    for feed, why in report.skipped:
        print(f"  skipped: {feed.url}: {why}")
    return ExitCode.OK


def cmd_feeds_export(args: argparse.Namespace) -> int:
    from wirecopy.opml import export_opml

    opml = export_opml(load_settings(args.feeds, None, read_feeds_file=False).feeds_path)
    try:
        if args.output:
            Path(args.output).write_bytes(opml)
        else:
            sys.stdout.buffer.write(opml)
            sys.stdout.flush()
    except OSError as exc:
        raise ConfigError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    return ExitCode.OK


def _blocked_hosts(con) -> list[tuple]:
    from datetime import datetime, timedelta, timezone

    from tasks import store

    return store.read_blocked_hosts(con, since=datetime.now(timezone.utc) - timedelta(days=7))


def _print_blocked_hosts(rows: list[tuple]) -> None:
    """Hosts whose anti-bot wall answered in the last week (`wirecopy status`)."""
    if rows:
        print("\nblocked by anti-bot walls in the last 7 days:")
    for host, vendor, feed_polls, pages, last in rows:
        print(f"  {host}\t{vendor}\tfeed polls {feed_polls}, pages {pages}\tlast {_fmt(last)}")


def cmd_enable_feed(args: argparse.Namespace) -> int:

    settings = load_settings(None, args.db, read_feeds_file=False)
    if not settings.db_path.exists():
        raise ConfigError(f"no such database: {settings.db_path}")
    with db.writer(settings.db_path, wait_seconds=settings.db_wait_seconds,
                      memory_limit=settings.db_memory_limit) as con:
        changed = con.execute(db.sql("enable_feed"), {"url": args.url}).fetchall()
    if not changed:
        raise ConfigError(f"no feed with URL {args.url} in {settings.db_path}")
    print(f"re-enabled {changed[0][0]}: polled on the next run")
    return ExitCode.OK


def _date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def cmd_backfill(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from flows.params import BackfillMode, BackfillRange, check_outlet, one_line
    from tasks.db import check_openable

    try:
        BackfillRange(since=args.since, until=args.until)
    except ValidationError as exc:
        raise ConfigError(one_line(exc)) from None
    mode = BackfillMode(args.mode)
    settings = load_settings(args.feeds, args.db)
    if mode == BackfillMode.SITEMAPS:
        load_feeds(settings.feeds_path)
    check_openable(settings.db_path)
    check_outlet(args.outlet, mode, settings)
    with _prefect_run(settings):
        from flows.backfill import backfill

        summary = backfill(since=args.since, until=args.until, outlet=args.outlet, mode=mode,
                           feeds_path=str(settings.feeds_path), db_path=str(settings.db_path))
    print(summary.line())
    for error in summary.errors:
        print(f"  sitemap failed: {error}")
    return ExitCode.OK


def cmd_rebuild_stories(args: argparse.Namespace) -> int:
    from tasks.db import check_openable

    settings = load_settings(None, args.db, read_feeds_file=False)
    if not settings.db_path.exists():
        raise ConfigError(f"no such database: {settings.db_path}")
    check_openable(settings.db_path)
    with _prefect_run(settings):
        from flows.rebuild_stories import rebuild_stories

        counts = rebuild_stories(db_path=str(settings.db_path))
    print(f"{counts['articles']} articles in {counts['stories']} stories")
    return ExitCode.OK


def cmd_serve(args: argparse.Namespace) -> int:
    from wirecopy.serve import serve_flows

    settings = load_settings(args.feeds, args.db)
    load_feeds(settings.feeds_path)
    return serve_flows(settings, feeds_path=args.feeds, db_path=args.db)


def cmd_demo(args: argparse.Namespace) -> int:
    from wirecopy.demo import run_demo

    settings = load_settings(None, args.db, read_feeds_file=False)
    with _prefect_run(settings):
        return run_demo(Path(args.db) if args.db else None)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="wirecopy", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="poll the feeds once, fetch new articles, load them")
    p.add_argument("--feeds", help="feeds file (default $WIRECOPY_FEEDS or feeds.toml)")
    p.add_argument("--db", help="DuckDB file (default $WIRECOPY_DB or data/wirecopy.duckdb)")
    p.add_argument("--force", action="store_true", help="poll feeds in backoff too")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("status", help="one line per feed: last poll, status, failures, next poll")
    p.add_argument("--feeds", help=argparse.SUPPRESS)
    p.add_argument("--db", help="DuckDB file (default $WIRECOPY_DB or data/wirecopy.duckdb)")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("backfill", help="re-extract stored pages, or fetch sitemap URLs, for a date range")
    p.add_argument("--since", type=_date, required=True, help="first day, YYYY-MM-DD (UTC)")
    p.add_argument("--until", type=_date, required=True, help="last day, YYYY-MM-DD (UTC), included")
    p.add_argument("--outlet", help="only this outlet (as named in the feeds file)")
    p.add_argument("--mode", choices=["reprocess", "sitemaps"], default="sitemaps")
    p.add_argument("--feeds", help="feeds file (default $WIRECOPY_FEEDS or feeds.toml)")
    p.add_argument("--db", help="DuckDB file (default $WIRECOPY_DB or data/wirecopy.duckdb)")
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("rebuild-stories", help="recompute every story assignment")
    p.add_argument("--db", help="DuckDB file (default $WIRECOPY_DB or data/wirecopy.duckdb)")
    p.set_defaults(func=cmd_rebuild_stories)

    p = sub.add_parser("serve", help="serve the flows with their schedules (needs a Prefect server; "
                                     "starts its own on 127.0.0.1 when PREFECT_API_URL is unset)")
    p.add_argument("--feeds", help="feeds file passed to the scheduled ingest")
    p.add_argument("--db", help="DuckDB file passed to the flows")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("enable-feed", help="poll a feed again after a 410 Gone or a long backoff")
    p.add_argument("url")
    p.add_argument("--db", help="DuckDB file (default $WIRECOPY_DB or data/wirecopy.duckdb)")
    p.set_defaults(func=cmd_enable_feed)

    p = sub.add_parser("feeds", help="import feeds from OPML into feeds.toml, or export feeds.toml as OPML")
    feeds_sub = p.add_subparsers(dest="feeds_command", required=True)
    q = feeds_sub.add_parser("import", help="add every feed of an OPML file that feeds.toml lacks")
    q.add_argument("file", help="the OPML file (a feed reader's export)")
    q.add_argument("--feeds", help="feeds file to add to (default $WIRECOPY_FEEDS or feeds.toml; created if missing)")
    q.set_defaults(func=cmd_feeds_import)
    q = feeds_sub.add_parser("export", help="write feeds.toml as OPML 2.0 (Miniflux, FreshRSS and others import it)")
    q.add_argument("--feeds", help="feeds file (default $WIRECOPY_FEEDS or feeds.toml)")
    q.add_argument("-o", "--output", help="write to this file instead of standard output")
    q.set_defaults(func=cmd_feeds_export)

    p = sub.add_parser("demo", help="ingest a bundled sample newsroom served on 127.0.0.1")
    p.add_argument("--db", help="DuckDB file to create (default: a fresh temporary file)")
    p.set_defaults(func=cmd_demo)
    return parser


def _fail(message: object, code: ExitCode) -> int:
    print(f"wirecopy: {message}", file=sys.stderr)
    return code


# What each error a user can cause or meet means: its exit code (the message is the error's own line).
EXIT_CODES: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (ConfigError, ExitCode.USAGE),
    (PrefectUnavailable, ExitCode.PREFECT),
    (DatabaseBusy, ExitCode.DATABASE),
    (DatabaseError, ExitCode.DATABASE),
    (LakeError, ExitCode.DATABASE),
)


def main(argv: list[str] | None = None) -> int:
    """The error boundary: each kind of failure to its one line and exit code."""
    _quiet_prefect()
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except KeyboardInterrupt:
        return _fail("interrupted (work already staged is loaded by the next run)", ExitCode.INTERRUPTED)
    except Exception as exc:
        import httpx

        for error_type, code in EXIT_CODES:
            if isinstance(exc, error_type):
                return _fail(exc, code)
        if isinstance(exc, httpx.HTTPError):  # the Prefect client's: page and feed fetches record theirs
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return _fail(f"the Prefect API failed during the run ({type(exc).__name__}: {detail}); "
                         "what was fetched stays staged for the next run", ExitCode.PREFECT)
        traceback.print_exc()
        return _fail(f"unexpected {type(exc).__name__} (a bug in wirecopy; the traceback is above)",
                     ExitCode.SOFTWARE)


if __name__ == "__main__":
    sys.exit(main())
