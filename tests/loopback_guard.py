"""Fail any connection off loopback: tests and benchmarks talk only to 127.0.0.0/8 and ::1."""
from __future__ import annotations

import ipaddress
import socket

violations: list[str] = []
_installed = False


def _check(sock: socket.socket, address: object) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    host = str(address[0]) if isinstance(address, tuple) else str(address)
    try:
        ok = ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        ok = host == "localhost"
    if not ok:
        message = f"connection to {host} attempted: only loopback addresses are allowed in tests"
        violations.append(message)
        raise ConnectionRefusedError(message)


def install() -> None:
    global _installed
    if _installed:
        return
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guarded_connect(self: socket.socket, address: object) -> None:
        _check(self, address)
        return connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: object) -> int:
        _check(self, address)
        return connect_ex(self, address)

    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]
    _installed = True
