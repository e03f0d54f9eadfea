"""Exceptions.  Messages come from the daemon (which never puts a secret in
them) or from the client (which never formats a password or token)."""

from __future__ import annotations

from typing import Dict, Optional, Type


class VouchError(Exception):
    """A call failed.  `status` is the wire status code (docs/PROTOCOL.md), or
    None when the daemon did not answer (see `Unavailable`, `ProtocolError`)."""

    status: Optional[int] = None

    def __init__(self, message: str = "", status: Optional[int] = None) -> None:
        if status is not None:
            self.status = status
        self.message = message or _names.get(self.status or -1, f"status {self.status}")
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r})"


class Unavailable(VouchError):
    """The daemon cannot be reached, closed the connection before answering,
    or did not answer within the timeout."""


class Timeout(Unavailable):
    """No answer within the client's timeout (the request may have been carried out)."""


class ConnectionLost(Unavailable):
    """The connection closed after the request was sent and before its answer
    (the request may have been carried out, so it is not sent again)."""


class UntrustedServer(Unavailable):
    """The socket is served by a process that is neither root, the vouchd user
    (`server_user`) nor this process's user: nothing was sent to it."""


class ProtocolError(VouchError):
    """The daemon's answer does not follow the protocol, or exceeds the reply frame cap."""


class InvalidCredentials(VouchError):
    """Wrong password, unknown user, or over-long input (indistinguishable on purpose)."""

    status = 1


class AccountInactive(VouchError):
    """Right password, but the account is inactive."""

    status = 2


class NotFound(VouchError):
    """No such user."""

    status = 3


class AlreadyExists(VouchError):
    """A user with that username or email exists (see the subclasses)."""


class UsernameTaken(AlreadyExists):
    status = 4


class EmailTaken(AlreadyExists):
    status = 5


class PasswordRejected(VouchError):
    """The new password breaks the policy; `reason` says why."""

    status = 6

    @property
    def reason(self) -> str:
        return self.message


class PermissionDenied(VouchError):
    """This process may not use this operation (admin operations need an admin peer)."""

    status = 7


class BadRequest(VouchError):
    """The daemon could not decode the request (8), its version (9) or its opcode (10)."""

    status = 8


class Busy(VouchError):
    """The daemon's hashing queue is full: retry later."""

    status = 11


class InternalError(VouchError):
    status = 12


class FrameTooLarge(BadRequest):
    status = 13


class InvalidToken(VouchError):
    """Unknown, revoked, expired, used or wrong-purpose token."""

    status = 14


class AccountLocked(VouchError):
    """Locked after too many failed logins."""

    status = 15


class RateLimited(VouchError):
    """Too many failed logins from this uid: retry later."""

    status = 16


class AlreadyVerified(VouchError):
    status = 17


class StorageUnavailable(VouchError):
    """The database cannot be written; nothing changed."""

    status = 18


class Vetoed(VouchError):
    """A before_delete hook refused; the message is its reason."""

    status = 19


class InvalidInput(VouchError):
    """A username, email or argument is not acceptable; the message says why."""

    status = 20


class LimitExceeded(VouchError):
    """Too many connections or requests in flight."""

    status = 21


class PasswordExpired(VouchError):
    """Right password, but it must be changed before `login` accepts it (it is
    older than its maximum age, or an admin expired it): call
    `change_password` with it as the old password.  `account_status` raises it
    too for such an account."""

    status = 22


_names: Dict[int, str] = {
    0: "ok",
    1: "invalid credentials",
    2: "inactive",
    3: "not found",
    4: "username taken",
    5: "email taken",
    6: "password rejected",
    7: "permission denied",
    8: "bad request",
    9: "unsupported version",
    10: "unknown opcode",
    11: "busy",
    12: "internal error",
    13: "frame too large",
    14: "invalid token",
    15: "locked",
    16: "rate limited",
    17: "already verified",
    18: "storage unavailable",
    19: "vetoed",
    20: "invalid input",
    21: "limit exceeded",
    22: "password expired",
}

_by_status: Dict[int, Type[VouchError]] = {
    1: InvalidCredentials,
    2: AccountInactive,
    3: NotFound,
    4: UsernameTaken,
    5: EmailTaken,
    6: PasswordRejected,
    7: PermissionDenied,
    8: BadRequest,
    9: BadRequest,
    10: BadRequest,
    11: Busy,
    12: InternalError,
    13: FrameTooLarge,
    14: InvalidToken,
    15: AccountLocked,
    16: RateLimited,
    17: AlreadyVerified,
    18: StorageUnavailable,
    19: Vetoed,
    20: InvalidInput,
    21: LimitExceeded,
    22: PasswordExpired,
}


def error_for(status: int, message: str) -> VouchError:
    """The exception for a non-ok status; an unknown status is a plain VouchError showing its number."""
    cls = _by_status.get(status, VouchError)
    return cls(message or _names.get(status, f"status {status}"), status)
