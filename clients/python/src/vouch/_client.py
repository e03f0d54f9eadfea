"""The blocking client."""

from __future__ import annotations

import datetime
import logging
import os
import socket
import threading
import time
from types import TracebackType
from typing import Optional, Type, TypeVar, Union

from . import _ops as ops
from ._connection import NOT_SENT, Settings, check_peer, result
from ._errors import ConnectionLost, ProtocolError, Timeout, Unavailable, error_for
from ._ops import _UNCHANGED, Call
from ._types import IssuedToken, LinuxAccount, Login, ServerStatus, User, UserPage
from ._wire import LENGTH_PREFIX, Response, UserRef, encode_request, frame_length, wipe

T = TypeVar("T")
log = logging.getLogger("vouch")


class Client(Settings):
    """A blocking client for vouchd over one Unix socket connection.

    Thread-safe: calls from several threads take turns on the connection.
    The connection is opened at the first call.  If the daemon closed it
    (idle timeout, restart) before a request was sent, the client reconnects
    once and sends it; a request the daemon may have received is never sent
    again (you get `ConnectionLost`).  `timeout` (seconds, None: no limit)
    bounds each call; replies larger than `max_reply_bytes` are refused
    before they are read (`ProtocolError`).
    """

    def _setup(self) -> None:
        self._lock = threading.Lock()
        self._sock: Optional[socket.socket] = None
        self._pid = 0

    def __enter__(self) -> "Client":
        return self

    def __exit__(
        self, kind: Optional[Type[BaseException]], value: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connection; a later call opens a new one."""
        with self._lock:
            self._drop()

    # ---- calls --------------------------------------------------------------

    def ping(self) -> None:
        return self._call(ops.ping())

    def status(self) -> ServerStatus:
        """The daemon's counters (admin)."""
        return self._call(ops.status())

    def login(
        self, username: str, password: str, token: bool = False, *, service: str = "", rhost: str = "", tty: str = ""
    ) -> Login:
        """Checks a password.  `token=True` also issues a session token.  PasswordExpired:
        the password is right but must be changed first (`change_password`)."""
        return self._call(ops.login(username, password, token, service, rhost, tty))

    def verify_token(self, token: str) -> User:
        """The user a session token belongs to; InvalidToken if it is unknown, revoked or expired."""
        return self._call(ops.verify_token(token))

    def revoke_token(self, token: str) -> None:
        return self._call(ops.revoke_token(token))

    def change_password(self, username: str, old: str, new: str) -> None:
        return self._call(ops.change_password(username, old, new))

    def forgot_password(self, username_or_email: str) -> None:
        """Starts a password reset (the forgot_password hook gets the token); answers the same for unknown users."""
        return self._call(ops.forgot_password(username_or_email))

    def reset_password(self, token: str, new: str) -> None:
        return self._call(ops.reset_password(token, new))

    def verify_email(self, token: str) -> User:
        return self._call(ops.verify_email(token))

    def account_status(self, username: str) -> str:
        """"active", "inactive" or "locked" (NotFound for an unknown user; PasswordExpired
        for an active user whose password must be changed)."""
        return self._call(ops.account_status(username))

    def create_user(
        self,
        username: str,
        password: str,
        email: Optional[str] = None,
        *,
        active: bool = True,
        admin: bool = False,
        superuser: bool = False,
        verified: bool = False,
    ) -> User:
        return self._call(ops.create_user(username, password, email, active, admin, superuser, verified))

    def get_user(self, user: UserRef) -> User:
        """A user by username (str), id (int) or uuid (uuid.UUID)."""
        return self._call(ops.get_user(user))

    def list_users(
        self, limit: int = 100, page: int = 1, order: str = "username", descending: bool = False
    ) -> UserPage:
        """`order`: "username", "id", "created" or "last_login"; `page` from 1, `limit` 1 to 1000."""
        return self._call(ops.list_users(limit, page, order, descending))

    def set_password(self, user: UserRef, password: str) -> None:
        return self._call(ops.set_password(user, password))

    def update_user(
        self,
        user: UserRef,
        *,
        email: Optional[str] = _UNCHANGED,
        active: Optional[bool] = None,
        admin: Optional[bool] = None,
        superuser: Optional[bool] = None,
        verified: Optional[bool] = None,
    ) -> User:
        """Changes what is given (`email=None` clears the email); returns the user."""
        return self._call(ops.update_user(user, email, active, admin, superuser, verified))

    def delete_user(self, user: UserRef) -> None:
        return self._call(ops.delete_user(user))

    def issue_token(
        self, user: UserRef, label: str = "", ttl: Union[None, float, datetime.timedelta] = None
    ) -> IssuedToken:
        """A session token for `user` (admin); `ttl` None: the configured session lifetime."""
        return self._call(ops.issue_token(user, label, ttl))

    def revoke_tokens(self, user: UserRef) -> int:
        """Revokes all of a user's session tokens; returns how many."""
        return self._call(ops.revoke_tokens(user))

    def unlock_user(self, user: UserRef) -> User:
        return self._call(ops.unlock_user(user))

    def request_verify(self, user: UserRef) -> None:
        """Starts an email verification (the request_verify hook gets the token)."""
        return self._call(ops.request_verify(user))

    # ---- Linux logins (admin; docs/LINUX-LOGINS.md) -------------------------

    def get_linux_account(self, user: UserRef) -> LinuxAccount:
        """A user's Linux login: uid, real name, home, shell, password aging, SSH keys."""
        return self._call(ops.get_linux_account(user))

    def set_linux_account(
        self,
        user: UserRef,
        login: Optional[bool] = None,
        real_name: Optional[str] = None,
        home: Optional[str] = None,
        shell: Optional[str] = None,
    ) -> LinuxAccount:
        """Changes what is given (None: unchanged).  `login=True` makes the user a login
        of the host (a uid from uid_range on first use); `home=""` or `shell=""` returns
        to the server's login_home / login_shell.  InvalidInput says why a change is refused."""
        return self._call(ops.set_linux_account(user, login, real_name, home, shell))

    def add_ssh_key(self, user: UserRef, key: str) -> LinuxAccount:
        """Adds one authorized_keys line ("[options] type base64 [comment]")."""
        return self._call(ops.add_ssh_key(user, key))

    def remove_ssh_key(self, user: UserRef, key: str) -> LinuxAccount:
        """Removes a key named by its line or its base64 part (NotFound if the user has no such key)."""
        return self._call(ops.remove_ssh_key(user, key))

    def set_password_aging(
        self,
        user: UserRef,
        max_age: Union[None, float, datetime.timedelta] = _UNCHANGED,
        expire: bool = False,
    ) -> LinuxAccount:
        """`max_age`: how long the user's password lasts (seconds or a timedelta; 0: never;
        None: the server's password_max_age).  `expire=True`: the user must change the
        password at the next login (like chage -d 0); login raises PasswordExpired until then."""
        return self._call(ops.set_password_aging(user, max_age, expire))

    # ---- the exchange -------------------------------------------------------

    def _call(self, call: "Call[T]") -> T:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        with self._lock:
            rid = self._ids.take()
            frame = encode_request(call.opcode, rid, call.body)
            try:
                self._send(frame, deadline)
            finally:
                if call.secret:
                    wipe(frame)
                    wipe(call.body)
            response = self._receive(rid, deadline)
        return result(call, response)

    def _send(self, frame: bytearray, deadline: Optional[float]) -> None:
        """Sends a frame; reconnects once if the daemon had closed the connection."""
        reconnected = False
        while True:
            if self._sock is None or self._pid != os.getpid():
                self._connect(deadline)
                reconnected = True
            assert self._sock is not None
            try:
                self._sock.settimeout(_remaining(deadline))
                self._sock.sendall(frame)
                return
            except socket.timeout:
                self._drop()
                raise Timeout("vouchd did not take the request within the timeout") from None
            except OSError as e:
                self._drop()
                if e.errno in NOT_SENT and not reconnected:
                    log.debug("vouchd closed the connection; reconnecting to %s", self.socket_path)
                    continue
                raise Unavailable(f"cannot send to vouchd at {self.socket_path}: {os.strerror(e.errno or 0)}") from None

    def _receive(self, rid: int, deadline: Optional[float]) -> Response:
        try:
            prefix = self._read(LENGTH_PREFIX, deadline)
            response = Response.decode(self._read(frame_length(prefix, self.max_reply_bytes), deadline))
        except BaseException:
            # The connection is in an unknown state (a late or partial answer): never reuse it.
            self._drop()
            raise
        if response.request_id == rid:
            return response
        self._drop()
        if response.request_id == 0 and response.status != 0:
            raise error_for(response.status, response.message())
        raise ProtocolError(f"the daemon answered request {response.request_id} instead of {rid}")

    def _read(self, n: int, deadline: Optional[float]) -> bytes:
        assert self._sock is not None
        chunks = bytearray()
        while len(chunks) < n:
            try:
                self._sock.settimeout(_remaining(deadline))
                chunk = self._sock.recv(min(n - len(chunks), 1 << 20))
            except socket.timeout:
                raise Timeout("no answer from vouchd within the timeout") from None
            except OSError as e:
                raise ConnectionLost(f"lost the connection to vouchd: {os.strerror(e.errno or 0)}") from None
            if not chunk:
                raise ConnectionLost("vouchd closed the connection before answering")
            chunks += chunk
        return bytes(chunks)

    def _connect(self, deadline: Optional[float]) -> None:
        self._drop()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(_remaining(deadline))
            sock.connect(self.socket_path)
        except socket.timeout:
            sock.close()
            raise Timeout(f"cannot connect to vouchd at {self.socket_path} within the timeout") from None
        except OSError as e:
            sock.close()
            reason = os.strerror(e.errno) if e.errno else str(e)
            raise Unavailable(f"cannot connect to vouchd at {self.socket_path}: {reason}") from None
        try:
            check_peer(sock, self.socket_path, self.server_uid)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self._pid = os.getpid()

    def _drop(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None


def _remaining(deadline: Optional[float]) -> Optional[float]:
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise Timeout("no answer from vouchd within the timeout")
    return left

