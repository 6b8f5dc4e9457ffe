"""Who the client is: the direct peer, or, behind a trusted reverse proxy, the address the proxy saw.

A proxy appends the address of whoever connected to it to ``X-Forwarded-For`` (or adds a ``for=`` to
``Forwarded``, RFC 7239), after whatever the client itself sent. So only the entries added by proxies we
trust can be believed, and they are the right-most ones: walking from the right, skip the addresses of
trusted proxies; the first one that is not is the client. Anything further left was written by the
client and is ignored, and from a peer that is not a trusted proxy the header is ignored altogether
(anyone can send it). Without this, every client behind the proxy shares the proxy's address, and one
attacker's failed logins lock everyone out.

Limits key an IPv6 client by its /64: one host usually holds a whole /64, so counting single addresses
would give it 2**64 fresh buckets.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable, Sequence

from nexus.engine.errors import ConfigError

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
HEADERS = ("x-forwarded-for", "forwarded")
_FOR = re.compile(r'(?:^|;)\s*for\s*=\s*("[^"]*"|[^;,\s]*)', re.IGNORECASE)


def parse_networks(items: Iterable[str], where: str = "gateway.trusted_proxies") -> tuple[Network, ...]:
    """CIDRs or single addresses; raises ConfigError naming the bad entry."""
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError as exc:
            raise ConfigError(f"setting {where}: {item!r} is not an address or a network like 10.0.0.0/8 "
                              f"({exc})") from exc
    return tuple(networks)


def parse_address(text: str) -> Address | None:
    """An address from a header entry or a peer: ``1.2.3.4``, ``[::1]:443``, ``1.2.3.4:80``; else None."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_key(address: str) -> str:
    """What limits count by: the address, or for IPv6 its /64 network."""
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed) if parsed is not None else address


class ClientAddress:
    """Resolves a connection's client address from its peer and headers."""

    def __init__(self, trusted: Sequence[Network] = (), header: str = "x-forwarded-for") -> None:
        header = header.strip().lower()
        if header not in HEADERS:
            raise ConfigError(f"setting gateway.forwarded_header: {header!r} is not one of {', '.join(HEADERS)}")
        self.trusted = tuple(trusted)
        self.header = header

    @classmethod
    def from_settings(cls, trusted_proxies: Iterable[str], header: str) -> ClientAddress:
        return cls(parse_networks(trusted_proxies), header)

    def is_trusted(self, address: Address | None) -> bool:
        return address is not None and any(address in net for net in self.trusted)

    def resolve(self, peer: str, header_values: Sequence[str]) -> str:
        """The client's address. ``header_values``: every value of the configured header, in order."""
        direct = parse_address(peer)
        if not self.trusted or not self.is_trusted(direct):
            return str(direct) if direct is not None else peer
        hops = self._hops(header_values)
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:
                # Only a trusted proxy wrote this far right, and proxies write addresses: misconfigured.
                log.warning("ignoring %s from proxy %s: %r is not an address", self.header, peer, hop)
                return str(direct)
            if not self.is_trusted(address):
                return str(address)
        # Every hop is a trusted proxy (or there is none): the left-most is as close to a client as we have.
        first = parse_address(hops[0]) if hops else None
        return str(first if first is not None else direct)

    def _hops(self, values: Sequence[str]) -> list[str]:
        if self.header == "x-forwarded-for":
            return [hop.strip() for value in values for hop in value.split(",") if hop.strip()]
        hops = []
        for value in values:
            for element in value.split(","):
                match = _FOR.search(element)
                if match is not None:
                    hops.append(match.group(1))
        return hops
