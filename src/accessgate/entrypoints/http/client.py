"""The client address of a request, honouring ``X-Forwarded-For`` only from trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from litestar.connection import ASGIConnection

from accessgate.config import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(entries: Iterable[str]) -> tuple[Network, ...]:
    """Parse ``TRUSTED_PROXIES`` entries (IPs or CIDRs); raises ConfigError naming it."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ConfigError(
                "TRUSTED_PROXIES must be comma-separated IP addresses or CIDR networks"
            ) from None
    return tuple(networks)


class ClientAddress:
    """Finds the address of the client that made a request.

    The peer of the connection is the client unless it is a trusted proxy; then
    ``X-Forwarded-For`` is read from the right, skipping trusted proxies, and
    the first other address is the client. Without trusted proxies the header
    is ignored, so a client cannot pick its own rate-limit key.
    """

    def __init__(self, trusted: tuple[Network, ...]) -> None:
        self._trusted = trusted

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._trusted)

    def __call__(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        """The client address of ``connection`` (``"unknown"`` when there is none)."""
        peer = connection.client.host if connection.client else "unknown"
        if not self._trusted or not self._is_trusted(peer):
            return peer
        forwarded = connection.headers.getall("x-forwarded-for", [])
        hops = [h.strip() for value in forwarded for h in value.split(",") if h.strip()]
        for hop in reversed(hops[-32:]):
            if not self._is_trusted(hop):
                try:
                    return str(ipaddress.ip_address(hop))
                except ValueError:
                    return peer
        return peer
