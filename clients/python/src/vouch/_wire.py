"""The wire format of docs/PROTOCOL.md: frames, field types, messages.  No I/O."""

from __future__ import annotations

import datetime
import struct
import uuid
from typing import Callable, List, Optional, TypeVar, Union

from ._errors import ProtocolError

VERSION = 1
LENGTH_PREFIX = 4
REQUEST_HEADER = 6  # version, opcode, request id
RESPONSE_HEADER = 8  # version, opcode, request id, status
MAX_REQUEST_ID = 0xFFFFFFFF

# Opcodes (PROTOCOL.md, "Operations").
HELLO = 0x01
PING = 0x02
STATUS = 0x03
CREATE_USER = 0x10
LOGIN = 0x11
CHANGE_PASSWORD = 0x12
SET_PASSWORD = 0x13
GET_USER = 0x14
LIST_USERS = 0x15
UPDATE_USER = 0x16
DELETE_USER = 0x17
ACCOUNT_STATUS = 0x18
UNLOCK_USER = 0x19
VERIFY_TOKEN = 0x20
REVOKE_TOKEN = 0x21
REVOKE_TOKENS = 0x22
ISSUE_TOKEN = 0x23
FORGOT_PASSWORD = 0x30
RESET_PASSWORD = 0x31
REQUEST_VERIFY = 0x32
VERIFY_EMAIL = 0x33
GET_LINUX_ACCOUNT = 0x60
SET_LINUX_ACCOUNT = 0x61
ADD_SSH_KEY = 0x62
REMOVE_SSH_KEY = 0x63
SET_PASSWORD_AGING = 0x64

# Account flags.
FLAG_ACTIVE = 1
FLAG_ADMIN = 2
FLAG_SUPERUSER = 4
FLAG_VERIFIED = 8

# user_sel kinds.
SELECT_ID = 1
SELECT_UUID = 2
SELECT_USERNAME = 3

_I64_MAX = 2**63 - 1
_UTC = datetime.timezone.utc
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)

UserRef = Union[str, int, uuid.UUID]
"""A user named by username (str), id (int) or uuid (uuid.UUID)."""


class Writer:
    """Appends fields to a request body.  Secrets go into the same bytearray,
    which the client wipes after sending it."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def u8(self, value: int) -> "Writer":
        self.buffer += struct.pack(">B", value)
        return self

    def u32(self, value: int) -> "Writer":
        self.buffer += struct.pack(">I", value)
        return self

    def i64(self, value: int) -> "Writer":
        self.buffer += struct.pack(">q", value)
        return self

    def boolean(self, value: bool) -> "Writer":
        return self.u8(1 if value else 0)

    def text(self, value: str, field: str = "text") -> "Writer":
        data = value.encode("utf-8")
        if len(data) > 0xFFFF:
            raise ValueError(f"{field} is longer than 65535 bytes")
        self.buffer += struct.pack(">H", len(data))
        self.buffer += data
        return self

    def secret(self, value: str, field: str = "secret") -> "Writer":
        if not isinstance(value, str):
            raise TypeError(f"{field} must be a str")
        data = bytearray(value.encode("utf-8"))
        try:
            if len(data) > 0xFFFF:
                raise ValueError(f"{field} is longer than 65535 bytes")
            self.buffer += struct.pack(">H", len(data))
            self.buffer += data
        finally:
            wipe(data)
        return self

    def opt_str(self, value: Optional[str]) -> "Writer":
        if value is None:
            return self.u8(0)
        return self.u8(1).text(value)

    def user(self, ref: UserRef) -> "Writer":
        """A `user_sel`: an int is an id, a UUID a uuid, a str a username."""
        if isinstance(ref, bool):
            raise TypeError("a user is named by a username (str), an id (int) or a uuid.UUID")
        if isinstance(ref, int):
            return self.u8(SELECT_ID).i64(ref)
        if isinstance(ref, uuid.UUID):
            self.u8(SELECT_UUID)
            self.buffer += ref.bytes
            return self
        if isinstance(ref, str):
            return self.u8(SELECT_USERNAME).text(ref, "username")
        raise TypeError("a user is named by a username (str), an id (int) or a uuid.UUID")


def wipe(buffer: bytearray) -> None:
    """Overwrites a buffer that held a secret."""
    buffer[:] = bytes(len(buffer))


def encode_request(opcode: int, request_id: int, body: Union[bytes, bytearray] = b"") -> bytearray:
    """One request frame: length prefix, version, opcode, request id, body."""
    if not 1 <= request_id <= MAX_REQUEST_ID:
        raise ValueError("request ids run from 1 to 2**32-1 (0 is reserved)")
    frame = bytearray(struct.pack(">IBBI", REQUEST_HEADER + len(body), VERSION, opcode, request_id))
    frame += body
    return frame


def frame_length(prefix: bytes, max_bytes: int) -> int:
    """Checks a reply's length prefix before its payload is read."""
    length = int(struct.unpack(">I", prefix)[0])
    if length == 0:
        raise ProtocolError("the daemon sent a zero-length frame")
    if length > max_bytes:
        raise ProtocolError(f"the daemon sent a frame of {length} bytes (the cap is {max_bytes})")
    if length < RESPONSE_HEADER:
        raise ProtocolError(f"the daemon sent a frame of {length} bytes, shorter than a response header")
    return length


