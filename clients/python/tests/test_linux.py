"""Linux logins (docs/LINUX-LOGINS.md) and password aging, against the real vouchd."""

from __future__ import annotations

import base64
import datetime
import os
import struct
import time

import pytest

import vouch
from vouchd_fixture import PASSWORD, Daemon, unique

NEW_PASSWORD = "a brand new passphrase 7"


def ssh_key(comment: str) -> str:
    """An authorized_keys line with a well-formed (random) ed25519 public key."""
    kind = b"ssh-ed25519"
    blob = struct.pack(">I", len(kind)) + kind + struct.pack(">I", 32) + os.urandom(32)
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} {comment}"


def test_an_expired_password_must_be_changed(client: vouch.Client, user: vouch.User) -> None:
    account = client.set_password_aging(user.username, expire=True)
    assert account.must_change_password and account.password_state == "must_change"
    with pytest.raises(vouch.PasswordExpired) as refused:
        client.login(user.username, PASSWORD, token=True)
    assert refused.value.status == 22 and isinstance(refused.value, vouch.VouchError)
    with pytest.raises(vouch.PasswordExpired):
        client.account_status(user.username)
    with pytest.raises(vouch.InvalidCredentials):  # a wrong password is still just wrong
        client.login(user.username, "not the password")
    client.change_password(user.username, PASSWORD, NEW_PASSWORD)
    assert client.login(user.username, NEW_PASSWORD).user.id == user.id
    assert client.account_status(user.username) == "active"
    after = client.get_linux_account(user.id)
    assert not after.must_change_password and after.password_state == "current"
    assert after.password_changed_at is not None


def test_a_password_older_than_its_maximum_age_has_expired(client: vouch.Client, user: vouch.User) -> None:
    account = client.set_password_aging(user.id, max_age=1)
    assert account.password_max_age == account.effective_max_age == datetime.timedelta(seconds=1)
    time.sleep(1.5)
    assert client.get_linux_account(user.id).password_state == "expired"
    with pytest.raises(vouch.PasswordExpired):
        client.login(user.username, PASSWORD)
    client.change_password(user.username, PASSWORD, NEW_PASSWORD)
    client.login(user.username, NEW_PASSWORD)
    never = client.set_password_aging(user.id, max_age=0)
    assert never.password_max_age == datetime.timedelta(0) and never.effective_max_age == datetime.timedelta(0)
    default = client.set_password_aging(user.id, max_age=None)
    assert default.password_max_age is None  # the server's password_max_age (0: never)
    assert default.effective_max_age == datetime.timedelta(0)


def test_a_user_becomes_a_linux_login(client: vouch.Client, user: vouch.User) -> None:
    before = client.get_linux_account(user.username)
    assert before.user_id == user.id and before.username == user.username
    assert not before.login and before.uid is None and before.ssh_keys == []
    assert before.home == f"/home/{user.username}" and before.shell == "/bin/bash"  # login_home, login_shell
    account = client.set_linux_account(user.id, login=True, real_name="Ada Lovelace", home="/srv/ada")
    assert account.login and account.uid is not None and 70000 <= account.uid <= 99999
    assert account.gid == account.uid
    assert (account.real_name, account.home, account.shell) == ("Ada Lovelace", "/srv/ada", "/bin/bash")
    back = client.set_linux_account(user.uuid, login=False, home="")
    assert not back.login and back.uid == account.uid  # a uid given is kept
    assert back.home == f"/home/{user.username}" and back.real_name == "Ada Lovelace"
    with pytest.raises(vouch.InvalidInput):
        client.set_linux_account(user.id, shell="/not/a/listed/shell")
    assert client.get_linux_account(user.id) == back  # a refused change changes nothing


def test_ssh_keys(client: vouch.Client, user: vouch.User) -> None:
    first, second = ssh_key("ada@laptop"), ssh_key("ada@desk")
    assert client.add_ssh_key(user.id, first).ssh_keys == [first]
    assert client.add_ssh_key(user.id, second).ssh_keys == [first, second]
    with pytest.raises(vouch.InvalidInput):
        client.add_ssh_key(user.id, first)  # already there
    with pytest.raises(vouch.InvalidInput):
        client.add_ssh_key(user.id, "not a key")
    assert client.remove_ssh_key(user.id, first.split()[1]).ssh_keys == [second]  # by its base64 part
    assert client.remove_ssh_key(user.id, second).ssh_keys == []
    with pytest.raises(vouch.NotFound):
        client.remove_ssh_key(user.id, second)


def test_linux_logins_are_for_admins(daemon: Daemon, user: vouch.User) -> None:
    run = daemon.as_nobody(
        f"""
import os, vouch
with vouch.Client(os.environ["SOCKET"]) as c:
    for call in (lambda: c.get_linux_account({user.id}), lambda: c.set_password_aging({user.id}, expire=True)):
        try:
            call()
        except vouch.PermissionDenied as e:
            print("denied", e.status)
"""
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["denied", "7", "denied", "7"]


def test_unknown_users(client: vouch.Client) -> None:
    with pytest.raises(vouch.NotFound):
        client.get_linux_account(unique("ghost"))
    with pytest.raises(vouch.NotFound):
        client.set_password_aging(unique("ghost"), expire=True)
