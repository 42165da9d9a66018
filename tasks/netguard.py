"""Which addresses a fetch may connect to.

Feeds are third-party content: a link or redirect must not make wirecopy read internal services.
The check runs at connect time on the addresses actually dialled, so DNS tricks cannot slip past it.
"""
from __future__ import annotations

import contextvars
import ipaddress
import socket
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Iterable[str]]


class RefusedAddress(Exception):
    """A connection wirecopy will not make (internal or reserved address)."""


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# NAT64 well-known prefix (RFC 6052): the last 32 bits are the IPv4 address the gateway reaches.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# IPv6 global unicast space; Python 3.11 calls some addresses outside it "global" (the deprecated
# IPv4-compatible ::a.b.c.d, site-local fec0::/10, local-use NAT64 64:ff9b:1::/48).
_GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")


def is_public_address(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public_address(ip.ipv4_mapped)
        if ip in _NAT64:
            return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF))
        if ip.sixtofour is not None:
            return is_public_address(ip.sixtofour)
        if ip not in _GLOBAL_UNICAST_V6:
            return False
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int, resolver: Resolver = system_resolver) -> list[IPAddress]:
    """Resolve a URL host (names and every IPv4 literal form, e.g. 2130706434 or 0x7f000002)."""
    host = host.strip("[]")
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        return [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolver(host, port)]
    except (OSError, UnicodeError) as exc:
        raise OSError(f"cannot resolve {host}: {exc}") from exc


def check_addresses(host: str, port: int, *, allowed: frozenset[IPAddress],
                    allow_private: bool, resolver: Resolver = system_resolver) -> list[IPAddress]:
    """Addresses of `host` that may be dialled, or RefusedAddress naming the first bad one."""
    addresses = resolve(host, port, resolver)
    if not addresses:
        raise OSError(f"cannot resolve {host}")
    if allow_private:
        return addresses
    for ip in addresses:
        if not is_public_address(ip) and ip not in allowed:
            raise RefusedAddress(f"refused to connect to {host} ({ip}): not a public address")
    return addresses


# The addresses of the configured feed's host, which a fetch made on its behalf may also reach.
_allowed: contextvars.ContextVar[frozenset[IPAddress]] = contextvars.ContextVar(
    "wirecopy_allowed_addresses", default=frozenset())


@contextmanager
def allow_host_of(url_host: str | None, port: int = 443,
                  resolver: Resolver = system_resolver) -> Iterator[None]:
    """Within this block, the given feed host's own addresses count as allowed."""
    allowed: frozenset[IPAddress] = frozenset()
    if url_host:
        try:
            allowed = frozenset(resolve(url_host, port, resolver))
        except OSError:
            allowed = frozenset()
    token = _allowed.set(allowed)
    try:
        yield
    finally:
        _allowed.reset(token)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend that resolves, checks, then dials the checked address."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend, *, allow_private: bool,
                 resolver: Resolver = system_resolver) -> None:
        self._inner = inner
        self._allow_private = allow_private
        self._resolver = resolver

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options=None):
        import anyio.to_thread

        addresses = await anyio.to_thread.run_sync(
            lambda: check_addresses(host, port, allowed=_allowed.get(),
                                    allow_private=self._allow_private, resolver=self._resolver))
        last_error: Exception | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(str(ip), port, timeout=timeout,
                                                     local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise RefusedAddress("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
