#!/usr/bin/env python3
"""Writes the seed corpus for Fuzz/FuzzDecoder.swift from docs/PROTOCOL.md.

Every ```hex example=NAME block becomes two seeds: the whole frame
(NAME.frame, for the frame splitter) and its payload without the length
prefix (NAME, for the request and response decoders); plus a few handmade
seeds for opcodes the document has no example of."""
import pathlib
import re
import sys

doc, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
for old in out.iterdir():
    old.unlink()
text = doc.read_text()
for name, body in re.findall(r"```hex example=([\w-]+)\n(.*?)```", text, re.S):
    frame = bytes.fromhex(body.replace("\n", " "))
    (out / f"{name}.frame").write_bytes(frame)
    (out / name).write_bytes(frame[4:])


def s(b):
    return len(b).to_bytes(2, "big") + b


def req(op, body, rid=1):
    return bytes([1, op]) + rid.to_bytes(4, "big") + body


extra = {
    "create-user": req(0x10, s(b"alice") + b"\x01" + s(b"a@example.com") + s(b"correct horse 1") + b"\x01"),
    "change-password": req(0x12, s(b"bob") + s(b"old pw") + s(b"new pw")),
    "set-password-by-id": req(0x13, b"\x01" + (7).to_bytes(8, "big") + s(b"pw")),
    "get-user-by-uuid": req(0x14, b"\x02" + bytes(range(16))),
    "list-users": req(0x15, (20).to_bytes(4, "big") + (1).to_bytes(4, "big") + b"\x00\x01"),
    "update-user": req(0x16, b"\x03" + s(b"bob") + b"\x01\x01" + s(b"b@example.com") + b"\x0f\x05"),
    "delete-user": req(0x17, b"\x04" + s(b"bob")),
    "account-status": req(0x18, s(b"bob")),
    "unlock-user": req(0x19, b"\x03" + s(b"bob")),
    "issue-token": req(0x23, b"\x03" + s(b"bob") + s(b"label") + (3600).to_bytes(8, "big")),
    "list-events": req(0x40, b"\x01\x01" + (1).to_bytes(8, "big") + (0).to_bytes(8, "big") + (10).to_bytes(4, "big")),
    "reset-password": req(0x31, s(b"vrp_abc") + s(b"new pw")),
}
for name, payload in extra.items():
    (out / name).write_bytes(payload)
    (out / f"{name}.frame").write_bytes(len(payload).to_bytes(4, "big") + payload)
print(f"{len(list(out.iterdir()))} seeds in {out}")
