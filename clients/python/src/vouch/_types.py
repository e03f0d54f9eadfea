"""What the daemon answers, as frozen dataclasses.  Tokens never appear in a repr."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import List, Optional

from ._wire import FLAG_ACTIVE, FLAG_ADMIN, FLAG_SUPERUSER, FLAG_VERIFIED, Reader

PASSWORD_STATES = {0: "current", 1: "expired", 2: "must_change"}


@dataclass(frozen=True)
class User:
    """A user record (never the password hash).  Times are aware UTC datetimes."""

    id: int
    uuid: uuid.UUID
    username: str
    email: Optional[str]
    active: bool
    admin: bool
    superuser: bool
    verified: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime
    last_login: Optional[datetime.datetime]
    failed_logins: int
    locked_until: Optional[datetime.datetime]
    """Present while the account is locked; datetime.max means until an admin unlocks it."""

    @classmethod
    def read(cls, r: Reader) -> "User":
        user_id = r.i64()
        user_uuid = r.uuid_value()
        username = r.text()
        email = r.optional(r.text)
        flags = r.u8()
        if flags & ~0x0F:
            from ._errors import ProtocolError

            raise ProtocolError("the daemon sent unknown account flags")
        return cls(
            id=user_id,
            uuid=user_uuid,
            username=username,
            email=email,
            active=bool(flags & FLAG_ACTIVE),
            admin=bool(flags & FLAG_ADMIN),
            superuser=bool(flags & FLAG_SUPERUSER),
            verified=bool(flags & FLAG_VERIFIED),
            created_at=r.time(),
            updated_at=r.time(),
            last_login=r.optional(r.time),
            failed_logins=r.u32(),
            locked_until=r.optional(r.time),
        )


@dataclass(frozen=True)
class Login:
    """A successful login: the user, and a session token when one was asked for."""

    user: User
    token: Optional[str] = field(default=None, repr=False)
    expires_at: Optional[datetime.datetime] = None

    def __repr__(self) -> str:
        token = "None" if self.token is None else "<hidden>"
        return f"Login(user={self.user!r}, token={token}, expires_at={self.expires_at!r})"


@dataclass(frozen=True, repr=False)
class IssuedToken:
    """A session token issued by an admin (`issue_token`)."""

    token: str
    expires_at: datetime.datetime

    def __repr__(self) -> str:
        return f"IssuedToken(token=<hidden>, expires_at={self.expires_at!r})"


@dataclass(frozen=True)
class UserPage:
    """One page of `list_users`: `total` counts every user."""

    total: int
    users: List[User]


@dataclass(frozen=True)
class ServerStatus:
    server_version: str
    uptime: datetime.timedelta
    users: int
    tokens: int
    requests_served: int
    connections: int


@dataclass(frozen=True)
class LinuxAccount:
    """A user's Linux login (docs/LINUX-LOGINS.md), effective values filled in
    (the server's login_home, login_shell and password_max_age applied)."""

    user_id: int
    username: str
    login: bool
    """Whether the user may log in to the host (served to NSS and sshd)."""
    uid: Optional[int]
    """None until `login` is first turned on; the primary group's gid is the same."""
    real_name: str
    home: str
    shell: str
    password_changed_at: Optional[datetime.datetime]
    password_max_age: Optional[datetime.timedelta]
    """The user's own maximum age; None: the server's password_max_age; 0: never expires."""
    effective_max_age: datetime.timedelta
    """The maximum age that applies; 0: never expires."""
    must_change_password: bool
    """An admin expired the password (`set_password_aging(user, expire=True)`)."""
    password_state: str
    """"current", "expired" (older than its maximum age) or "must_change"."""
    ssh_keys: List[str]

    @property
    def gid(self) -> Optional[int]:
        return self.uid

    @classmethod
    def read(cls, r: Reader) -> "LinuxAccount":
        user_id = r.i64()
        username = r.text()
        login = r.boolean()
        uid = r.u32()
        real_name, home, shell = r.text(), r.text(), r.text()
        changed = r.optional(r.time)
        max_age = r.optional(r.i64)
        effective = r.i64()
        must_change = r.boolean()
        state = r.u8()
        return cls(
            user_id=user_id,
            username=username,
            login=login,
            uid=uid or None,
            real_name=real_name,
            home=home,
            shell=shell,
            password_changed_at=changed,
            password_max_age=None if max_age is None else datetime.timedelta(seconds=max_age),
            effective_max_age=datetime.timedelta(seconds=effective),
            must_change_password=must_change,
            password_state=PASSWORD_STATES.get(state, f"state {state}"),
            ssh_keys=r.many(r.text),
        )
