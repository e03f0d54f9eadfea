"""vouch: a client for vouchd, the local authentication daemon.

    import vouch
    with vouch.Client() as client:            # $VOUCH_SOCKET, else /run/vouch/vouchd.sock
        login = client.login("bob", password, token=True)
        user = client.verify_token(login.token)

Standard library only; speaks the wire protocol of docs/PROTOCOL.md.
"""

from ._async import AsyncClient
from ._client import Client
from ._connection import DEFAULT_SOCKET
from ._errors import (
    AccountInactive,
    AccountLocked,
    AlreadyExists,
    AlreadyVerified,
    BadRequest,
    Busy,
    ConnectionLost,
    EmailTaken,
    FrameTooLarge,
    InternalError,
    InvalidCredentials,
    InvalidInput,
    InvalidToken,
    LimitExceeded,
    NotFound,
    PasswordExpired,
    PasswordRejected,
    PermissionDenied,
    ProtocolError,
    RateLimited,
    StorageUnavailable,
    Timeout,
    Unavailable,
    UntrustedServer,
    UsernameTaken,
    Vetoed,
    VouchError,
)
from ._types import IssuedToken, LinuxAccount, Login, ServerStatus, User, UserPage

__version__ = "0.1.0"

__all__ = [
    "AccountInactive",
    "AccountLocked",
    "AlreadyExists",
    "AlreadyVerified",
    "AsyncClient",
    "BadRequest",
    "Busy",
    "Client",
    "ConnectionLost",
    "DEFAULT_SOCKET",
    "EmailTaken",
    "FrameTooLarge",
    "InternalError",
    "InvalidCredentials",
    "InvalidInput",
    "InvalidToken",
    "IssuedToken",
    "LimitExceeded",
    "LinuxAccount",
    "Login",
    "NotFound",
    "PasswordExpired",
    "PasswordRejected",
    "PermissionDenied",
    "ProtocolError",
    "RateLimited",
    "ServerStatus",
    "StorageUnavailable",
    "Timeout",
    "Unavailable",
    "UntrustedServer",
    "User",
    "UserPage",
    "UsernameTaken",
    "Vetoed",
    "VouchError",
]
