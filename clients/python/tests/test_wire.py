"""The encoders and decoders, byte for byte against docs/PROTOCOL.md's hex examples."""

from __future__ import annotations

import datetime
import re
import uuid
from pathlib import Path
from typing import Dict

import pytest

import vouch
from vouch import _ops as ops
from vouch._connection import RequestIds, result
from vouch._wire import LENGTH_PREFIX, MAX_REQUEST_ID, Response, encode_request, frame_length

PROTOCOL = Path(__file__).resolve().parents[3] / "docs" / "PROTOCOL.md"


def examples() -> Dict[str, bytes]:
    text = PROTOCOL.read_text()
    found = {
        name: bytes.fromhex(body.replace("\n", " "))
        for name, body in re.findall(r"```hex example=([\w-]+)\n(.*?)```", text, re.S)
    }
    assert len(found) >= 10, "PROTOCOL.md's examples were not found"
    return found


EXAMPLES = examples()


def frame(call: "ops.Call[object]", request_id: int) -> bytes:
    return bytes(encode_request(call.opcode, request_id, call.body))


def response(name: str) -> Response:
    data = EXAMPLES[name]
    return Response.decode(data[LENGTH_PREFIX : LENGTH_PREFIX + frame_length(data[:LENGTH_PREFIX], 1 << 20)])


def test_requests_match_the_examples() -> None:
    assert frame(ops.hello("vouchctl"), 1) == EXAMPLES["hello-request"]
    assert frame(ops.ping(), 7) == EXAMPLES["ping-request"]
    assert frame(ops.login("bob", "correct horse 1", False, "", "", ""), 42) == EXAMPLES["login-request"]
    assert frame(ops.login("bob", "correct horse 1", True, "sshd", "", ""), 43) == EXAMPLES["login-token-request"]
    assert frame(ops.verify_token("vch_abc"), 9) == EXAMPLES["verify-token-request"]


BOB = dict(
    id=1,
    uuid=uuid.UUID("00112233-4455-6677-8899-aabbccddeeff"),
    username="bob",
    email=None,
    active=True,
    admin=False,
    superuser=False,
    verified=False,
    created_at=datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=datetime.timezone.utc),
    updated_at=datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=datetime.timezone.utc),
    last_login=datetime.datetime(2023, 11, 14, 22, 13, 21, tzinfo=datetime.timezone.utc),
    failed_logins=0,
    locked_until=None,
)


def test_replies_match_the_examples() -> None:
    assert result(ops.hello("vouchctl"), response("hello-reply")) == 65536
    assert result(ops.ping(), response("ping-reply")) is None
    login = result(ops.login("bob", "x", False, "", "", ""), response("login-reply"))
    assert login == vouch.Login(vouch.User(**BOB))  # type: ignore[arg-type]
    assert login.token is None and login.expires_at is None
    assert result(ops.verify_token("vch_abc"), response("verify-token-reply")) == vouch.User(**BOB)  # type: ignore[arg-type]


def test_refusals_become_their_exceptions() -> None:
    with pytest.raises(vouch.InvalidCredentials) as refused:
        result(ops.login("bob", "x", False, "", "", ""), response("login-refused"))
    assert refused.value.status == 1
    assert str(refused.value) == "Invalid username or password"
    with pytest.raises(vouch.BadRequest) as unsupported:
        result(ops.ping(), response("unsupported-version-reply"))
    assert unsupported.value.status == 9
    assert "protocol version 2" in unsupported.value.message


def test_an_unknown_status_is_a_vouch_error_showing_its_number() -> None:
    unknown = Response(0x02, 1, 99, b"")
    with pytest.raises(vouch.VouchError, match="status 99") as e:
        result(ops.ping(), unknown)
    assert type(e.value) is vouch.VouchError and e.value.status == 99


