"""Bounds checked without a pipeline run: the gzip decoder's memory bound, measured exactly, and
the address classifier against hostnames resolving to internal ranges, through a stub resolver,
without any connection (tests/test_netguard.py has the basic ranges; these are the ones missing).
"""
from __future__ import annotations

import asyncio
import ipaddress
import time
import tracemalloc

import pytest
from hostile_kit import MiB, gzip_bomb_layers

from tasks.core.errors import FetchFailed
from tasks.http import BoundedDecoder
from tasks.netguard import GuardedBackend, RefusedAddress, check_addresses, is_public_address


def test_gzip_bomb_never_inflates_past_the_limit(hostile_case):
    outer, inner = gzip_bomb_layers()
    limit = 1 * MiB
    decoder = BoundedDecoder("gzip", limit)
    tracemalloc.start()
    started = time.monotonic()
    decoded = 0
    try:
        with pytest.raises(FetchFailed) as err:
            for i in range(0, len(inner), 64 * 1024):  # as the network delivers it
                decoded += len(decoder.feed(inner[i:i + 64 * 1024]))
            decoder.finish()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    seconds = time.monotonic() - started
    hostile_case("gzip bomb through the decoder (1 MiB -> 1 GiB, limit 1 MiB)",
                 f"{err.value.kind} after {decoder._size / MiB:.2f} MiB inflated; peak Python allocation "
                 f"{peak / MiB:.1f} MiB", seconds, peak / MiB)
    assert err.value.kind == "too_large"
    assert decoded <= limit, "never more than the limit handed out"
    assert peak < 4 * limit, "inflated at most limit + 1 bytes, never the bomb's 1 GiB"
    assert seconds < 2


def test_nested_encodings_are_refused_before_any_inflation(hostile_case):
    outer, _ = gzip_bomb_layers()
    with pytest.raises(FetchFailed) as err:
        BoundedDecoder("gzip, gzip", 1 * MiB)
    hostile_case("gzip bomb nested (Content-Encoding: gzip, gzip; 1.8 KiB -> 1 GiB)",
                 f"{err.value.kind}: {err.value}", 0.0, None)
    assert err.value.kind == "bad_encoding" and len(outer) < 2048


def stub(mapping: dict[str, list[str]]):
    def resolve(host: str, port: int) -> list[str]:
        if host not in mapping:
            raise OSError(f"stub resolver: unknown host {host}")
        return mapping[host]
    return resolve


# Hostnames an attacker's DNS may answer with internal addresses; none of these is ever dialled.
INTERNAL_ANSWERS = {
    "ten.example": "10.255.0.1",                  # 10.0.0.0/8
    "private172.example": "172.31.4.5",           # 172.16.0.0/12
    "loopback-name.example": "127.0.0.1",         # a public-looking name for loopback
    "loopback2.example": "127.53.0.2",            # the rest of 127.0.0.0/8
    "zero.example": "0.0.0.0",                    # "this host"
    "linklocal.example": "169.254.1.1",           # 169.254.0.0/16
    "v6-linklocal.example": "fe80::1",            # fe80::/10
    "v6-uniquelocal.example": "fd00:ec2::254",    # fc00::/7 (a cloud metadata service)
    "v6-loopback.example": "::1",
    "v6-mapped.example": "::ffff:192.168.1.1",    # IPv4-mapped private
    "nat64-private.example": "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "nat64-loopback.example": "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "nat64-local-use.example": "64:ff9b:1::a00:1",  # RFC 8215 local-use NAT64
    "v4-compatible.example": "::7f00:1",          # deprecated IPv4-compatible ::127.0.0.1
    "site-local.example": "fec0::1",              # deprecated site-local
    "sixtofour-private.example": "2002:c0a8:0101::1",  # 6to4 of 192.168.1.1
    "teredo.example": "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "multicast.example": "224.0.0.251",
    "broadcast.example": "255.255.255.255",
    "cgnat.example": "100.100.100.200",           # 100.64.0.0/10 (another metadata address)
    "benchmark.example": "198.18.0.1",
    "documentation.example": "192.0.2.1",
}


@pytest.mark.parametrize("name", list(INTERNAL_ANSWERS))
def test_hostnames_resolving_to_internal_addresses_are_refused(name):
    address = INTERNAL_ANSWERS[name]
    with pytest.raises(RefusedAddress, match="not a public address"):
        check_addresses(name, 443, allowed=frozenset(), allow_private=False,
                        resolver=stub({name: [address]}))


def test_classifier_table(hostile_case):
    refused = 0
    for name, address in INTERNAL_ANSWERS.items():
        try:
            check_addresses(name, 443, allowed=frozenset(), allow_private=False, resolver=stub({name: [address]}))
        except RefusedAddress:
            refused += 1
    hostile_case(f"hostnames resolving to {len(INTERNAL_ANSWERS)} internal ranges (stub resolver)",
                 f"{refused}/{len(INTERNAL_ANSWERS)} refused, no connection attempted", 0.0, None)
    assert refused == len(INTERNAL_ANSWERS)


@pytest.mark.parametrize("address", ["64:ff9b::5db8:d822", "2a00:1450:4001:80b::200e", "93.184.216.34"])
def test_public_destinations_still_pass(address):
    """NAT64 of a public IPv4 address (IPv6-only networks with DNS64) stays reachable."""
    assert is_public_address(ipaddress.ip_address(address))


class _RecordingBackend:
    """Stands in for the real network: records what would have been dialled."""

    def __init__(self) -> None:
        self.dialled: list[tuple[str, int]] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.dialled.append((host, port))
        raise AssertionError("the guard let a connection through")


def test_guarded_backend_refuses_before_dialling_and_dials_only_checked_addresses(hostile_case):
    """The connect-time guard: a name resolving to an internal address is refused with nothing
    dialled; a name whose answer mixes public and internal is refused whole (no DNS rebinding)."""
    inner = _RecordingBackend()
    resolver = stub({"metadata.example": ["169.254.169.254"],
                     "rebind.example": ["93.184.216.34", "10.0.0.1"],
                     "public.example": ["93.184.216.34"]})
    backend = GuardedBackend(inner, allow_private=False, resolver=resolver)

    async def attempt(host: str) -> str:
        try:
            await backend.connect_tcp(host, 80, timeout=1)
        except RefusedAddress as exc:
            return f"refused: {exc}"
        except AssertionError:
            return "dialled"
        return "connected"

    async def go():
        return [await attempt(h) for h in ("metadata.example", "rebind.example", "public.example")]

    outcomes = asyncio.run(go())
    hostile_case("hostname -> 169.254.169.254 / mixed public+10.0.0.1, at connect time (stub resolver)",
                 "refused before dialling; only the checked public address would be dialled", 0.0, None)
    assert outcomes[0].startswith("refused") and "169.254.169.254" in outcomes[0]
    assert outcomes[1].startswith("refused") and "10.0.0.1" in outcomes[1]
    assert outcomes[2] == "dialled"
    assert inner.dialled == [("93.184.216.34", 80)], "the address checked is the address dialled"

