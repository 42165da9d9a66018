"""News sitemaps (Google News `news:` namespace) and sitemap indexes as feeds.

The file parsing is the one `backfill --mode sitemaps` uses (tasks/sitemaps.py). An index is
followed to its children, and a poll reads only the children that can hold new URLs: not those
whose index `lastmod` is older than the news window or unchanged since they were last read, and
each of the others with a conditional GET of its own (a 304 costs no parsing).
"""
from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime
from urllib.parse import urljoin

from tasks.core.errors import FetchFailed
from tasks.core.kinds import ErrorKind, SourceKind
from tasks.core.records import ChildSitemap
from tasks.sitemaps import SitemapEntry, parse_sitemap
from tasks.sources import PollContext, RawEntry, Source, SourceRead, collect_entries, join_problems

MAX_CHILDREN_PER_POLL = 50  # an index of years of archives is read by backfill, not by every poll
CHILD_CONCURRENCY = 4


def _recent(entry: SitemapEntry, since: datetime) -> bool:
    """Could list a new article: dated within the window, or not dated at all."""
    when = entry.published or entry.lastmod
    return when is None or when >= since


class SitemapSource(Source):
    kind = SourceKind.SITEMAP
    accept = "application/xml, text/xml;q=0.9, */*;q=0.5"

    async def read(self, body: bytes, content_type: str | None, ctx: PollContext) -> SourceRead:
        try:
            sitemap = await asyncio.to_thread(parse_sitemap, body, ctx.max_bytes)
        except FetchFailed as exc:
            return SourceRead.unreadable(exc.kind, str(exc))
        if sitemap is None:
            return SourceRead.unreadable(ErrorKind.NOT_A_FEED, "no sitemap urlset or sitemapindex could be read")
        if not sitemap.is_index:
            return self._entries(sitemap.urls, ctx, problems=[], children=[])
        known = {c.sitemap_url: c for c in ctx.children}
        listed = []
        for entry in sitemap.children:
            url = urljoin(ctx.feed_url, entry.loc)
            before = known.get(url) or ChildSitemap(sitemap_url=url, listed_at=ctx.now)
            listed.append(replace(before, listed_at=ctx.now, index_lastmod=entry.lastmod))
        return await self._read_children(list({c.sitemap_url: c for c in listed}.values()), ctx)

    async def unchanged(self, ctx: PollContext) -> SourceRead:
        """The index answered 304: its children may still have changed, each is asked as on a 200."""
        if not ctx.children:
            return SourceRead(entries=[])
        return await self._read_children(ctx.children, ctx)

    async def _read_children(self, children: list[ChildSitemap], ctx: PollContext) -> SourceRead:
        since = ctx.now - ctx.recent
        due = [c for c in children
               if not (c.index_lastmod is not None and c.index_lastmod < since)
               and not (c.index_lastmod is not None and c.read_lastmod is not None
                        and c.index_lastmod <= c.read_lastmod)]
        due.sort(key=lambda c: (c.index_lastmod is None, -(c.index_lastmod.timestamp() if c.index_lastmod else 0)))
        problems: list[str] = []
        if len(due) > MAX_CHILDREN_PER_POLL:
            problems.append(f"index lists {len(due)} recent child sitemaps; read the newest {MAX_CHILDREN_PER_POLL}")
            due = due[:MAX_CHILDREN_PER_POLL]
        limit = asyncio.Semaphore(CHILD_CONCURRENCY)

        async def one(child: ChildSitemap) -> tuple[ChildSitemap, list[SitemapEntry], str | None]:
            headers = {"Accept": self.accept}
            if child.etag:
                headers["If-None-Match"] = child.etag
            if child.last_modified:
                headers["If-Modified-Since"] = child.last_modified
            async with limit:
                try:
                    response = await ctx.fetch(child.sitemap_url, headers)
                except FetchFailed as exc:
                    failed = replace(child, last_polled_at=ctx.now, last_status=exc.kind)
                    return failed, [], f"{child.sitemap_url}: {exc}"
            polled = replace(child, last_polled_at=ctx.now, last_status=str(response.status))
            if response.status == 304:
                return replace(polled, read_lastmod=child.index_lastmod), [], None
            if response.status != 200:
                return polled, [], f"{child.sitemap_url}: HTTP {response.status}"
            try:
                sitemap = await asyncio.to_thread(parse_sitemap, response.body, ctx.max_bytes)
            except FetchFailed as exc:
                return replace(polled, last_status=exc.kind), [], f"{child.sitemap_url}: {exc}"
            if sitemap is None or sitemap.is_index:
                what = "a nested index (not followed)" if sitemap else "not a sitemap"
                return replace(polled, last_status=ErrorKind.NOT_A_FEED), [], f"{child.sitemap_url}: {what}"
            read = replace(polled, read_lastmod=child.index_lastmod, etag=response.headers.get("etag") or None,
                           last_modified=response.headers.get("last-modified") or None)
            return read, [replace(u, loc=urljoin(child.sitemap_url, u.loc)) for u in sitemap.urls], None

        results = await asyncio.gather(*(one(c) for c in due))
        updated = {c.sitemap_url: c for c, _, _ in results}
        urls = [u for _, found, _ in results for u in found]
        problems += [p for _, _, p in results if p]
        return self._entries(urls, ctx, problems=problems,
                             children=[updated.get(c.sitemap_url, c) for c in children])

    @staticmethod
    def _entries(urls: list[SitemapEntry], ctx: PollContext, *, problems: list[str],
                 children: list[ChildSitemap]) -> SourceRead:
        since = ctx.now - ctx.recent
        recent = [u for u in urls if _recent(u, since)]
        raw = (RawEntry(entry_id=None, link=u.loc, title=u.title, published_at=u.published)
               for u in recent[:ctx.max_entries])
        entries, notes = collect_entries(raw, total=len(recent), feed_url=ctx.feed_url, outlet=ctx.outlet,
                                         max_entries=ctx.max_entries, now=ctx.now)
        return SourceRead(entries=entries, problem=join_problems(*problems, *notes), children=children)
