"""Abstract Unix sockets under Landlock: walled off by default, reachable for the ncu target only
inside a network namespace, which walls them in instead.

A listener in this (test) process stands for a host daemon, or for ncu watching its target.
"""

from __future__ import annotations

import errno
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from evaluator.sandbox.isolation import detect_isolation

ISOLATION = detect_isolation()
pytestmark = pytest.mark.skipif(ISOLATION.landlock_abi < 6, reason="Landlock scoping needs ABI 6")

CONNECT = """
import socket, sys
from evaluator.sandbox import landlock
landlock.restrict([sys.argv[1]], scope_abstract_sockets=sys.argv[2] == "scoped")
client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    client.connect("\\0" + sys.argv[3])
except OSError as exc:
    print("refused", exc.errno)
else:
    print("connected")
"""


@pytest.fixture
def listener() -> Iterator[str]:
    name = f"crucible-test-{uuid.uuid4().hex}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind("\0" + name)
    server.listen(4)
    yield name
    server.close()


def attempt(tmp_path: Path, mode: str, name: str, wrap: bool = False) -> str:
    command = [sys.executable, "-c", CONNECT, str(tmp_path), mode, name]
    if wrap:
        command = ISOLATION.wrap(command)
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_candidate_cannot_reach_abstract_sockets_outside_its_domain(tmp_path: Path, listener: str) -> None:
    assert attempt(tmp_path, "scoped", listener) == f"refused {errno.EPERM}", "Landlock refuses it"


def test_without_scoping_the_socket_is_reachable_in_the_same_namespace(tmp_path: Path, listener: str) -> None:
    assert attempt(tmp_path, "unscoped", listener) == "connected"


@pytest.mark.skipif(not ISOLATION.network_namespace, reason="no network namespace on this machine")
def test_a_network_namespace_walls_unscoped_sockets_in(tmp_path: Path, listener: str) -> None:
    """Why the ncu target may go unscoped: in its own namespace, the host's sockets do not exist."""
    inside = attempt(tmp_path, "unscoped", listener, wrap=True)
    assert inside == f"refused {errno.ECONNREFUSED}", "the namespace has no such socket"