class Response:
    """A decoded response payload: the header, and the body still to be read."""

    __slots__ = ("opcode", "request_id", "status", "body")

    def __init__(self, opcode: int, request_id: int, status: int, body: bytes) -> None:
        self.opcode = opcode
        self.request_id = request_id
        self.status = status
        self.body = body

    @classmethod
    def decode(cls, payload: bytes) -> "Response":
        if len(payload) < RESPONSE_HEADER:
            raise ProtocolError("the daemon sent a response shorter than its header")
        version, opcode, request_id, status = struct.unpack(">BBIH", payload[:RESPONSE_HEADER])
        if version != VERSION:
            raise ProtocolError(f"the daemon answered in protocol version {version}")
        return cls(opcode, request_id, status, payload[RESPONSE_HEADER:])

    def message(self) -> str:
        """The message of a non-ok response (an empty body is an empty message)."""
        if not self.body:
            return ""
        try:
            reader = Reader(self.body)
            text = reader.text()
            reader.end()
            return text
        except ProtocolError:
            return ""


T = TypeVar("T")


class Reader:
    """Reads fields from a reply body; a truncated field or leftover bytes is a ProtocolError."""

    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.offset = 0

    def _take(self, n: int) -> bytes:
        if self.offset + n > len(self.data):
            raise ProtocolError("the daemon sent a truncated reply")
        chunk = bytes(self.data[self.offset : self.offset + n])
        self.offset += n
        return chunk

    def u8(self) -> int:
        return self._take(1)[0]

    def u16(self) -> int:
        return int(struct.unpack(">H", self._take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack(">I", self._take(4))[0])

    def i64(self) -> int:
        return int(struct.unpack(">q", self._take(8))[0])

    def boolean(self) -> bool:
        value = self.u8()
        if value > 1:
            raise ProtocolError("the daemon sent a bool other than 0 or 1")
        return value == 1

    def text(self) -> str:
        data = self._take(self.u16())
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("the daemon sent invalid UTF-8") from None

    def uuid_value(self) -> uuid.UUID:
        return uuid.UUID(bytes=self._take(16))

    def time(self) -> datetime.datetime:
        return to_datetime(self.i64())

    def optional(self, read: Callable[[], T]) -> Optional[T]:
        present = self.boolean()
        return read() if present else None

    def many(self, read: Callable[[], T]) -> List[T]:
        return [read() for _ in range(self.u32())]

    def end(self) -> None:
        if self.offset != len(self.data):
            raise ProtocolError("the daemon sent a reply with bytes left over")


def to_datetime(milliseconds: int) -> datetime.datetime:
    """A wire `time` as an aware UTC datetime (i64 max, "until unlocked", is datetime.max)."""
    if milliseconds == _I64_MAX:
        return datetime.datetime.max.replace(tzinfo=_UTC)
    try:
        return _EPOCH + datetime.timedelta(milliseconds=milliseconds)
    except OverflowError:
        raise ProtocolError("the daemon sent a time out of range") from None

