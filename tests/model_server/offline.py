"""Run a command with no network but loopback: ``python tests/model_server/offline.py CMD...``.

It enters a new network namespace (root, or a user allowed to) where only ``lo`` exists, brings
``lo`` up so the scripted model on 127.0.0.1 is reachable, and execs the command there: an agent
CLI that ignored every proxy and opt-out variable still could not reach anything outside. Where
no namespace can be made it says so and runs the command as it is; the egress recorder's check
in the tests (proxied attempts) still holds there.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
import sys

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def enter_network_namespace() -> str | None:
    """None when the process is now in a namespace of its own with ``lo`` up, else why not."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        return os.strerror(ctypes.get_errno())
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(probe, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(probe, SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | IFF_UP))
    return None


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("usage: offline.py COMMAND [ARG...]")
    refused = enter_network_namespace()
    if refused:
        print(f"offline.py: no network namespace ({refused}); running with the network as it is", file=sys.stderr)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
