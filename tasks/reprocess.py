"""Re-extracting stored raw pages (after an extractor upgrade) without fetching them again."""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime

from tasks.pages import BatchResult, BatchSummary, FetchItem, article_row, extraction_pool
from wirecopy.settings import Settings


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
    from tasks.extract import ExtractionError, extract_article

    try:
        article = extract_article(zlib.decompress(body_zlib), url, feed_title=feed_title,
                                  feed_published_at=feed_published_at)
    except ExtractionError as exc:
        return None, str(exc)
    return article.__dict__.copy(), None


def reextract(pages: list[StoredPage], settings: Settings) -> BatchResult:
    """New `articles` rows for stored pages; pages that no longer extract keep their old row."""
    pool = extraction_pool(settings.extract_workers)
    args = [(p.body_zlib, p.item.url, p.item.feed_title, p.item.feed_published_at) for p in pages]
    results = pool.map(reextract_page, *zip(*args)) if pool and args else [reextract_page(*a) for a in args]
    rows: list[dict] = []
    summary = BatchSummary()
    for page, (article, error) in zip(pages, results):
        if article is None:
            summary.pages_failed += 1
            summary.errors["extract"] = summary.errors.get("extract", 0) + 1
            continue
        rows.append(article_row(page.item, article, page.fetched_at))
        summary.articles += 1
    return BatchResult({"articles": rows}, summary)
