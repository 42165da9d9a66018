"""One place for configuration: defaults, then feeds.toml's [settings] table, then WIRECOPY_* env vars."""
from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasks.core.errors import ConfigError
from tasks.core.kinds import SourceKind
from tasks.core.records import FeedConfig

MiB = 1024 * 1024


_DUCKDB_SIZE = re.compile(r"\d+(?:\.\d+)?\s*(?:[KMGT]i?B|B)", re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    feeds_path: Path = Path("feeds.toml")
    db_path: Path = Path("data/wirecopy.duckdb")
    user_agent: str = "wirecopy/0.1 (news research pipeline; RSS reader)"
    allow_private_networks: bool = False
    feed_max_bytes: int = 10 * MiB
    page_max_bytes: int = 5 * MiB
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0  # bound on one fetch, redirects and body included
    max_redirects: int = 5
    max_entries_per_feed: int = 2000
    feed_concurrency: int = 16
    page_concurrency: int = 8  # per batch task; the flow runs two batch tasks at once
    per_host_concurrency: int = 2
    batch_size: int = 50
    extract_workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    extract_timeout: float = 60.0  # bound on extracting one page; a worker past it is stopped (not in thread mode)
    max_page_attempts: int = 4
    backoff_base_seconds: float = 60.0
    backoff_max_seconds: float = 6 * 3600.0
    db_wait_seconds: float = 60.0  # how long a run waits for a busy database
    # DuckDB's cache while writing (it spills to <db>.tmp beyond it); its default, 80% of RAM, let one
    # load of a few thousand pages hold 600 MiB. 1M articles' key indexes need about 50 MB of it.
    db_memory_limit: str = "256MB"
    # Seconds a run waits for Prefect's temporary API server to answer: Prefect's own default bound
    # is shorter than creating its database on a first run takes on a busy machine. A server that
    # crashes is reported at once, so only a hung one waits this long.
    prefect_startup_timeout: int = 300
    # `wirecopy serve` without PREFECT_API_URL: the server it starts, on 127.0.0.1, and its home
    serve_port: int = 4210
    serve_prefect_home: Path = Path("~/.wirecopy/prefect-serve")
    # What analysts open: a DuckLake. Empty catalog: a SQLite file beside the database (one machine);
    # team mode: "postgres:dbname=wirecopy host=... port=5432", with data_path a shared folder or URL.
    catalog: str = ""
    data_path: str = ""
    # Adaptive polling: a feed is asked as often as it publishes, between these two intervals.
    poll_min_seconds: float = 300.0
    poll_max_seconds: float = 24 * 3600.0
    sitemap_recent_days: float = 2.0  # a sitemap entry or child dated earlier holds nothing new (backfill reads it)
    # Politeness for article pages: robots.txt honoured and kept this long per origin; requests to
    # one host start at least this far apart (longer when its Crawl-delay says so).
    respect_robots: bool = True
    robots_cache_seconds: float = 24 * 3600.0
    host_min_interval_seconds: float = 1.0

    @property
    def staging_dir(self) -> Path:
        """Fetched and extracted work waits here until the single writer loads it."""
        return self.db_path.with_name(self.db_path.name + ".staging")

    @property
    def lake_catalog(self) -> str:
        """The DuckLake catalog, as written after `ducklake:` in an ATTACH."""
        if self.catalog:
            return self.catalog
        return f"sqlite:{self.db_path.absolute().with_name(self.db_path.stem + '.lake.sqlite')}"

    @property
    def lake_data_path(self) -> str:
        """Where the published Parquet files go: absolute, since the catalog records it for every reader."""
        if self.data_path:
            return self.data_path if "://" in self.data_path else str(Path(self.data_path).absolute()) + "/"
        return str(self.db_path.absolute().with_name(self.db_path.stem + ".lake")) + "/"

    @property
    def lock_path(self) -> Path:
        return self.db_path.with_name(self.db_path.name + ".lock")


def _coerce(name: str, value: Any, default: object) -> object:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"setting {name}: expected a boolean, got {value!r}")
    try:
        if isinstance(default, Path):
            return Path(str(value))
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name}: expected {type(default).__name__}, got {value!r}") from None
    return str(value)


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"feeds file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read feeds file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"feeds file {path} is not valid TOML: {exc}") from None


