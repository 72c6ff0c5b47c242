"""Where YooKassa's notifications come from: its published address list.

YooKassa does not sign notifications; the first of the two checks is the
source address (the second is a re-fetch from the API, see the gateway). The
default list is the one YooKassa publishes
(yookassa.ru/developers/using-api/webhooks#ip): six IPv4 entries and the IPv6
network ``2a02:5180::/32``, which holds the four /64 networks of the older SDK.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_TRUSTED_IPS: tuple[str, ...] = (
    "185.71.76.0/27",
    "185.71.77.0/27",
    "77.75.153.0/25",
    "77.75.154.128/25",
    "77.75.156.11/32",
    "77.75.156.35/32",
    "2a02:5180::/32",
)


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """The networks of ``entries`` (addresses or CIDRs).

    Raises:
        ValueError: an entry that is neither (the message names the variable, not the value).

    """
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(
                "YOOKASSA_TRUSTED_IPS must be comma-separated IP addresses or CIDR networks"
            ) from None
    return tuple(networks)


class AddressList:
    """An allow-list of source addresses (IPv4 and IPv6, IPv4-mapped IPv6 read as IPv4)."""

    def __init__(self, networks: Iterable[Network]) -> None:
        self._networks = tuple(networks)
        if not self._networks:
            raise ValueError("YOOKASSA_TRUSTED_IPS must name at least one address")

    def allows(self, address: str | None) -> bool:
        """Whether ``address`` is inside one of the networks (``None`` or junk: no)."""
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == net.version and ip in net for net in self._networks)
