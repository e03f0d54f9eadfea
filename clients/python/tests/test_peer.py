"""The client checks who serves the socket before it sends anything."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from typing import Iterator

import pytest

import vouch

NOBODY = 65534

# Binds the socket as uid 65534, accepts one connection and prints how many
# bytes the client sent before it hung up.
IMPOSTOR = """
import os, socket, sys
os.setgid(65534); os.setuid(65534)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(8)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    got = b""
    while True:
        chunk = c.recv(4096)
        if not chunk:
            break
        got += chunk
    print(len(got), flush=True)
    c.close()
"""


@pytest.fixture
def impostor() -> Iterator[tuple[str, "subprocess.Popen[str]"]]:
    if os.geteuid() != 0:
        pytest.skip("serving a socket as another uid needs root")
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)
        path = os.path.join(d, "vouchd.sock")
        p = subprocess.Popen([sys.executable, "-c", IMPOSTOR, path], stdout=subprocess.PIPE, text=True)
        try:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
            yield path, p
        finally:
            p.kill()
            p.wait()


def test_a_socket_served_by_another_uid_gets_no_password(impostor) -> None:  # type: ignore[no-untyped-def]
    path, p = impostor
    with vouch.Client(path, timeout=2) as c:
        with pytest.raises(vouch.UntrustedServer, match="uid 65534"):
            c.login("alice", "correct horse battery staple")

    async def scenario() -> None:
        async with vouch.AsyncClient(path, timeout=2) as ac:
            with pytest.raises(vouch.UntrustedServer):
                await ac.login("alice", "correct horse battery staple")

    asyncio.run(scenario())
    assert p.stdout is not None
    assert [p.stdout.readline().strip() for _ in range(2)] == ["0", "0"]  # both hung up having sent nothing


def test_server_user_names_whom_to_trust(impostor) -> None:  # type: ignore[no-untyped-def]
    path, p = impostor
    with vouch.Client(path, timeout=0.5, server_user="nobody") as c:
        with pytest.raises(vouch.Timeout):  # trusted: the ping is sent, the impostor never answers
            c.ping()
    assert p.stdout is not None and int(p.stdout.readline()) > 0


def test_an_unknown_server_user_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="no-such-vouch-user"):
        vouch.Client("/nonexistent.sock", server_user="no-such-vouch-user")