def test_trailing_bytes_and_truncation_are_protocol_errors() -> None:
    ping = EXAMPLES["ping-reply"]
    with pytest.raises(vouch.ProtocolError):
        result(ops.ping(), Response.decode(ping[LENGTH_PREFIX:] + b"\x00"))
    with pytest.raises(vouch.ProtocolError):
        result(ops.verify_token("t"), Response.decode(EXAMPLES["verify-token-reply"][LENGTH_PREFIX:-1]))


def test_the_reply_cap_is_checked_on_the_prefix() -> None:
    assert frame_length(b"\x00\x00\x01\x00", 256) == 256
    with pytest.raises(vouch.ProtocolError, match="257 bytes"):
        frame_length(b"\x00\x00\x01\x01", 256)
    with pytest.raises(vouch.ProtocolError):
        frame_length(b"\x00\x00\x00\x00", 256)


def test_request_ids_skip_zero_and_ids_in_flight() -> None:
    ids = RequestIds()
    assert ids.take() == 1
    ids._next = MAX_REQUEST_ID
    assert ids.take() == MAX_REQUEST_ID
    assert ids.take({1, 2}) == 3  # wrapped past 0, and past the ids in flight
    with pytest.raises(ValueError):
        encode_request(0x02, 0)


def test_secrets_stay_out_of_reprs() -> None:
    login = vouch.Login(vouch.User(**BOB), "vch_secret-token", BOB["created_at"])  # type: ignore[arg-type]
    issued = vouch.IssuedToken("vch_other-secret", BOB["created_at"])  # type: ignore[arg-type]
    assert "vch_secret-token" not in repr(login) and "<hidden>" in repr(login)
    assert "vch_other-secret" not in repr(issued)


def test_sources_parse_as_python_3_9() -> None:
    import ast

    source = Path(vouch.__file__).parent
    for path in source.glob("*.py"):
        ast.parse(path.read_text(), str(path), feature_version=(3, 9))


LINUX_BOB = dict(
    user_id=1,
    username="bob",
    login=True,
    uid=70000,
    real_name="Bob",
    home="/home/bob",
    shell="/bin/bash",
    password_changed_at=None,
    password_max_age=None,
    effective_max_age=datetime.timedelta(0),
    must_change_password=False,
    password_state="current",
    ssh_keys=[],
)


def test_linux_login_requests_and_reply_match_the_examples() -> None:
    assert frame(ops.get_linux_account("bob"), 12) == EXAMPLES["get-linux-account-request"]
    assert frame(ops.set_linux_account("bob", True, None, None, None), 13) == EXAMPLES["set-linux-account-request"]
    account = result(ops.set_linux_account("bob", True, None, None, None), response("linux-account-reply"))
    assert account == vouch.LinuxAccount(**LINUX_BOB)  # type: ignore[arg-type]
    assert account.gid == 70000


def test_linux_login_encoders_set_only_the_bits_given() -> None:
    body = bytes(ops.set_linux_account(7, None, "Bob B", None, "").body)
    assert body[9] == 0b1010  # real_name and shell; login false
    body = bytes(ops.set_password_aging(7, None, True).body)
    assert body[9:] == b"\x03" + (-1).to_bytes(8, "big", signed=True)  # default max age, and expire now
    body = bytes(ops.set_password_aging(7, datetime.timedelta(days=2), False).body)
    assert body[9:] == b"\x01" + (2 * 86400).to_bytes(8, "big")
    body = bytes(ops.set_password_aging(7, ops._UNCHANGED, True).body)
    assert body[9:] == b"\x02" + (-1).to_bytes(8, "big", signed=True)  # max_age unused: -1, as the daemon wants
    with pytest.raises(ValueError):
        ops.set_password_aging(7, ops._UNCHANGED, False)
    with pytest.raises(ValueError):
        ops.set_password_aging(7, -5, False)


def test_an_expired_password_is_password_expired() -> None:
    with pytest.raises(vouch.PasswordExpired) as expired:
        result(ops.login("bob", "x", False, "", "", ""), response("login-password-expired"))
    assert expired.value.status == 22
    assert str(expired.value) == "The password has expired and must be changed"
