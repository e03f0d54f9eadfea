"""One function per operation: the request body and how to read its `ok`
reply.  Client and AsyncClient share them, so the two cannot drift apart."""

from __future__ import annotations

import datetime
from typing import Any, Callable, Generic, Optional, TypeVar, Union

from . import _wire as w
from ._types import IssuedToken, LinuxAccount, Login, ServerStatus, User, UserPage
from ._wire import Reader, UserRef, Writer

T = TypeVar("T")

ORDERS = {"username": 0, "id": 1, "created": 2, "last_login": 3}
ACCOUNT_STATES = {0: "active", 1: "inactive", 2: "locked"}


class Call(Generic[T]):
    """A request to send: opcode, body (wiped after sending when it holds a
    secret) and the reader of its reply."""

    __slots__ = ("opcode", "body", "read", "secret")

    def __init__(self, opcode: int, body: Writer, read: Callable[[Reader], T], secret: bool = False) -> None:
        self.opcode = opcode
        self.body = body.buffer
        self.read = read
        self.secret = secret

    def parse(self, body: bytes) -> T:
        reader = Reader(body)
        value = self.read(reader)
        reader.end()
        return value


def _nothing(_: Reader) -> None:
    return None


def _flags(active: bool, admin: bool, superuser: bool, verified: bool) -> int:
    return (
        (w.FLAG_ACTIVE if active else 0)
        | (w.FLAG_ADMIN if admin else 0)
        | (w.FLAG_SUPERUSER if superuser else 0)
        | (w.FLAG_VERIFIED if verified else 0)
    )


def ping() -> "Call[None]":
    return Call(w.PING, Writer(), _nothing)


def hello(client_name: str) -> "Call[int]":
    def read(r: Reader) -> int:
        r.u8()  # min version
        r.u8()  # max version
        max_frame = r.u32()
        r.text()  # server version
        return max_frame

    return Call(w.HELLO, Writer().text(client_name), read)


def status() -> "Call[ServerStatus]":
    def read(r: Reader) -> ServerStatus:
        return ServerStatus(
            server_version=r.text(),
            uptime=datetime.timedelta(milliseconds=r.i64()),
            users=r.i64(),
            tokens=r.i64(),
            requests_served=r.i64(),
            connections=r.i64(),
        )

    return Call(w.STATUS, Writer(), read)


def create_user(
    username: str, password: str, email: Optional[str], active: bool, admin: bool, superuser: bool, verified: bool
) -> "Call[User]":
    body = Writer().text(username, "username").opt_str(email).secret(password, "password")
    body.u8(_flags(active, admin, superuser, verified))
    return Call(w.CREATE_USER, body, User.read, secret=True)


def login(username: str, password: str, token: bool, service: str, rhost: str, tty: str) -> "Call[Login]":
    body = Writer().text(username, "username").secret(password, "password").u8(1 if token else 0)
    body.text(service, "service").text(rhost, "rhost").text(tty, "tty")

    def read(r: Reader) -> Login:
        user = User.read(r)
        if r.boolean():
            return Login(user, r.text(), r.time())
        return Login(user)

    return Call(w.LOGIN, body, read, secret=True)


def change_password(username: str, old: str, new: str) -> "Call[None]":
    body = Writer().text(username, "username").secret(old, "old password").secret(new, "new password")
    return Call(w.CHANGE_PASSWORD, body, _nothing, secret=True)


def set_password(user: UserRef, password: str) -> "Call[None]":
    return Call(w.SET_PASSWORD, Writer().user(user).secret(password, "password"), _nothing, secret=True)


def get_user(user: UserRef) -> "Call[User]":
    return Call(w.GET_USER, Writer().user(user), User.read)


def list_users(limit: int, page: int, order: str, descending: bool) -> "Call[UserPage]":
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}")
    body = Writer().u32(limit).u32(page).u8(ORDERS[order]).boolean(descending)

    def read(r: Reader) -> UserPage:
        total = r.u32()
        return UserPage(total, r.many(lambda: User.read(r)))

    return Call(w.LIST_USERS, body, read)


_UNCHANGED: Any = object()


def update_user(
    user: UserRef,
    email: Any,
    active: Optional[bool],
    admin: Optional[bool],
    superuser: Optional[bool],
    verified: Optional[bool],
) -> "Call[User]":
    body = Writer().user(user)
    if email is _UNCHANGED:
        body.boolean(False)
    else:
        body.boolean(True).opt_str(email)
    mask = values = 0
    for flag, value in ((w.FLAG_ACTIVE, active), (w.FLAG_ADMIN, admin), (w.FLAG_SUPERUSER, superuser), (w.FLAG_VERIFIED, verified)):
        if value is not None:
            mask |= flag
            values |= flag if value else 0
    body.u8(mask).u8(values)

    def read(r: Reader) -> User:
        updated = User.read(r)
        for _ in range(r.u8()):
            r.text()  # the names of the fields that changed
        return updated

    return Call(w.UPDATE_USER, body, read)