def load_settings(feeds_path: str | Path | None = None, db_path: str | Path | None = None,
                  *, read_feeds_file: bool = True) -> Settings:
    """Build settings; explicit arguments win over the environment, which wins over feeds.toml."""
    env = os.environ
    feeds = Path(feeds_path or env.get("WIRECOPY_FEEDS") or Settings.feeds_path)
    values: dict[str, Any] = {}  # checked by _coerce against the defaults' types
    defaults = Settings()
    if read_feeds_file and feeds.exists():
        table = _read_toml(feeds).get("settings", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{feeds}: [settings] must be a table")
        for key, value in table.items():
            if key not in {f.name for f in dataclasses.fields(Settings)} or key == "feeds_path":
                raise ConfigError(f"{feeds}: unknown setting {key!r}")
            values[key] = _coerce(key, value, getattr(defaults, key))
    for f in dataclasses.fields(Settings):
        raw = env.get(f"WIRECOPY_{f.name.upper()}")
        if raw is not None and f.name not in {"feeds_path", "db_path"}:
            values[f.name] = _coerce(f.name, raw, getattr(defaults, f.name))
    values["feeds_path"] = feeds
    values["db_path"] = Path(db_path or env.get("WIRECOPY_DB") or values.get("db_path") or Settings.db_path)
    memory = str(values.get("db_memory_limit", defaults.db_memory_limit))
    if not _DUCKDB_SIZE.fullmatch(memory):
        raise ConfigError(f"setting db_memory_limit: expected a size such as '256MB' or '2GiB', got {memory!r}")
    if int(values.get("prefect_startup_timeout", defaults.prefect_startup_timeout)) < 1:
        raise ConfigError("setting prefect_startup_timeout: expected a number of seconds, at least 1")
    if not 0 < int(values.get("serve_port", defaults.serve_port)) < 65536:
        raise ConfigError("setting serve_port: expected a TCP port, 1 to 65535")
    catalog, data_path = str(values.get("catalog", "")), str(values.get("data_path", ""))
    if catalog and not catalog.startswith(("sqlite:", "postgres:")):
        raise ConfigError("setting catalog: expected 'postgres:<connection string>' or 'sqlite:<file>', "
                          f"got {catalog!r}")
    if catalog.startswith("postgres:") and not data_path:
        raise ConfigError("setting catalog names a PostgreSQL catalog: set data_path (WIRECOPY_DATA_PATH) to "
                          "a folder or object-store URL every machine reaches")
    shortest = float(values.get("poll_min_seconds", defaults.poll_min_seconds))
    longest = float(values.get("poll_max_seconds", defaults.poll_max_seconds))
    if not 0 <= shortest <= longest:
        raise ConfigError(f"settings poll_min_seconds ({shortest:g}) and poll_max_seconds ({longest:g}): "
                          "need 0 <= min <= max")
    return Settings(**values)


def load_feeds(path: Path) -> list[FeedConfig]:
    """Read the [[feeds]] list; a broken file is a clear error, not a half-configured run."""
    data = _read_toml(path)
    entries = data.get("feeds")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: no [[feeds]] entries")
    kinds = [k.value for k in SourceKind]
    feeds: list[FeedConfig] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: feed #{i} is not a table")
        outlet, url = entry.get("outlet"), entry.get("url")
        if not isinstance(outlet, str) or not outlet.strip():
            raise ConfigError(f"{path}: feed #{i} needs an 'outlet' string")
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise ConfigError(f"{path}: feed #{i} ({outlet}) needs an http(s) 'url', got {url!r}")
        if url in seen:
            raise ConfigError(f"{path}: feed {url} is listed twice")
        seen.add(url)
        extra = {k: v for k, v in entry.items() if k not in {"outlet", "url"}}
        if "type" in extra and extra["type"] not in kinds:
            raise ConfigError(f"{path}: feed #{i} ({outlet}) has type {extra['type']!r}; "
                              f"expected one of {', '.join(kinds)} (or no type: detected from the response)")
        feeds.append(FeedConfig(outlet=outlet.strip(), url=url.strip(), extra=extra))
    return feeds
