"""The address classifier, checked through a stub resolver: no connection is ever made."""
from __future__ import annotations

import ipaddress

import pytest

from tasks.netguard import RefusedAddress, check_addresses, is_public_address


def stub(mapping: dict[str, list[str]]):
    def resolve(host: str, port: int) -> list[str]:
        if host not in mapping:
            raise OSError(f"stub resolver: unknown host {host}")
        return mapping[host]
    return resolve


@pytest.mark.parametrize("address", [
    "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "127.0.0.2", "0.0.0.0", "100.64.0.1",
    "198.18.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "fe80::1", "fc00::1",
    "::ffff:10.0.0.1", "::ffff:127.0.0.1", "2002:0a00:0001::1",
])
def test_internal_and_reserved_addresses_are_not_public(address):
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_global_unicast_addresses_are_public(address):
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("name,address", [
    ("intranet.example", "10.0.0.5"), ("metadata.example", "169.254.169.254"),
    ("router.example", "192.168.0.1"), ("cgnat.example", "100.64.1.1"), ("v6.example", "fd12::5"),
])
def test_hostnames_resolving_to_private_ranges_are_refused(name, address):
    with pytest.raises(RefusedAddress, match=address):
        check_addresses(name, 80, allowed=frozenset(), allow_private=False,
                        resolver=stub({name: [address]}))


def test_one_private_address_among_public_ones_is_enough_to_refuse():
    resolver = stub({"mixed.example": ["93.184.216.34", "10.0.0.1"]})
    with pytest.raises(RefusedAddress):
        check_addresses("mixed.example", 80, allowed=frozenset(), allow_private=False, resolver=resolver)


def test_public_hostnames_pass_and_return_the_addresses_to_dial():
    resolver = stub({"news.example": ["93.184.216.34"]})
    assert check_addresses("news.example", 443, allowed=frozenset(), allow_private=False,
                           resolver=resolver) == [ipaddress.ip_address("93.184.216.34")]


def test_the_feeds_own_private_host_is_allowed_and_others_are_not():
    feed_host = frozenset({ipaddress.ip_address("10.0.0.5")})
    resolver = stub({"intranet.example": ["10.0.0.5"], "other.example": ["10.0.0.6"]})
    assert check_addresses("intranet.example", 80, allowed=feed_host, allow_private=False, resolver=resolver)
    with pytest.raises(RefusedAddress):
        check_addresses("other.example", 80, allowed=feed_host, allow_private=False, resolver=resolver)


def test_the_private_networks_switch_allows_everything():
    resolver = stub({"intranet.example": ["10.0.0.5"]})
    assert check_addresses("intranet.example", 80, allowed=frozenset(), allow_private=True, resolver=resolver)


@pytest.mark.parametrize("literal", ["2130706434", "0x7f000002", "127.1", "[::1]"])
def test_ip_literal_spellings_resolve_to_loopback_and_are_refused(literal):
    from tasks.netguard import system_resolver

    with pytest.raises(RefusedAddress):
        check_addresses(literal, 80, allowed=frozenset(), allow_private=False, resolver=system_resolver)
