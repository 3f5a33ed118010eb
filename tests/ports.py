"""Free TCP ports on loopback for the servers tests start."""

import random
import socket
from pathlib import Path

# Linux's default when /proc does not say (net.ipv4.ip_local_port_range).
EPHEMERAL_DEFAULT = (32768, 60999)


def free_port() -> int:
    """A port nothing listens on right now (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def restartable_port() -> int:
    """A free port for a server that is stopped and started again on it (a fault run's
    database, broker): below the ephemeral range, so no outgoing connection takes it in
    between (see free_ports_with_grpc)."""
    low, _ = ephemeral_range()
    while True:
        port = random.randrange(10000, low) if low > 11000 else free_port()
        if _free(port):
            return port


def ephemeral_range() -> tuple[int, int]:
    """The ports the kernel hands to outgoing connections."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return EPHEMERAL_DEFAULT


def free_ports_with_grpc(count: int, *, below: int = 55000) -> list[int]:
    """`count` ports that are free together with each port + 10000, all below `below`:
    SeaweedFS binds its gRPC listener at port + 10000, which must stay a valid port.

    They come from below the ephemeral range where it leaves room (port + 10000 under its
    start): a server stopped for a fault test is started again on the same ports, and in
    between any outgoing connection (the database's, the store client's own retries) may
    be handed a port from that range, and the restart then fails to bind."""
    low, _ = ephemeral_range()
    start, end = (10000, low - 10000) if low - 10000 > 10000 + 4 * count else (20000, below)
    found: list[int] = []
    while len(found) < count:
        port = random.randrange(start, min(end, below))
        taken = {*found, *(p + 10000 for p in found)}
        if {port, port + 10000} & taken or not (_free(port) and _free(port + 10000)):
            continue
        found.append(port)
    return found


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
