"""Finding an outlet's article URLs for a date range in its sitemaps and news sitemaps."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from urllib.parse import urljoin, urlsplit

from lxml import etree
from protego import Protego

from tasks.core.errors import FetchFailed
from tasks.core.records import FeedConfig, FetchItem
from tasks.core.settings import Settings
from tasks.http import BoundedDecoder, fetch_url, make_client
from tasks.urls import BadURL, canonicalize_url

MAX_SITEMAPS_PER_OUTLET = 500
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True,
                          remove_comments=True)


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    lastmod: datetime | None = None
    published: datetime | None = None  # news:publication_date
    title: str | None = None  # news:title

    @property
    def when(self) -> datetime | None:
        return self.published or self.lastmod


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _parse_date(text: str | None) -> datetime | None:
    if not text:
        return None
    text = text.strip().replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


@dataclass
class Sitemap:
    """A parsed sitemap file: a urlset's article entries, or a sitemapindex's child sitemaps."""

    is_index: bool
    urls: list[SitemapEntry]
    children: list[SitemapEntry]


def parse_sitemap(body: bytes, limit: int) -> Sitemap | None:
    """A urlset or a sitemapindex, or None when the body is neither; gzip files are inflated within `limit`."""
    if body[:2] == b"\x1f\x8b":
        decoder = BoundedDecoder("gzip", limit)
        body = decoder.feed(body) + decoder.finish()
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        return None
    if root is None or _local(root.tag) not in ("urlset", "sitemapindex"):
        return None
    is_index = _local(root.tag) == "sitemapindex"
    urls: list[SitemapEntry] = []
    children: list[SitemapEntry] = []
    for node in root:
        fields: dict[str, str] = {}
        for child in node.iter():
            name = _local(child.tag)
            if name and child.text and name not in fields:
                fields[name] = child.text.strip()
        loc = fields.get("loc")
        if not loc:
            continue
        entry = SitemapEntry(loc=loc, lastmod=_parse_date(fields.get("lastmod")),
                             published=_parse_date(fields.get("publication_date")), title=fields.get("title"))
        (children if is_index else urls).append(entry)
    return Sitemap(is_index=is_index, urls=urls, children=children)


async def _sitemap_roots(client, feed: FeedConfig, settings: Settings) -> list[str]:
    """Sitemaps named in feeds.toml (`sitemaps = [...]`), else robots.txt's, else /sitemap.xml."""
    configured = feed.extra.get("sitemaps") or []
    if configured:
        return [urljoin(feed.url, s) for s in configured]
    parts = urlsplit(feed.url)
    origin = f"{parts.scheme}://{parts.netloc}"
    try:
        robots = await fetch_url(client, origin + "/robots.txt", settings, max_bytes=512 * 1024,
                                 allowed_host=feed.url)
        if robots.status == 200:
            found = list(Protego.parse(robots.body.decode("utf-8", "replace")).sitemaps)
            if found:
                return [urljoin(origin, s) for s in found]
    except FetchFailed:
        pass
    return [origin + "/sitemap.xml"]


def _in_range(when: datetime | None, start: datetime, end: datetime) -> bool:
    return when is not None and start <= when <= end


def day_bounds(since: date, until: date) -> tuple[datetime, datetime]:
    """Whole days in UTC, both ends included."""
    return (datetime.combine(since, time.min, timezone.utc),
            datetime.combine(until, time.max, timezone.utc))


async def _outlet_urls(client, feed: FeedConfig, start: datetime, end: datetime,
                       settings: Settings, errors: list[str]) -> list[FetchItem]:
    queue = await _sitemap_roots(client, feed, settings)
    seen: set[str] = set()
    items: dict[str, FetchItem] = {}
    while queue and len(seen) < MAX_SITEMAPS_PER_OUTLET:
        sitemap = queue.pop(0)
        if sitemap in seen:
            continue
        seen.add(sitemap)
        try:
            response = await fetch_url(client, sitemap, settings, max_bytes=settings.feed_max_bytes,
                                       allowed_host=feed.url)
        except FetchFailed as exc:
            errors.append(f"{sitemap}: {exc}")
            continue
        if response.status != 200:
            errors.append(f"{sitemap}: HTTP {response.status}")
            continue
        try:
            parsed = parse_sitemap(response.body, settings.feed_max_bytes)
        except FetchFailed as exc:
            errors.append(f"{sitemap}: {exc}")
            continue
        if parsed is None:
            continue
        # An index entry whose lastmod predates the range cannot list articles in it.
        queue += [urljoin(sitemap, c.loc) for c in parsed.children if c.lastmod is None or c.lastmod >= start]
        for entry in parsed.urls:
            if not _in_range(entry.when, start, end):
                continue
            try:
                url = canonicalize_url(entry.loc, base=sitemap)
            except BadURL:
                continue
            items.setdefault(url, FetchItem(url=url, feed_url=feed.url, outlet=feed.outlet,
                                            feed_title=entry.title, feed_published_at=entry.published))
    return list(items.values())


def collect_sitemap_urls(feeds: list[FeedConfig], since: date, until: date,
                         settings: Settings) -> tuple[list[FetchItem], list[str]]:
    """Article URLs each outlet's sitemaps date within [since, until], and the sitemaps that failed."""
    start, end = day_bounds(since, until)
    errors: list[str] = []

    async def run() -> list[FetchItem]:
        async with make_client(settings) as client:
            found = await asyncio.gather(*(_outlet_urls(client, f, start, end, settings, errors) for f in feeds))
        return [item for items in found for item in items]

    items = asyncio.run(run()) if feeds else []
    return list({i.url: i for i in items}.values()), errors
