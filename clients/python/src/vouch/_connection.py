"""What Client and AsyncClient share: where the socket is, request ids, and
turning a response into a value or an exception."""

from __future__ import annotations

import errno
import os
import pwd
import socket
import struct
from typing import Container, Optional, TypeVar

from ._errors import ProtocolError, UntrustedServer, error_for
from ._ops import Call
from ._wire import MAX_REQUEST_ID, Response

T = TypeVar("T")

DEFAULT_SOCKET = "/run/vouch/vouchd.sock"
DEFAULT_SERVER_USER = "vouch"
DEFAULT_MAX_REPLY_BYTES = 16 * 1024 * 1024

# Errors of a send that mean the daemon had closed the connection before the
# request reached it: the request was not carried out and may be sent again.
NOT_SENT = frozenset({errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.ESHUTDOWN, errno.EBADF})


def given_or_default_socket(given: Optional[str]) -> str:
    """The socket to use: the argument, else $VOUCH_SOCKET, else the default."""
    return given or os.environ.get("VOUCH_SOCKET") or DEFAULT_SOCKET


def server_uid_of(server_user: Optional[str]) -> Optional[int]:
    """The uid of the user vouchd runs as: `server_user`, else "vouch" (None
    when that default user does not exist).  A named user that does not exist
    is a ValueError, as in libvouch's vouch_open_server."""
    try:
        return pwd.getpwnam(server_user or DEFAULT_SERVER_USER).pw_uid
    except KeyError:
        if server_user:
            raise ValueError(f"server_user {server_user!r} does not exist") from None
        return None


_UCRED = struct.Struct("=iII")  # struct ucred: pid, uid, gid


def check_peer(sock: socket.socket, path: str, server_uid: Optional[int]) -> None:
    """Refuses a socket whose other end is not a daemon this process trusts:
    root, the server user, or this process's own effective uid (SO_PEERCRED,
    checked before anything is sent, so no password reaches an impostor
    that bound the path while vouchd was down)."""
    try:
        _, uid, _ = _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))
    except OSError as e:
        raise UntrustedServer(f"cannot check who serves {path}: {os.strerror(e.errno or 0)}") from None
    if uid not in (0, os.geteuid(), server_uid):
        raise UntrustedServer(f"{path} is served by uid {uid}, not by root or the vouchd user")


class RequestIds:
    """Request ids from 1 to 2**32-1, wrapping; never 0 (reserved for
    connection-level errors) and never one still in flight."""

    def __init__(self) -> None:
        self._next = 1

    def take(self, in_flight: Container[int] = ()) -> int:
        while True:
            rid = self._next
            self._next = 1 if rid == MAX_REQUEST_ID else rid + 1
            if rid not in in_flight:
                return rid


def result(call: "Call[T]", response: Response) -> T:
    """The value of an `ok` response, or the exception its status names."""
    if response.opcode != call.opcode:
        raise ProtocolError(f"the answer to request {response.request_id} has another opcode")
    if response.status != 0:
        raise error_for(response.status, response.message())
    return call.parse(response.body)


class Settings:
    """What Client and AsyncClient are configured with: `socket_path` (None:
    $VOUCH_SOCKET, else /run/vouch/vouchd.sock), `timeout` in seconds for each
    call (None: no limit), `max_reply_bytes`, the largest reply accepted, and
    `server_user`, the user vouchd runs as (None: "vouch").  Every connection
    is refused with UntrustedServer unless the process serving the socket runs
    as root, as `server_user` or as the caller."""

    def __init__(
        self,
        socket_path: Optional[str] = None,
        timeout: Optional[float] = 5.0,
        *,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
        server_user: Optional[str] = None,
    ) -> None:
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive (or None: wait forever)")
        self.socket_path = given_or_default_socket(socket_path)
        self.timeout = timeout
        self.max_reply_bytes = max_reply_bytes
        self.server_uid = server_uid_of(server_user)
        self._ids = RequestIds()
        self._setup()

    def _setup(self) -> None:
        """The client's own connection state."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(socket_path={self.socket_path!r}, timeout={self.timeout!r})"
