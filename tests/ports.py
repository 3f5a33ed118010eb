"""Free TCP ports on loopback for the servers tests start."""

import socket


def free_port() -> int:
    """A port nothing listens on right now (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
