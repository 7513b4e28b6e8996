"""Whether the server may listen where it was asked to: a network address needs TLS in front.

Passwords, tokens and customers' messages travel in every request. On 127.0.0.1 they never
leave the machine; on any other address they would cross the network in clear text unless a
TLS reverse proxy terminates the connection. The server cannot see TLS that happens in front
of it, so the sign of a proxy is configuration: `trusted_proxies` names it (the VPS installer
sets it with Caddy). Without that, a non-loopback bind needs an explicit `--insecure`.
"""

from __future__ import annotations

import ipaddress

from desktop.config import Settings
from desktop.errors import ConfigError


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and "localhost"; a host name or a wildcard address is not."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings, *, insecure: bool = False) -> None:
    """Refuse (ConfigError) a network bind with no TLS proxy configured, unless `insecure`."""
    if insecure or is_loopback(settings.host) or settings.trusted_proxies.strip():
        return
    raise ConfigError(
        f"refusing to listen on {settings.host}: without TLS in front, passwords, tokens and customers'"
        " messages would cross the network in clear text. Put a TLS reverse proxy in front (installer/vps"
        " sets up Caddy) and set trusted_proxies to its address, or keep host 127.0.0.1. To accept the"
        " risk on a network you trust, pass --insecure."
    )
