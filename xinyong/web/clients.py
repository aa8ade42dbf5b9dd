"""The client's address behind trusted reverse proxies (issue 11: rate limits and the audit
log's source must be the client's, not the proxy's).

``X-Forwarded-For`` is honoured only when the connection comes from an address listed in
``XINYONG_TRUSTED_PROXIES`` (addresses or networks, comma-separated); anyone else could write
whatever they like into it and pick their own rate-limit bucket. The header is read from the
right — each proxy appends the address it received the request from — skipping trusted
proxies; the first address that is not one is the client. A malformed entry stops the walk at
the last trusted hop, whose address is then used.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from fastapi import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(setting: str) -> tuple[Network, ...]:
    """``XINYONG_TRUSTED_PROXIES`` parsed; a wrong entry fails loudly at the first request."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False)
        for part in setting.split(",")
        if part.strip()
    )


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: Request) -> str:
    peer = request.client.host if request.client else "unknown"
    networks = trusted_networks(request.app.state.settings.trusted_proxies)
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
    client = peer
    for hop in reversed([h for h in hops if h]):
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            return client
        if not _trusted(address, networks):
            return address
        client = address
    return client
