"""The `wirecopy` command."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _quiet_prefect() -> None:
    """Ephemeral Prefect by default, without its telemetry and server chatter on the user's terminal."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_UVICORN_LEVEL", "WARNING")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def _fail(message: str, code: int = 2) -> int:
    print(f"wirecopy: {message}", file=sys.stderr)
    return code


def cmd_ingest(args: argparse.Namespace) -> int:
    from wirecopy.settings import ConfigError, load_feeds, load_settings

    try:
        settings = load_settings(args.feeds, args.db)
        load_feeds(settings.feeds_path)
    except ConfigError as exc:
        return _fail(str(exc))
    from flows.ingest import ingest
    from tasks.store import DatabaseBusy, DatabaseError, check_openable

    try:
        check_openable(settings.db_path)
    except DatabaseError as exc:
        return _fail(str(exc), 1)
    try:
        summary = ingest(feeds_path=str(settings.feeds_path), db_path=str(settings.db_path),
                         force_poll=args.force)
    except (DatabaseBusy, DatabaseError, ConfigError) as exc:
        return _fail(str(exc), 1)
    print(summary.line())
    for outlet, url, error in summary.failures:
        print(f"  feed failed: {outlet} {url}: {error}")
    return 0


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if hasattr(value, "strftime"):
        return value.astimezone().strftime("%Y-%m-%d %H:%M:%S%z")
    return str(value)


def cmd_status(args: argparse.Namespace) -> int:
    from tasks import store
    from wirecopy.settings import ConfigError, load_settings

    try:
        settings = load_settings(args.feeds, args.db, read_feeds_file=False)
        with store.reader(settings.db_path, wait_seconds=10) as con:
            rows = store.read_feed_status(con)
            blocked = _blocked_hosts(con)
    except (ConfigError, store.DatabaseBusy, store.DatabaseError) as exc:
        return _fail(str(exc), 1)
    if not rows:
        print(f"no feeds polled yet in {settings.db_path}")
        return 0
    for outlet, url, polled, status, error, failures, next_poll, gone, kind, _, reason in rows:
        state = ("GONE (410; re-enable with `wirecopy enable-feed URL`)" if gone
                 else f"next poll {_fmt(next_poll)} ({reason or 'due'})")
        detail = f" ({error})" if error and status != "200" else ""
        print(f"{outlet}\t{url}\t{kind or '?'}\tlast poll {_fmt(polled)}\tstatus {_fmt(status)}{detail}\t"
              f"failures {failures}\t{state}")
    _print_blocked_hosts(blocked)
    return 0


def cmd_feeds_import(args: argparse.Namespace) -> int:
    from wirecopy.opml import OpmlError, import_opml
    from wirecopy.settings import ConfigError, load_settings

    try:
        feeds_path = load_settings(args.feeds, None, read_feeds_file=False).feeds_path
        report = import_opml(Path(args.file), feeds_path)
    except (OpmlError, ConfigError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write {exc.filename or 'the feeds file'}: {exc.strerror or exc}", 1)
    print(f"added {len(report.added)} feeds to {feeds_path}; {len(report.duplicates)} already there, "
          f"{len(report.skipped)} skipped")
    for feed in report.added:
        print(f"  added: {feed.outlet}\t{feed.url}" + (f"\t[{feed.category}]" if feed.category else ""))
    for feed, existing in report.duplicates:
        print(f"  duplicate: {feed.url} (as {existing})")
    for feed, why in report.skipped:
        print(f"  skipped: {feed.url}: {why}")
    return 0


def cmd_feeds_export(args: argparse.Namespace) -> int:
    from wirecopy.opml import OpmlError, export_opml
    from wirecopy.settings import ConfigError, load_settings

    try:
        opml = export_opml(load_settings(args.feeds, None, read_feeds_file=False).feeds_path)
        if args.output:
            Path(args.output).write_bytes(opml)
        else:
            sys.stdout.buffer.write(opml)
            sys.stdout.flush()
    except (OpmlError, ConfigError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write {args.output}: {exc.strerror or exc}", 1)
    return 0


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
    from tasks import store
    from wirecopy.settings import load_settings

    settings = load_settings(None, args.db, read_feeds_file=False)
    try:
        with store.writer(settings.db_path, wait_seconds=settings.db_wait_seconds,
                          memory_limit=settings.db_memory_limit) as con:
            changed = con.execute(store.sql("enable_feed"), {"url": args.url}).fetchall()
    except (store.DatabaseBusy, store.DatabaseError) as exc:
        return _fail(str(exc), 1)
    if not changed:
        return _fail(f"no feed with URL {args.url} in {settings.db_path}", 1)
    print(f"re-enabled {changed[0][0]}: polled on the next run")
    return 0


def _date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def cmd_backfill(args: argparse.Namespace) -> int:
    from wirecopy.settings import ConfigError, load_feeds, load_settings

    try:
        settings = load_settings(args.feeds, args.db)
        if args.mode == "sitemaps":
            load_feeds(settings.feeds_path)
    except ConfigError as exc:
        return _fail(str(exc))
    from flows.backfill import backfill
    from tasks.store import DatabaseBusy, DatabaseError, check_openable

    try:
        check_openable(settings.db_path)
        summary = backfill(since=args.since, until=args.until, outlet=args.outlet, mode=args.mode,
                           feeds_path=str(settings.feeds_path), db_path=str(settings.db_path))
    except (DatabaseBusy, DatabaseError, ConfigError, ValueError) as exc:
        return _fail(str(exc), 1)
    print(summary.line())
    for error in summary.errors:
        print(f"  sitemap failed: {error}")
    return 0


def cmd_rebuild_stories(args: argparse.Namespace) -> int:
    from flows.rebuild_stories import rebuild_stories
    from tasks.store import DatabaseBusy, DatabaseError

    try:
        counts = rebuild_stories(db_path=args.db)
    except (DatabaseBusy, DatabaseError) as exc:
        return _fail(str(exc), 1)
    print(f"{counts['articles']} articles in {counts['stories']} stories")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from wirecopy.serve import serve_flows

    return serve_flows(feeds_path=args.feeds, db_path=args.db)


def cmd_demo(args: argparse.Namespace) -> int:
    from wirecopy.demo import run_demo

    return run_demo(Path(args.db) if args.db else None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wirecopy", description=__doc__)
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
                                     "starts one on 127.0.0.1 when PREFECT_API_URL is unset)")
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


def main(argv: list[str] | None = None) -> int:
    _quiet_prefect()
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
