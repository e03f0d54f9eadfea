"""What Client and AsyncClient share: where the socket is, request ids, and
turning a response into a value or an exception."""

from __future__ import annotations

import errno
import os
from typing import Container, Optional, TypeVar

from ._errors import ProtocolError, error_for
from ._ops import Call
from ._wire import MAX_REQUEST_ID, Response

T = TypeVar("T")

DEFAULT_SOCKET = "/run/vouch/vouchd.sock"
DEFAULT_MAX_REPLY_BYTES = 16 * 1024 * 1024

# Errors of a send that mean the daemon had closed the connection before the
# request reached it: the request was not carried out and may be sent again.
NOT_SENT = frozenset({errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.ESHUTDOWN, errno.EBADF})


def given_or_default_socket(given: Optional[str]) -> str:
    """The socket to use: the argument, else $VOUCH_SOCKET, else the default."""
    return given or os.environ.get("VOUCH_SOCKET") or DEFAULT_SOCKET


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
    call (None: no limit) and `max_reply_bytes`, the largest reply accepted."""

    def __init__(
        self,
        socket_path: Optional[str] = None,
        timeout: Optional[float] = 5.0,
        *,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
    ) -> None:
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive (or None: wait forever)")
        self.socket_path = given_or_default_socket(socket_path)
        self.timeout = timeout
        self.max_reply_bytes = max_reply_bytes
        self._ids = RequestIds()
        self._setup()

    def _setup(self) -> None:
        """The client's own connection state."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(socket_path={self.socket_path!r}, timeout={self.timeout!r})"
