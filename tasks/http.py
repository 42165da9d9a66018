"""Bounded HTTP fetching: timeouts, a total time bound, size limits that hold through gzip,
manual redirects (each hop checked), for feeds and pages alike."""
from __future__ import annotations

import asyncio
import email.utils
import ssl
import zlib
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import httpx

from tasks.core.errors import FetchFailed
from tasks.core.kinds import ErrorKind
from tasks.core.settings import Settings
from tasks.netguard import GuardedBackend, RefusedAddress, allow_host_of
from tasks.urls import ALLOWED_SCHEMES

REDIRECT_CODES = {301, 302, 303, 307, 308}
PERMANENT_REDIRECTS = {301, 308}


@dataclass
class HttpResult:
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes = b""
    redirects: list[tuple[int, str]] = field(default_factory=list)

    @property
    def moved_permanently_to(self) -> str | None:
        """Where every hop was permanent, the URL the caller should store instead."""
        if self.redirects and all(code in PERMANENT_REDIRECTS for code, _ in self.redirects):
            return self.final_url
        return None


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: building one loads the CA bundle (~30 ms of CPU),
    and a run makes a client per batch of pages."""
    return httpx.create_ssl_context()


def make_client(settings: Settings, *, max_connections: int = 32) -> httpx.AsyncClient:
    """An AsyncClient whose every connection goes through the address guard."""
    transport = httpx.AsyncHTTPTransport(
        verify=_tls_context(),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        retries=0,
    )
    # httpx does not expose httpcore's network_backend; wrap the pool's backend in place.
    pool = transport._pool
    pool._network_backend = GuardedBackend(pool._network_backend,
                                           allow_private=settings.allow_private_networks)
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(connect=settings.connect_timeout, read=settings.read_timeout,
                              write=settings.read_timeout, pool=settings.total_timeout),
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        follow_redirects=False,
        trust_env=False,
    )


class BoundedDecoder:
    """Content-Encoding decoder that never inflates more than `limit` bytes (gzip bombs)."""

    def __init__(self, encoding: str, limit: int) -> None:
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._z = None
        elif encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj(zlib.MAX_WBITS)
            self._raw_fallback = True
        else:
            raise FetchFailed(ErrorKind.BAD_ENCODING, f"unsupported Content-Encoding {encoding!r}")
        self._limit = limit
        self._size = 0
        self._first = True

    def _grow(self, n: int) -> None:
        self._size += n
        if self._size > self._limit:
            raise FetchFailed(ErrorKind.TOO_LARGE, f"response larger than {self._limit} bytes once decoded")

    def feed(self, chunk: bytes) -> bytes:
        if self._z is None:
            self._grow(len(chunk))
            return chunk
        out = []
        data = chunk
        while data:
            try:
                piece = self._z.decompress(data, self._limit - self._size + 1)
            except zlib.error as exc:
                if self._first and getattr(self, "_raw_fallback", False):
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send
                    self._first = False
                    continue
                raise FetchFailed(ErrorKind.BAD_ENCODING, f"corrupt compressed body: {exc}") from None
            self._first = False
            self._grow(len(piece))
            out.append(piece)
            data = self._z.unconsumed_tail
        return b"".join(out)

    def finish(self) -> bytes:
        if self._z is None:
            return b""
        tail = self._z.flush()
        self._grow(len(tail))
        return tail


async def _read_body(response: httpx.Response, limit: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:  # raw bytes alone are over the limit
        raise FetchFailed(ErrorKind.TOO_LARGE, f"Content-Length {declared} exceeds the limit of {limit} bytes")
    decoder = BoundedDecoder(response.headers.get("content-encoding", ""), limit)
    parts: list[bytes] = []
    raw = 0
    async for chunk in response.aiter_raw():
        raw += len(chunk)
        if raw > limit:  # compressed size alone already over the limit
            raise FetchFailed(ErrorKind.TOO_LARGE, f"response larger than {limit} bytes")
        parts.append(decoder.feed(chunk))
    parts.append(decoder.finish())
    return b"".join(parts)


def _check_scheme(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise FetchFailed(ErrorKind.BAD_SCHEME, f"refused {scheme or 'schemeless'} URL: {url[:200]}")


async def fetch_url(client: httpx.AsyncClient, url: str, settings: Settings, *, max_bytes: int,
                    headers: dict[str, str] | None = None, allowed_host: str | None = None,
                    read_body_for: Container[int] = range(200, 300)) -> HttpResult:
    """GET with redirects followed by hand, each hop scheme- and address-checked, within one time bound.

    `allowed_host` is the configured feed's host: its own addresses may be private (a feed on an
    intranet may link to its own pages), no other private address may be reached.
    """
    try:
        async with asyncio.timeout(settings.total_timeout):
            with allow_host_of(urlsplit(allowed_host or "").hostname if allowed_host else None):
                return await _fetch_following(client, url, settings, max_bytes, headers or {},
                                              read_body_for)
    except TimeoutError:
        raise FetchFailed(ErrorKind.TIMEOUT, f"no complete response within {settings.total_timeout:g}s") from None
    except RefusedAddress as exc:
        raise FetchFailed(ErrorKind.REFUSED, str(exc)) from None
    except httpx.TimeoutException as exc:
        detail = str(exc) or (  # httpx's read and connect timeouts carry no message
            f"no connection within {settings.connect_timeout:g}s" if isinstance(exc, httpx.ConnectTimeout)
            else f"no data for {settings.read_timeout:g}s" if isinstance(exc, httpx.ReadTimeout) else "timed out")
        raise FetchFailed(ErrorKind.TIMEOUT, f"{type(exc).__name__}: {detail}") from None
    except httpx.RemoteProtocolError as exc:
        raise FetchFailed(ErrorKind.PROTOCOL, f"connection broke: {exc}") from None
    except httpx.InvalidURL as exc:
        raise FetchFailed(ErrorKind.BAD_URL, str(exc)) from None
    except (httpx.TransportError, OSError) as exc:
        raise FetchFailed(ErrorKind.NETWORK, f"{type(exc).__name__}: {exc}") from None


async def _fetch_following(client: httpx.AsyncClient, url: str, settings: Settings, max_bytes: int,
                           headers: dict[str, str], read_body_for: Container[int]) -> HttpResult:
    redirects: list[tuple[int, str]] = []
    seen = {url}
    current = url
    while True:
        _check_scheme(current)
        async with client.stream("GET", current, headers=headers) as response:
            status = response.status_code
            if status in REDIRECT_CODES and "location" in response.headers:
                target = urljoin(current, response.headers["location"])
                if target in seen:
                    raise FetchFailed(ErrorKind.REDIRECT_LOOP, f"redirect loop at {target[:200]}")
                if len(redirects) >= settings.max_redirects:
                    raise FetchFailed(ErrorKind.TOO_MANY_REDIRECTS,
                                      f"more than {settings.max_redirects} redirects from {url[:200]}")
                redirects.append((status, target))
                seen.add(target)
                current = target
                continue
            body = await _read_body(response, max_bytes) if status in read_body_for else b""
            return HttpResult(url=url, final_url=current, status=status,
                              headers={k.lower(): v for k, v in response.headers.items()},
                              body=body, redirects=redirects)


def retry_after(headers: dict[str, str], now: datetime, cap_seconds: float) -> datetime | None:
    """When a 429/503 says to come back: delta-seconds or an HTTP date, capped."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        delay = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        delay = (when - now).total_seconds()
    return now + timedelta(seconds=min(max(delay, 0.0), cap_seconds))
