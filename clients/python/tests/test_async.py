"""vouch.AsyncClient: the same methods as coroutines, pipelined on one connection."""

from __future__ import annotations

import asyncio
import datetime

import pytest

import vouch
from vouchd_fixture import PASSWORD, Daemon, unique


def test_every_method(daemon: Daemon) -> None:
    async def scenario() -> None:
        async with daemon.async_client() as c:
            await c.ping()
            assert (await c.status()).users >= 1 or True
            name = unique()
            user = await c.create_user(name, PASSWORD, email=f"{name}@example.com")
            assert await c.get_user(name) == await c.get_user(user.id) == await c.get_user(user.uuid)
            assert (await c.list_users(limit=1000)).total >= 1
            assert await c.account_status(name) == "active"
            login = await c.login(name, PASSWORD, token=True)
            assert login.token is not None and (await c.verify_token(login.token)).id == user.id
            await c.revoke_token(login.token)
            with pytest.raises(vouch.InvalidToken):
                await c.verify_token(login.token)
            await c.change_password(name, PASSWORD, "async passphrase 5")
            await c.set_password(user.id, PASSWORD)
            await c.login(name, PASSWORD)
            assert (await c.update_user(user.id, admin=True)).admin
            await c.forgot_password(name)
            await c.reset_password(daemon.hook_token("forgot_password", name), "async reset 6")
            await c.request_verify(name)
            assert (await c.verify_email(daemon.hook_token("request_verify", name))).verified
            issued = await c.issue_token(user.id, "a", datetime.timedelta(hours=1))
            assert (await c.verify_token(issued.token)).username == name
            assert await c.revoke_tokens(user.id) == 1
            assert (await c.unlock_user(user.id)).failed_logins == 0
            await c.delete_user(user.uuid)
            with pytest.raises(vouch.NotFound):
                await c.get_user(user.id)

    asyncio.run(scenario())


def test_100_concurrent_coroutines_share_one_connection(make_daemon) -> None:  # type: ignore[no-untyped-def]
    # 75 password checks from one uid at once: by default one source may have
    # at most login_failures_per_minute (30) of them in progress and
    # worker_queue_per_source (32) waiting; the rest are answered busy
    # (docs/SECURITY.md).  This test is about the client's pipelining, so the
    # daemon lets them all run.
    daemon = make_daemon(worker_queue_per_source="128", login_failures_per_minute="1000")

    async def scenario() -> None:
        async with daemon.async_client(timeout=60) as c:
            names = [unique("co") for _ in range(20)]
            await asyncio.gather(*(c.create_user(n, PASSWORD) for n in names))
            tokens = [t.token for t in await asyncio.gather(*(c.issue_token(n) for n in names))]
            calls = []
            for i in range(100):
                kind = i % 4
                if kind == 0:
                    calls.append(c.login(names[i % 20], PASSWORD))
                elif kind == 1:
                    calls.append(c.verify_token(tokens[i % 20]))
                elif kind == 2:
                    calls.append(c.get_user(names[i % 20]))
                else:
                    calls.append(c.login(names[i % 20], "wrong password"))
            connection = c._connection
            outcomes = await asyncio.gather(*calls, return_exceptions=True)
            assert c._connection is connection  # one connection for all of them
            for i, outcome in enumerate(outcomes):
                expected = names[i % 20]
                if i % 4 == 3:
                    assert isinstance(outcome, vouch.InvalidCredentials), outcome
                elif i % 4 == 0:
                    assert isinstance(outcome, vouch.Login) and outcome.user.username == expected, outcome
                else:
                    assert isinstance(outcome, vouch.User) and outcome.username == expected, outcome
            assert not connection.pending  # every id answered and forgotten

    asyncio.run(scenario())


def test_a_timed_out_call_does_not_disturb_the_others(make_daemon) -> None:  # type: ignore[no-untyped-def]
    d = make_daemon(argon2_memory_kib="262144", argon2_iterations="4", worker_threads="1")
    with d.client(timeout=60) as admin:
        admin.create_user("slow", PASSWORD)

    async def scenario() -> None:
        async with d.async_client(timeout=0.05) as c:
            with pytest.raises(vouch.Timeout):
                await c.login("slow", PASSWORD)
            c.timeout = 30
            await c.ping()  # the same connection; the late login answer is dropped
            await c.get_user("slow")

    asyncio.run(scenario())


def test_cancelled_call_leaves_the_connection_usable(daemon: Daemon) -> None:
    async def scenario() -> None:
        async with daemon.async_client() as c:
            name = unique()
            await c.create_user(name, PASSWORD)
            task = asyncio.ensure_future(c.login(name, PASSWORD))
            await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert (await c.get_user(name)).username == name

    asyncio.run(scenario())


def test_linux_logins_and_an_expired_password(daemon: Daemon) -> None:
    async def scenario() -> None:
        async with daemon.async_client() as c:
            name = unique()
            user = await c.create_user(name, PASSWORD)
            account = await c.set_linux_account(name, login=True, real_name="Async")
            assert account.login and account.uid and account.real_name == "Async"
            key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl async@host"
            assert (await c.add_ssh_key(user.id, key)).ssh_keys == [key]
            assert (await c.remove_ssh_key(user.id, key)).ssh_keys == []
            assert (await c.get_linux_account(user.uuid)) == await c.get_linux_account(name)
            assert (await c.set_password_aging(user.id, max_age=datetime.timedelta(days=30), expire=True)).must_change_password
            with pytest.raises(vouch.PasswordExpired):
                await c.login(name, PASSWORD)
            await c.change_password(name, PASSWORD, "async passphrase 8")
            assert (await c.login(name, "async passphrase 8")).user.id == user.id
            assert (await c.get_linux_account(user.id)).password_max_age == datetime.timedelta(days=30)

    asyncio.run(scenario())
