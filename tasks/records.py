"""Records that cross a boundary: between tasks, into staging files, into DuckDB."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class FeedConfig:
    """One `[[feeds]]` entry of feeds.toml."""

    outlet: str
    url: str
    extra: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class ExtractedArticle:
    """What extraction makes of one page: the cleaned body and its metadata."""

    title: str | None
    authors: str | None
    published_at: datetime | None  # timezone-aware, UTC
    text: str  # paragraphs separated by one blank line
    language: str | None
    wire_service: str | None  # 'Reuters', 'AP', 'AFP' or None
    site_name: str | None = None
    description: str | None = None
    page_url: str | None = None  # canonical URL the page declares
    # Cleaning removed every line extraction found: `text` holds what extraction found instead,
    # so the page is still an article (kept, flagged, re-tried by `backfill --mode reprocess`).
    cleaning_emptied: bool = False
