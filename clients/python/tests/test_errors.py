"""Every exception class, each from the daemon situation that causes it."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import textwrap

import pytest

import vouch
from vouchd_fixture import PASSWORD, Daemon, unique


def test_invalid_credentials(client: vouch.Client, user: vouch.User) -> None:
    with pytest.raises(vouch.InvalidCredentials) as e:
        client.login(user.username, "not the password")
    assert e.value.status == 1 and isinstance(e.value, vouch.VouchError)
    with pytest.raises(vouch.InvalidCredentials):
        client.login(unique("ghost"), PASSWORD)


def test_account_inactive(client: vouch.Client) -> None:
    name = unique()
    client.create_user(name, PASSWORD, active=False)
    with pytest.raises(vouch.AccountInactive) as e:
        client.login(name, PASSWORD)
    assert e.value.status == 2


def test_not_found(client: vouch.Client) -> None:
    for ref in (unique("ghost"), 2**62):
        with pytest.raises(vouch.NotFound) as e:
            client.get_user(ref)
        assert e.value.status == 3


def test_already_exists(client: vouch.Client, user: vouch.User) -> None:
    with pytest.raises(vouch.AlreadyExists) as name_taken:
        client.create_user(user.username.upper(), PASSWORD)
    assert isinstance(name_taken.value, vouch.UsernameTaken) and name_taken.value.status == 4
    with pytest.raises(vouch.AlreadyExists) as email_taken:
        client.create_user(unique(), PASSWORD, email=user.email)
    assert isinstance(email_taken.value, vouch.EmailTaken) and email_taken.value.status == 5


def test_password_rejected_says_why(client: vouch.Client, user: vouch.User) -> None:
    with pytest.raises(vouch.PasswordRejected) as e:
        client.change_password(user.username, PASSWORD, "short")
    assert e.value.status == 6 and e.value.reason and e.value.reason == e.value.message
    client.login(user.username, PASSWORD)  # nothing changed


def test_permission_denied_for_a_non_admin_peer(daemon: Daemon, user: vouch.User) -> None:
    run = daemon.as_nobody(
        textwrap.dedent(
            f"""
            import os, vouch
            with vouch.Client(os.environ["SOCKET"]) as c:
                print(c.login({user.username!r}, {PASSWORD!r}).user.username)
                try:
                    c.list_users()
                except vouch.PermissionDenied as e:
                    print("denied", e.status)
            """
        )
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:2] == [user.username, "denied 7"]


def test_invalid_token(client: vouch.Client) -> None:
    for token in ("vch_" + "A" * 43, "garbage", ""):
        with pytest.raises(vouch.InvalidToken) as e:
            client.verify_token(token)
        assert e.value.status == 14


def test_account_locked(make_daemon) -> None:  # type: ignore[no-untyped-def]
    d = make_daemon(lockout_deny="1")
    with d.client() as c:
        name = unique()
        c.create_user(name, PASSWORD)
        with pytest.raises(vouch.InvalidCredentials):
            c.login(name, "wrong password")
        with pytest.raises(vouch.AccountLocked) as e:
            c.login(name, PASSWORD)
        assert e.value.status == 15


def test_rate_limited(make_daemon) -> None:  # type: ignore[no-untyped-def]
    d = make_daemon(login_failures_per_minute="2", lockout_deny="0")
    with d.client() as c:
        c.create_user("rl", PASSWORD)
    # One connection each: on an admin connection a wrong password retried for
    # the same user costs nothing more (pam_vouch's try_first_pass, docs/SECURITY.md).
    for _ in range(2):
        with d.client() as c, pytest.raises(vouch.InvalidCredentials):
            c.login("rl", "wrong password")
    with d.client() as c, pytest.raises(vouch.RateLimited) as e:
        c.login("rl", PASSWORD)
    assert e.value.status == 16


def login_burst(d: Daemon, username: str, count: int) -> list:
    """`count` logins pipelined at once on one connection: their results or exceptions."""

    async def burst() -> list:
        async with d.async_client(timeout=60) as ac:
            return await asyncio.gather(*(ac.login(username, PASSWORD) for _ in range(count)), return_exceptions=True)

    return asyncio.run(burst())


def test_busy(make_daemon) -> None:  # type: ignore[no-untyped-def]
    # One hashing thread, a queue of one and a costly hash: a burst of logins overflows it.
    d = make_daemon(worker_threads="1", worker_queue_limit="1", argon2_memory_kib="65536", argon2_iterations="2")
    with d.client() as c:
        c.create_user("busy", PASSWORD)

    outcomes = login_burst(d, "busy", 20)
    refused = [o for o in outcomes if isinstance(o, vouch.Busy)]
    assert refused and all(o.status == 11 for o in refused)
    assert all(isinstance(o, (vouch.Login, vouch.Busy)) for o in outcomes), outcomes
    assert any(isinstance(o, vouch.Login) for o in outcomes)


def test_storage_unavailable(make_daemon) -> None:  # type: ignore[no-untyped-def]
    d = make_daemon(database_busy_timeout="0")
    with d.client() as c:
        holder = sqlite3.connect(d.database_path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(vouch.StorageUnavailable) as e:
                c.create_user(unique(), PASSWORD)
            assert e.value.status == 18 and "locked" in e.value.message
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        c.create_user(unique(), PASSWORD)  # and it recovers


def test_unavailable_when_nothing_listens(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with vouch.Client(str(tmp_path / "none.sock")) as c:
        with pytest.raises(vouch.Unavailable) as e:
            c.ping()
    assert e.value.status is None and "none.sock" in str(e.value)

    async def ping() -> None:
        async with vouch.AsyncClient(str(tmp_path / "none.sock")) as ac:
            await ac.ping()

    with pytest.raises(vouch.Unavailable):
        asyncio.run(ping())


def test_secrets_never_in_exceptions_or_logs(
    daemon: Daemon, client: vouch.Client, user: vouch.User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="vouch")
    secret = "a secret passphrase 9"
    token = client.login(user.username, PASSWORD, token=True).token
    assert token is not None
    failures = []
    for action in (
        lambda: client.login(user.username, secret),
        lambda: client.change_password(user.username, secret, secret),
        lambda: client.reset_password("vrp_" + secret, secret),
    ):
        with pytest.raises(vouch.VouchError) as e:
            action()
        failures.append(e.value)
    daemon.restart()  # the next call reconnects: logged at debug level
    login = client.login(user.username, PASSWORD, token=True)
    shown = " ".join(f"{f!r} {f}" for f in failures) + repr(login) + caplog.text
    assert secret not in shown and token not in shown and (login.token or "x") not in shown


def test_already_verified(client: vouch.Client, user: vouch.User) -> None:
    client.update_user(user.id, verified=True)
    with pytest.raises(vouch.AlreadyVerified) as e:
        client.request_verify(user.id)
    assert e.value.status == 17


def test_vetoed(client: vouch.Client) -> None:
    kept = client.create_user(unique("keep"), PASSWORD)
    with pytest.raises(vouch.Vetoed) as e:
        client.delete_user(kept.id)
    assert e.value.status == 19 and e.value.message == "keep- users are kept"
    assert client.get_user(kept.id) == kept


def test_invalid_input(client: vouch.Client) -> None:
    with pytest.raises(vouch.InvalidInput) as e:
        client.create_user("", PASSWORD)
    assert e.value.status == 20 and e.value.message


def test_limit_exceeded(make_daemon) -> None:  # type: ignore[no-untyped-def]
    d = make_daemon(max_requests_in_flight="1", argon2_memory_kib="65536", argon2_iterations="2")
    with d.client() as c:
        c.create_user("many", PASSWORD)

    outcomes = login_burst(d, "many", 10)
    assert any(isinstance(o, vouch.LimitExceeded) and o.status == 21 for o in outcomes), outcomes
    assert all(isinstance(o, (vouch.Login, vouch.LimitExceeded)) for o in outcomes), outcomes
