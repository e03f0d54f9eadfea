"""The asyncio client: concurrent calls pipelined on one connection."""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import socket
from types import TracebackType
from typing import Dict, Optional, Type, TypeVar, Union

from . import _ops as ops
from ._connection import NOT_SENT, Settings, check_peer, result
from ._errors import ConnectionLost, Timeout, Unavailable, VouchError, error_for
from ._ops import _UNCHANGED, Call
from ._types import IssuedToken, LinuxAccount, Login, ServerStatus, User, UserPage
from ._wire import LENGTH_PREFIX, Response, UserRef, encode_request, frame_length, wipe

T = TypeVar("T")
log = logging.getLogger("vouch")


class _Connection:
    """One socket, its reader task and the calls waiting on it."""

    def __init__(self, sock: socket.socket, max_reply_bytes: int) -> None:
        self.sock = sock
        self.max_reply_bytes = max_reply_bytes
        self.pending: Dict[int, "asyncio.Future[Response]"] = {}
        self.send_lock = asyncio.Lock()
        self.closed = False
        self.reader = asyncio.get_running_loop().create_task(self._read_loop())

    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        buffer = bytearray()
        error: VouchError = ConnectionLost("vouchd closed the connection before answering")
        try:
            while True:
                while len(buffer) >= LENGTH_PREFIX:
                    length = frame_length(bytes(buffer[:LENGTH_PREFIX]), self.max_reply_bytes)
                    if len(buffer) < LENGTH_PREFIX + length:
                        break
                    response = Response.decode(bytes(buffer[LENGTH_PREFIX : LENGTH_PREFIX + length]))
                    del buffer[: LENGTH_PREFIX + length]
                    self._dispatch(response)
                chunk = await loop.sock_recv(self.sock, 1 << 16)
                if not chunk:
                    break
                buffer += chunk
        except VouchError as e:  # a reply over the cap, a malformed frame, a connection-level error
            error = e
        except OSError as e:
            error = ConnectionLost(f"lost the connection to vouchd: {os.strerror(e.errno or 0)}")
        except asyncio.CancelledError:
            error = Unavailable("the client was closed")
        finally:
            self.close(error)
            self.sock.close()

    def _dispatch(self, response: Response) -> None:
        future = self.pending.pop(response.request_id, None)
        if future is not None:
            if not future.done():
                future.set_result(response)
        elif response.request_id == 0 and response.status != 0:
            raise error_for(response.status, response.message())
        # Otherwise: the answer to a call that timed out or was cancelled.

    def close(self, error: VouchError) -> None:
        if self.closed:
            return
        self.closed = True
        pending, self.pending = self.pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(error)
        # The reader closes the socket once its receive is cancelled, so the
        # descriptor is not reused while the event loop still watches it.
        if self.reader is not asyncio.current_task():
            self.reader.cancel()


