"""Re-extracting stored raw pages (after an extractor upgrade) without fetching them again."""
from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass
from datetime import datetime

from tasks.core.errors import ExtractCrash, ExtractTimeout
from tasks.core.kinds import ErrorKind
from tasks.core.records import BatchResult, BatchSummary, FetchItem
from tasks.core.settings import Settings
from tasks.extract_pool import article_or_reason, extract_in_pool
from tasks.pages import article_row


@dataclass(frozen=True)
class StoredPage:
    item: FetchItem
    fetched_at: datetime
    body_zlib: bytes


def stored_page(row: tuple) -> StoredPage:
    url, feed_url, outlet, feed_title, feed_published_at, fetched_at, body = row
    return StoredPage(FetchItem(url=url, feed_url=feed_url, outlet=outlet, feed_title=feed_title,
                                feed_published_at=feed_published_at), fetched_at, body)


def reextract_page(body_zlib: bytes, url: str, feed_title: str | None,
                   feed_published_at: datetime | None) -> tuple[dict | None, str | None]:
    """Runs in a worker process."""
    return article_or_reason(zlib.decompress(body_zlib), url, feed_title, feed_published_at)


async def _reextract_all(pages: list[StoredPage], settings: Settings) -> list[tuple[dict | None, ErrorKind, str]]:
    """(article, error kind, error) per page, on the ingest's pool and under its extract_timeout:
    a stored page that hangs or kills the extractor fails alone."""
    async def one(page: StoredPage) -> tuple[dict | None, ErrorKind, str]:
        args = (page.body_zlib, page.item.url, page.item.feed_title, page.item.feed_published_at)
        try:
            article, error = await extract_in_pool(reextract_page, args, settings)
        except ExtractTimeout as exc:
            return None, ErrorKind.EXTRACT_TIMEOUT, str(exc)
        except ExtractCrash as exc:
            return None, ErrorKind.EXTRACT_CRASH, str(exc)
        return article, ErrorKind.EXTRACT, error or ""

    return await asyncio.gather(*(one(p) for p in pages))


def reextract(pages: list[StoredPage], settings: Settings) -> BatchResult:
    """New `articles` rows for stored pages; pages that no longer extract keep their old row."""
    rows: list[dict] = []
    summary = BatchSummary()
    if not pages:
        return BatchResult({"articles": rows}, summary)
    for page, (article, kind, _) in zip(pages, asyncio.run(_reextract_all(pages, settings)), strict=True):
        if article is None:
            summary.pages_failed += 1
            summary.errors[kind] = summary.errors.get(kind, 0) + 1
            continue
        rows.append(article_row(page.item, article, page.fetched_at))
        summary.articles += 1
    return BatchResult({"articles": rows}, summary)