def delete_user(user: UserRef) -> "Call[None]":
    return Call(w.DELETE_USER, Writer().user(user), _nothing)


def account_status(username: str) -> "Call[str]":
    def read(r: Reader) -> str:
        state = r.u8()
        return ACCOUNT_STATES.get(state, f"state {state}")

    return Call(w.ACCOUNT_STATUS, Writer().text(username, "username"), read)


def unlock_user(user: UserRef) -> "Call[User]":
    return Call(w.UNLOCK_USER, Writer().user(user), User.read)


def verify_token(token: str) -> "Call[User]":
    def read(r: Reader) -> User:
        user = User.read(r)
        r.time()  # the token's expiry
        return user

    return Call(w.VERIFY_TOKEN, Writer().secret(token, "token"), read, secret=True)


def revoke_token(token: str) -> "Call[None]":
    return Call(w.REVOKE_TOKEN, Writer().secret(token, "token"), _nothing, secret=True)


def revoke_tokens(user: UserRef) -> "Call[int]":
    return Call(w.REVOKE_TOKENS, Writer().user(user), lambda r: r.u32())


def _seconds(duration: Union[int, float, datetime.timedelta]) -> int:
    if isinstance(duration, datetime.timedelta):
        return int(duration.total_seconds())
    return int(duration)


def issue_token(user: UserRef, label: str, ttl: Union[None, int, float, datetime.timedelta]) -> "Call[IssuedToken]":
    seconds = 0 if ttl is None else _seconds(ttl)
    if ttl is not None and seconds <= 0:
        raise ValueError("ttl must be at least one second (None: the configured session lifetime)")
    body = Writer().user(user).text(label, "label").i64(seconds)

    def read(r: Reader) -> IssuedToken:
        return IssuedToken(r.text(), r.time())

    return Call(w.ISSUE_TOKEN, body, read)


def forgot_password(username_or_email: str) -> "Call[None]":
    return Call(w.FORGOT_PASSWORD, Writer().text(username_or_email, "username or email"), _nothing)


def reset_password(token: str, new_password: str) -> "Call[None]":
    body = Writer().secret(token, "token").secret(new_password, "password")
    return Call(w.RESET_PASSWORD, body, _nothing, secret=True)


def request_verify(user: UserRef) -> "Call[None]":
    return Call(w.REQUEST_VERIFY, Writer().user(user), _nothing)


def verify_email(token: str) -> "Call[User]":
    return Call(w.VERIFY_EMAIL, Writer().secret(token, "token"), User.read, secret=True)


def get_linux_account(user: UserRef) -> "Call[LinuxAccount]":
    return Call(w.GET_LINUX_ACCOUNT, Writer().user(user), LinuxAccount.read)


def set_linux_account(
    user: UserRef, login: Optional[bool], real_name: Optional[str], home: Optional[str], shell: Optional[str]
) -> "Call[LinuxAccount]":
    given = (login is not None, real_name is not None, home is not None, shell is not None)
    mask = sum(1 << bit for bit, present in enumerate(given) if present)
    body = Writer().user(user).u8(mask).boolean(bool(login))
    body.text(real_name or "", "real_name").text(home or "", "home").text(shell or "", "shell")
    return Call(w.SET_LINUX_ACCOUNT, body, LinuxAccount.read)


def add_ssh_key(user: UserRef, key: str) -> "Call[LinuxAccount]":
    return Call(w.ADD_SSH_KEY, Writer().user(user).text(key, "key"), LinuxAccount.read)


def remove_ssh_key(user: UserRef, key: str) -> "Call[LinuxAccount]":
    return Call(w.REMOVE_SSH_KEY, Writer().user(user).text(key, "key"), LinuxAccount.read)


def set_password_aging(user: UserRef, max_age: Any, expire: bool) -> "Call[LinuxAccount]":
    options = 0
    seconds = -1  # the wire's value when bit 0 leaves the maximum age unchanged
    if max_age is not _UNCHANGED:
        options |= 1
        seconds = -1 if max_age is None else _seconds(max_age)
        if max_age is not None and seconds < 0:
            raise ValueError("max_age must be 0 (never expires) or more seconds (None: the server's default)")
    if expire:
        options |= 2
    if options == 0:
        raise ValueError("give max_age, expire=True or both")
    body = Writer().user(user).u8(options).i64(seconds)
    return Call(w.SET_PASSWORD_AGING, body, LinuxAccount.read)
