"""Where a webhook may be sent: http(s) only, never Cairn itself, never a private,
loopback or link-local address unless the operator allows its network. Checked when a
subscription is made and again at every delivery, on the address actually connected to
(a name that resolves elsewhere later, DNS rebinding, is caught there)."""

from __future__ import annotations

import ipaddress
import socket
import threading
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


def resolve(target: Target, *, timeout_s: float | None = None) -> str:
    """One address of the target's host that may be called, or Refused: the transport
    connects to exactly this address. The name must resolve within `timeout_s` (default
    CAIRN_WEBHOOK_TIMEOUT_S). The refusal names neither the address nor why: whether a
    name resolves, and to what, is not the caller's to learn."""
    timeout_s = settings.CAIRN_WEBHOOK_TIMEOUT_S if timeout_s is None else timeout_s
    for found in _lookup(target.host, target.port, timeout_s):
        address = ipaddress.ip_address(found.split("%")[0])
        if is_allowed(address):
            return str(address)
    raise Refused(f"The host {target.host} does not resolve to an address webhooks may "
                  "call (a public one: private, loopback or link-local networks only where "
                  "the operator allows them).")


def _lookup(host: str, port: int, timeout_s: float) -> list[str]:
    """The host's addresses, [] if it does not resolve in time. getaddrinfo takes no
    timeout: it runs in a thread of its own, left to the resolver's own limit if it
    outlives ours (a name server that answers slowly holds that thread, not the caller)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    found: list[str] = []
    done = threading.Event()

    def run() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            found.extend(str(sockaddr[0]) for *_, sockaddr in infos)
        except (OSError, UnicodeError):
            pass
        finally:
            done.set()

    threading.Thread(target=run, name="webhooks-resolve", daemon=True).start()
    return list(found) if done.wait(timeout_s) else []


def is_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Public addresses, and any in a network the operator allowed. An IPv6 address that
    carries an IPv4 one (mapped, compatible, translated, NAT64, 6to4, Teredo) reaches, or
    is routed towards, that IPv4 address: it is judged by it as well."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = embedded_ipv4(address)
        if embedded and _same_host(address):
            return _allowed(embedded[0])  # the very IPv4 address, written as IPv6
        if address in LOCAL_NAT64:
            # Where it goes is the local translator's choice: only an allowed network.
            return any(address in network for network in allowed_networks())
        return _allowed(address) and all(_allowed(v4) for v4 in embedded)
    return _allowed(address)


#: IPv6 forms that are an IPv4 address itself: mapped (::ffff:a.b.c.d), compatible
#: (::a.b.c.d, deprecated) and translated (::ffff:0:a.b.c.d, SIIT).
_SAME_HOST = (ipaddress.ip_network("::ffff:0:0/96"), ipaddress.ip_network("::/96"),
              ipaddress.ip_network("::ffff:0:0:0/96"))
#: NAT64's well-known prefix (RFC 6052): the last 32 bits are the IPv4 destination.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: NAT64 for local use (RFC 8215): the IPv4 address may sit anywhere after the prefix.
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (none for most)."""
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if _same_host(address):
        # :: and ::1 are the unspecified and loopback addresses, not compatible forms.
        return [] if int(address) <= 1 else [low32]
    if address in NAT64:
        return [low32]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)  # (server, client)
    return []


def _same_host(address: ipaddress.IPv6Address) -> bool:
    return any(address in network for network in _SAME_HOST)


def _allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
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
