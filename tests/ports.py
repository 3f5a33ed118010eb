"""Free TCP ports on loopback for the servers tests start."""

import random
import socket


def free_port() -> int:
    """A port nothing listens on right now (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_ports_with_grpc(count: int, *, below: int = 55000) -> list[int]:
    """`count` ports that are free together with each port + 10000, all below `below`:
    SeaweedFS binds its gRPC listener at port + 10000, which must stay a valid port."""
    found: list[int] = []
    while len(found) < count:
        port = random.randrange(20000, below)
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
