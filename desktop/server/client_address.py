"""Who is asking: a request's client address, and whether it came straight from this computer.

The socket's peer is the client, unless the peer is a configured trusted proxy: only then is
`X-Forwarded-For` read, from the right (the entries a trusted proxy appended) to the first
address that is not itself a trusted proxy. Anyone can send the header; nobody else is believed.
"""

from __future__ import annotations

import ipaddress

from aiohttp import web

from desktop.config import IPNetwork
from desktop.server.keys import SETTINGS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Any of these means a proxy is (or claims to be) in the way.
FORWARDING_HEADERS = ("X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP", "Forwarded")


def _ip(text: str | None) -> IPAddress | None:
    if not text:
        return None
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.split(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped  # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d
    return ip


def _trusted(ip: IPAddress | None, proxies: tuple[IPNetwork, ...]) -> bool:
    return ip is not None and any(ip in net for net in proxies)


def _proxies(request: web.Request) -> tuple[IPNetwork, ...]:
    return request.app[SETTINGS].proxy_networks()


def via_trusted_proxy(request: web.Request) -> bool:
    """The socket's peer is one of the configured trusted proxies."""
    return _trusted(_ip(request.remote), _proxies(request))


def has_forwarding_headers(request: web.Request) -> bool:
    return any(h in request.headers for h in FORWARDING_HEADERS)


def client_address(request: web.Request) -> str:
    """The address rate limits count by (a string; "unknown" when the socket has none)."""
    proxies = _proxies(request)
    peer = _ip(request.remote)
    if peer is None:
        return request.remote or "unknown"
    if not _trusted(peer, proxies):
        return str(peer)
    hops = [h for value in request.headers.getall("X-Forwarded-For", []) for h in value.split(",")]
    client = peer
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            break  # garbage in the chain: the last hop we could read is the best we know
        client = ip
        if not _trusted(ip, proxies):
            break
    return str(client)


def direct_from_this_computer(request: web.Request) -> bool:
    """A loopback peer that is no proxy, with no forwarding headers: someone at this machine."""
    peer = _ip(request.remote)
    return (
        peer is not None
        and peer.is_loopback
        and not _trusted(peer, _proxies(request))
        and not has_forwarding_headers(request)
    )
