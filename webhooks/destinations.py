"""Where a webhook may be sent: http(s) only, never Cairn itself, never a private,
loopback or link-local address unless the operator allows its network. Checked when a
subscription is made and again at every delivery, on the address actually connected to
(a name that resolves elsewhere later, DNS rebinding, is caught there)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class Refused(ValueError):
    """A URL that may not be called; the message says why, in a sentence."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query string

    @property
    def destination(self) -> str:
        """The circuit breaker's key: scheme, host and port."""
        return f"{self.scheme}://{self.host}:{self.port}"


def parse(url: str, *, own_hosts: tuple[str, ...] = ()) -> Target:
    """The target of a URL, or Refused. `own_hosts` are host[:port] names Cairn answers
    on (the request's own host, when a subscription is made)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("The URL is not a valid URL.") from None
    if parts.scheme not in ("http", "https"):
        raise Refused("Only http and https URLs can receive webhooks.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise Refused("The URL has no host.")
    if parts.username or parts.password:
        raise Refused("The URL may not carry a user name or password.")
    port = port or (443 if parts.scheme == "https" else 80)
    own = {h.lower() for h in own_hosts} | set(_public_names())
    if host in own or f"{host}:{port}" in own:
        raise Refused("A webhook may not call Cairn itself.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=parts.scheme, host=host, port=port, path=path)


def resolve(target: Target) -> str:
    """One address of the target's host that may be called, or Refused: the transport
    connects to exactly this address."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused(f"The host {target.host} does not resolve.") from None
    refused = None
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if is_allowed(address):
            return str(address)
        refused = address
    raise Refused(f"The host {target.host} resolves to {refused}, a private, loopback or "
                  "link-local address; the operator may allow its network with "
                  "CAIRN_WEBHOOK_ALLOW_NETWORKS.")


def is_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Public addresses, and any in a network the operator allowed."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if any(address in network for network in allowed_networks()):
        return True
    return address.is_global and not address.is_multicast


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(cidr, strict=False)
            for cidr in settings.CAIRN_WEBHOOK_ALLOW_NETWORKS]


def _public_names() -> list[str]:
    # ALLOWED_HOSTS names Cairn's own public host names; wildcards, literals and
    # localhost are left to the address rules.
    names = []
    for host in settings.ALLOWED_HOSTS:
        if host.startswith(".") or host == "*" or host in ("localhost", "testserver"):
            continue
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            names.append(host.lower())
    return names