class AsyncClient(Settings):
    """An asyncio client for vouchd.  Same methods as `Client`, as coroutines.

    Concurrent calls share one connection: each gets a request id and the
    daemon's answers, in any order, are matched by id.  Reconnects once when
    the daemon had closed the connection before a request was sent; never
    sends again a request the daemon may have received.  Use it from one
    event loop.
    """

    def _setup(self) -> None:
        self._connection: Optional[_Connection] = None
        self._connecting: Optional[asyncio.Lock] = None

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(
        self, kind: Optional[Type[BaseException]], value: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the connection (calls in flight fail with Unavailable); a later call opens a new one."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close(Unavailable("the client was closed"))
            try:
                await connection.reader
            except asyncio.CancelledError:
                pass

    # ---- calls --------------------------------------------------------------

    async def ping(self) -> None:
        return await self._call(ops.ping())

    async def status(self) -> ServerStatus:
        return await self._call(ops.status())

    async def login(
        self, username: str, password: str, token: bool = False, *, service: str = "", rhost: str = "", tty: str = ""
    ) -> Login:
        return await self._call(ops.login(username, password, token, service, rhost, tty))

    async def verify_token(self, token: str) -> User:
        return await self._call(ops.verify_token(token))

    async def revoke_token(self, token: str) -> None:
        return await self._call(ops.revoke_token(token))

    async def change_password(self, username: str, old: str, new: str) -> None:
        return await self._call(ops.change_password(username, old, new))

    async def forgot_password(self, username_or_email: str) -> None:
        return await self._call(ops.forgot_password(username_or_email))

    async def reset_password(self, token: str, new: str) -> None:
        return await self._call(ops.reset_password(token, new))

    async def verify_email(self, token: str) -> User:
        return await self._call(ops.verify_email(token))

    async def account_status(self, username: str) -> str:
        return await self._call(ops.account_status(username))

    async def create_user(
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
        return await self._call(ops.create_user(username, password, email, active, admin, superuser, verified))

    async def get_user(self, user: UserRef) -> User:
        return await self._call(ops.get_user(user))

    async def list_users(
        self, limit: int = 100, page: int = 1, order: str = "username", descending: bool = False
    ) -> UserPage:
        return await self._call(ops.list_users(limit, page, order, descending))

    async def set_password(self, user: UserRef, password: str) -> None:
        return await self._call(ops.set_password(user, password))

    async def update_user(
        self,
        user: UserRef,
        *,
        email: Optional[str] = _UNCHANGED,
        active: Optional[bool] = None,
        admin: Optional[bool] = None,
        superuser: Optional[bool] = None,
        verified: Optional[bool] = None,
    ) -> User:
        return await self._call(ops.update_user(user, email, active, admin, superuser, verified))

    async def delete_user(self, user: UserRef) -> None:
        return await self._call(ops.delete_user(user))

    async def issue_token(
        self, user: UserRef, label: str = "", ttl: Union[None, float, datetime.timedelta] = None
    ) -> IssuedToken:
        return await self._call(ops.issue_token(user, label, ttl))

    async def revoke_tokens(self, user: UserRef) -> int:
        return await self._call(ops.revoke_tokens(user))

    async def unlock_user(self, user: UserRef) -> User:
        return await self._call(ops.unlock_user(user))

    async def request_verify(self, user: UserRef) -> None:
        return await self._call(ops.request_verify(user))

    # ---- Linux logins (admin; documented on Client) ---------------------------

    async def get_linux_account(self, user: UserRef) -> LinuxAccount:
        return await self._call(ops.get_linux_account(user))

    async def set_linux_account(
        self,
        user: UserRef,
        login: Optional[bool] = None,
        real_name: Optional[str] = None,
        home: Optional[str] = None,
        shell: Optional[str] = None,
    ) -> LinuxAccount:
        return await self._call(ops.set_linux_account(user, login, real_name, home, shell))

    async def add_ssh_key(self, user: UserRef, key: str) -> LinuxAccount:
        return await self._call(ops.add_ssh_key(user, key))

    async def remove_ssh_key(self, user: UserRef, key: str) -> LinuxAccount:
        return await self._call(ops.remove_ssh_key(user, key))

    async def set_password_aging(
        self,
        user: UserRef,
        max_age: Union[None, float, datetime.timedelta] = _UNCHANGED,
        expire: bool = False,
    ) -> LinuxAccount:
        return await self._call(ops.set_password_aging(user, max_age, expire))

    # ---- the exchange -------------------------------------------------------

    async def _call(self, call: "Call[T]") -> T:
        try:
            return await asyncio.wait_for(self._exchange(call), self.timeout)
        except asyncio.TimeoutError:
            raise Timeout("no answer from vouchd within the timeout") from None
        finally:
            if call.secret:
                wipe(call.body)

    async def _exchange(self, call: "Call[T]") -> T:
        reconnected = False
        while True:
            connection = self._connection
            if connection is None or connection.closed:
                connection = await self._connect()
                reconnected = True
            rid = self._ids.take(connection.pending)
            future: "asyncio.Future[Response]" = asyncio.get_running_loop().create_future()
            connection.pending[rid] = future
            frame = encode_request(call.opcode, rid, call.body)
            try:
                # Shielded: a cancelled caller must not leave half a frame on the connection.
                await asyncio.shield(self._send(connection, frame, call.secret))
            except OSError as e:
                connection.pending.pop(rid, None)
                connection.close(ConnectionLost("vouchd closed the connection"))
                if e.errno in NOT_SENT and not reconnected:
                    log.debug("vouchd closed the connection; reconnecting to %s", self.socket_path)
                    continue
                raise Unavailable(f"cannot send to vouchd at {self.socket_path}: {os.strerror(e.errno or 0)}") from None
            except BaseException:
                connection.pending.pop(rid, None)
                raise
            try:
                response = await future
            finally:
                connection.pending.pop(rid, None)
            return result(call, response)

    @staticmethod
    async def _send(connection: _Connection, frame: bytearray, secret: bool) -> None:
        try:
            async with connection.send_lock:
                if connection.closed:
                    raise BrokenPipeError(32, "closed")
                await asyncio.get_running_loop().sock_sendall(connection.sock, frame)
        finally:
            if secret:
                wipe(frame)

    async def _connect(self) -> _Connection:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            connection = self._connection
            if connection is not None and not connection.closed:
                return connection
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                await asyncio.get_running_loop().sock_connect(sock, self.socket_path)
            except OSError as e:
                sock.close()
                reason = os.strerror(e.errno) if e.errno else str(e)
                raise Unavailable(f"cannot connect to vouchd at {self.socket_path}: {reason}") from None
            except BaseException:
                sock.close()
                raise
            try:
                check_peer(sock, self.socket_path, self.server_uid)
            except BaseException:
                sock.close()
                raise
            self._connection = _Connection(sock, self.max_reply_bytes)
            return self._connection

