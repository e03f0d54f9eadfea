"""Reconnecting, threads, timeouts and the reply frame cap."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import vouch
from vouchd_fixture import PASSWORD, Daemon, unique


def test_reconnects_after_the_daemon_restarts(make_daemon) -> None:  # type: ignore[no-untyped-def]
    d = make_daemon()
    with d.client() as c:
        c.create_user("bob", PASSWORD)
        token = c.login("bob", PASSWORD, token=True).token
        assert token is not None
        d.restart()
        assert c.verify_token(token).username == "bob"  # the same Client, a new connection
        d.restart()
        c.login("bob", PASSWORD)


def test_async_reconnects_after_the_daemon_restarts(make_daemon) -> None:  # type: ignore[no-untyped-def]
    d = make_daemon()

    async def scenario() -> None:
        async with d.async_client() as c:
            await c.create_user("bob", PASSWORD)
            d.restart()
            await asyncio.sleep(0.1)
            assert (await c.login("bob", PASSWORD)).user.username == "bob"
            d.restart()
            assert (await c.get_user("bob")).username == "bob"

    asyncio.run(scenario())


def test_reconnects_after_the_idle_timeout(make_daemon) -> None:  # type: ignore[no-untyped-def]
    d = make_daemon(idle_timeout="1s")
    with d.client() as c:
        c.create_user("idle", PASSWORD)
        time.sleep(2.5)  # the daemon closes the idle connection
        c.login("idle", PASSWORD)

    async def scenario() -> None:
        async with d.async_client() as ac:
            await ac.ping()
            await asyncio.sleep(2.5)
            await ac.login("idle", PASSWORD)

    asyncio.run(scenario())


def test_a_request_the_daemon_may_have_received_is_not_sent_again(make_daemon) -> None:  # type: ignore[no-untyped-def]
    # The daemon dies while it hashes a login and a new one starts at once:
    # the login is lost (ConnectionLost), not sent to the new daemon.
    d = make_daemon(argon2_memory_kib="262144", argon2_iterations="6", worker_threads="1")

    def crash_and_start() -> None:
        d.process.send_signal(9)  # type: ignore[union-attr]
        d.process.wait()  # type: ignore[union-attr]
        d.start()

    with d.client(timeout=60) as c:
        c.create_user("carol", PASSWORD)
        crash = threading.Timer(0.3, crash_and_start)
        crash.start()
        with pytest.raises(vouch.ConnectionLost):
            c.login("carol", PASSWORD)
        crash.join()
        assert c.get_user("carol").last_login is None  # no login was carried out


def test_8_threads_share_a_client(daemon: Daemon) -> None:
    with daemon.client(timeout=60) as c:
        names = [unique("th") for _ in range(8)]
        for n in names:
            c.create_user(n, PASSWORD)

        def work(name: str) -> int:
            done = 0
            for _ in range(15):
                token = c.login(name, PASSWORD, token=True).token
                assert token is not None
                assert c.verify_token(token).username == name
                assert c.get_user(name).username == name
                c.revoke_token(token)
                done += 1
            return done

        with ThreadPoolExecutor(8) as pool:
            assert sum(pool.map(work, names)) == 8 * 15


def test_reply_frame_cap(daemon: Daemon) -> None:
    with daemon.client() as c:
        for _ in range(5):
            c.create_user(unique("cap"), PASSWORD)
    with daemon.client(max_reply_bytes=256) as small:
        small.ping()
        with pytest.raises(vouch.ProtocolError, match="cap"):
            small.list_users(limit=1000)
        small.ping()  # a new connection after the refused reply

    async def scenario() -> None:
        async with daemon.async_client(max_reply_bytes=256) as ac:
            await ac.ping()
            with pytest.raises(vouch.ProtocolError, match="cap"):
                await ac.list_users(limit=1000)
            await ac.ping()

    asyncio.run(scenario())


def test_timeout(make_daemon) -> None:  # type: ignore[no-untyped-def]
    d = make_daemon(argon2_memory_kib="262144", argon2_iterations="4", worker_threads="1")
    with d.client(timeout=60) as c:
        c.create_user("slow", PASSWORD)
        c.timeout = 0.05
        with pytest.raises(vouch.Timeout):
            c.login("slow", PASSWORD)
        c.timeout = 30
        c.ping()  # a fresh connection: the late answer is not mistaken for this one
        with pytest.raises(ValueError):
            vouch.Client(d.socket_path, timeout=0)
