"""The errors that cross a boundary; the CLI maps each to an exit code (wirecopy/cli.py)."""
from __future__ import annotations

from tasks.core.kinds import ErrorKind


class ConfigError(Exception):
    """The run cannot proceed: the feeds file or a setting is unusable."""


class DatabaseBusy(Exception):
    """Another process holds the database (a writer, or a reader while we need to write)."""


class DatabaseError(Exception):
    """The database file cannot be opened or written (path, permissions, disk full, corruption)."""


class LakeError(Exception):
    """The lake cannot be reached or written (catalog server down, disk full, extension missing)."""


class FetchFailed(Exception):
    """A fetch that produced no usable response."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class ExtractionError(Exception):
    """The page holds no article text: not HTML, empty, or nothing trafilatura recognises."""


class ExtractTimeout(Exception):
    """A page's extraction ran past settings.extract_timeout; its worker was stopped."""


class ExtractCrash(Exception):
    """The worker extracting a page died (a crash, or killed for memory), twice: the page is retried later."""
