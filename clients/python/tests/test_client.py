"""Every method of vouch.Client against a real vouchd."""

from __future__ import annotations

import datetime
import uuid

import pytest

import vouch
from vouchd_fixture import PASSWORD, Daemon, unique

UTC = datetime.timezone.utc


def test_login_without_and_with_a_token(client: vouch.Client, user: vouch.User) -> None:
    before = datetime.datetime.now(UTC) - datetime.timedelta(seconds=5)
    login = client.login(user.username, PASSWORD)
    assert login.user.id == user.id and login.user.username == user.username
    assert login.token is None and login.expires_at is None
    assert login.user.last_login is not None and login.user.last_login >= before

    with_token = client.login(user.username.upper(), PASSWORD, token=True)
    assert with_token.token is not None and with_token.token.startswith("vch_")
    assert with_token.expires_at is not None and with_token.expires_at > datetime.datetime.now(UTC)
    assert client.verify_token(with_token.token) == client.get_user(user.id)


def test_user_fields(client: vouch.Client) -> None:
    name = unique()
    created = client.create_user(name, PASSWORD, email=f"{name}@example.com", admin=True, verified=True)
    assert isinstance(created.id, int) and isinstance(created.uuid, uuid.UUID)
    assert (created.username, created.email) == (name, f"{name}@example.com")
    assert (created.active, created.admin, created.superuser, created.verified) == (True, True, False, True)
    assert created.created_at.tzinfo is not None and created.last_login is None
    assert created.failed_logins == 0 and created.locked_until is None
    inactive = client.create_user(unique(), PASSWORD, active=False)
    assert not inactive.active and inactive.email is None


def test_get_user_by_name_id_and_uuid(client: vouch.Client, user: vouch.User) -> None:
    assert client.get_user(user.username) == user
    assert client.get_user(user.id) == user
    assert client.get_user(user.uuid) == user
    with pytest.raises(TypeError):
        client.get_user(1.5)  # type: ignore[arg-type]


def test_revoke_token(client: vouch.Client, user: vouch.User) -> None:
    token = client.login(user.username, PASSWORD, token=True).token
    assert token is not None
    client.revoke_token(token)
    with pytest.raises(vouch.InvalidToken):
        client.verify_token(token)


def test_change_password(client: vouch.Client, user: vouch.User) -> None:
    client.change_password(user.username, PASSWORD, "a new passphrase 2")
    client.login(user.username, "a new passphrase 2")
    with pytest.raises(vouch.InvalidCredentials):
        client.login(user.username, PASSWORD)


def test_forgot_and_reset_password(daemon: Daemon, client: vouch.Client, user: vouch.User) -> None:
    client.forgot_password(user.email or "")
    token = daemon.hook_token("forgot_password", user.username)
    assert token.startswith("vrp_")
    client.reset_password(token, "reset passphrase 3")
    client.login(user.username, "reset passphrase 3")
    with pytest.raises(vouch.InvalidToken):
        client.reset_password(token, "once more passphrase")
    client.forgot_password("nobody-" + unique())  # the same answer for an unknown user


def test_request_verify_and_verify_email(daemon: Daemon, client: vouch.Client, user: vouch.User) -> None:
    client.request_verify(user.id)
    token = daemon.hook_token("request_verify", user.username)
    verified = client.verify_email(token)
    assert verified.verified and verified.id == user.id
    with pytest.raises(vouch.InvalidToken):
        client.verify_email(token)


def test_list_users_pages_and_orders(client: vouch.Client) -> None:
    prefix = unique("list")
    for i in range(3):
        client.create_user(f"{prefix}-{i}", PASSWORD)
    page = client.list_users(limit=1000, order="id", descending=True)
    assert page.total >= 3 and page.total == len(page.users)
    ids = [u.id for u in page.users]
    assert ids == sorted(ids, reverse=True)
    names = [u.username for u in page.users if u.username.startswith(prefix)]
    assert names == [f"{prefix}-2", f"{prefix}-1", f"{prefix}-0"]
    first, second = client.list_users(limit=1, page=1), client.list_users(limit=1, page=2)
    assert len(first.users) == len(second.users) == 1 and first.users[0] != second.users[0]
    with pytest.raises(ValueError):
        client.list_users(order="email")
    with pytest.raises(vouch.InvalidInput):
        client.list_users(page=0)


def test_set_password(client: vouch.Client, user: vouch.User) -> None:
    client.set_password(user.uuid, "set by an admin 4")
    client.login(user.username, "set by an admin 4")


def test_update_user(client: vouch.Client, user: vouch.User) -> None:
    updated = client.update_user(user.username, admin=True, verified=True)
    assert updated.admin and updated.verified and updated.email == user.email
    moved = client.update_user(user.id, email="moved-" + (user.email or ""))
    assert moved.email == "moved-" + (user.email or "") and not moved.verified  # a new email is unverified
    cleared = client.update_user(user.id, email=None, active=False)
    assert cleared.email is None and not cleared.active
    assert client.update_user(user.id) == cleared


def test_delete_user(client: vouch.Client, user: vouch.User) -> None:
    client.delete_user(user.username)
    with pytest.raises(vouch.NotFound):
        client.get_user(user.id)


def test_issue_and_revoke_tokens(client: vouch.Client, user: vouch.User) -> None:
    issued = client.issue_token(user.username, label="api", ttl=datetime.timedelta(minutes=10))
    remaining = issued.expires_at - datetime.datetime.now(UTC)
    assert datetime.timedelta(minutes=9) < remaining <= datetime.timedelta(minutes=10)
    default = client.issue_token(user.id)
    assert client.verify_token(issued.token).id == user.id
    assert client.revoke_tokens(user.id) == 2
    for token in (issued.token, default.token):
        with pytest.raises(vouch.InvalidToken):
            client.verify_token(token)
    with pytest.raises(ValueError):
        client.issue_token(user.id, ttl=0)


def test_unlock_user_and_account_status(make_daemon) -> None:  # type: ignore[no-untyped-def]
    d = make_daemon(lockout_deny="2", lockout_unlock_time="0")
    with d.client() as c:
        name = unique()
        c.create_user(name, PASSWORD)
        assert c.account_status(name) == "active"
        for _ in range(2):
            with pytest.raises(vouch.InvalidCredentials):
                c.login(name, "wrong password")
        assert c.account_status(name) == "locked"
        with pytest.raises(vouch.AccountLocked):
            c.login(name, PASSWORD)
        unlocked = c.unlock_user(name)
        assert unlocked.locked_until is None and unlocked.failed_logins == 0
        c.login(name, PASSWORD)


def test_status_and_ping(daemon: Daemon, client: vouch.Client) -> None:
    client.ping()
    status = client.status()
    assert status.server_version and status.users >= 0 and status.connections >= 1
    assert status.uptime > datetime.timedelta(0) and status.requests_served >= 1


def test_default_socket_is_vouch_socket(daemon: Daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOUCH_SOCKET", daemon.socket_path)
    with vouch.Client() as c:
        assert c.socket_path == daemon.socket_path
        c.ping()
    monkeypatch.delenv("VOUCH_SOCKET")
    assert vouch.Client().socket_path == "/run/vouch/vouchd.sock"
