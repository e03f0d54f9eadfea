#!/usr/bin/env python3
"""A stand-in for vouchd, for the C tests: implements the part of protocol
version 1 (docs/PROTOCOL.md) that libvouch and pam_vouch use, written
independently of the C code, plus the proposed account_status (0x18).

  fake_vouchd.py --socket PATH [--user NAME:PASSWORD[:active|inactive|locked]]...
                 [--mode normal|silent|no-account-status]

silent: accepts connections and reads requests but never answers (timeouts).
Passwords shorter than 8 characters are rejected by the "policy".
"""
import argparse
import os
import secrets
import signal
import socketserver
import struct
import threading
import time
import uuid

OK, INVALID_CREDENTIALS, INACTIVE, NOT_FOUND = 0, 1, 2, 3
PASSWORD_REJECTED, BAD_REQUEST, UNKNOWN_OPCODE, INVALID_TOKEN, LOCKED = 6, 8, 10, 14, 15


class BadRequest(Exception):
    pass


class Reader:
    def __init__(self, b):
        self.b, self.o = b, 0

    def take(self, n):
        if self.o + n > len(self.b):
            raise BadRequest("truncated")
        v = self.b[self.o:self.o + n]
        self.o += n
        return v

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack(">H", self.take(2))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def str(self):
        return self.take(self.u16()).decode("utf-8")

    def sel(self):
        kind = self.u8()
        if kind == 1:
            return ("id", self.i64())
        if kind == 2:
            return ("uuid", self.take(16))
        if kind in (3, 4):
            return ("name", self.str())
        raise BadRequest("selector")

    def finish(self):
        if self.o != len(self.b):
            raise BadRequest("trailing bytes")


def s(v):
    b = v.encode()
    return struct.pack(">H", len(b)) + b


class State:
    def __init__(self, users):
        self.lock = threading.Lock()
        self.users = {}
        self.tokens = {}
        now = int(time.time() * 1000)
        for i, spec in enumerate(users, 1):
            parts = spec.split(":")
            name, pw = parts[0], parts[1]
            st = parts[2] if len(parts) > 2 else "active"
            self.users[name.lower()] = dict(
                id=i, uuid=uuid.uuid4().bytes, username=name, password=pw, state=st,
                created=now, updated=now, last_login=None, failed=0)

    def find(self, sel):
        kind, v = sel
        for u in self.users.values():
            if (kind == "id" and u["id"] == v) or (kind == "uuid" and u["uuid"] == v) or \
               (kind == "name" and (u["username"].lower() == v.lower() or str(u["id"]) == v
                                     or str(uuid.UUID(bytes=u["uuid"])) == v.lower())):
                return u
        return None

    @staticmethod
    def record(u):
        flags = 1 if u["state"] != "inactive" else 0
        b = struct.pack(">q", u["id"]) + u["uuid"] + s(u["username"]) + b"\x00"
        b += struct.pack(">Bqq", flags, u["created"], u["updated"])
        b += b"\x00" if u["last_login"] is None else b"\x01" + struct.pack(">q", u["last_login"])
        b += struct.pack(">I", u["failed"])
        b += b"\x01" + struct.pack(">q", 2**63 - 1) if u["state"] == "locked" else b"\x00"
        return b

    def check(self, name, pw):
        u = self.users.get(name.lower())
        if u is None or u["password"] != pw:
            if u is not None:
                u["failed"] += 1
            return INVALID_CREDENTIALS, None
        if u["state"] == "locked":
            return LOCKED, None
        if u["state"] == "inactive":
            return INACTIVE, None
        return OK, u

    def serve(self, mode, op, r):
        """Returns (status, body bytes or message str)."""
        with self.lock:
            if op == 0x01:
                r.str(); r.finish()
                return OK, struct.pack(">BBI", 1, 1, 65536) + s("fake-0.0")
            if op == 0x02:
                r.finish()
                return OK, b""
            if op == 0x11:
                name, pw, opts = r.str(), r.str(), r.u8()
                r.str(); r.str(); r.str(); r.finish()
                if opts & ~1:
                    raise BadRequest("login options")
                st, u = self.check(name, pw)
                if st != OK:
                    return st, {INVALID_CREDENTIALS: "Invalid username or password",
                                INACTIVE: "The account is inactive",
                                LOCKED: "The account is locked"}[st]
                u["last_login"] = int(time.time() * 1000)
                body = self.record(u)
                if opts & 1:
                    tok = "vch_" + secrets.token_urlsafe(32)
                    exp = int(time.time() * 1000) + 3600_000
                    self.tokens[tok] = (u["username"].lower(), exp)
                    body += b"\x01" + s(tok) + struct.pack(">q", exp)
                else:
                    body += b"\x00"
                return OK, body
            if op == 0x12:
                name, old, new = r.str(), r.str(), r.str()
                r.finish()
                st, u = self.check(name, old)
                if st != OK:
                    return st, "refused"
                if len(new) < 8:
                    return PASSWORD_REJECTED, "The password is too short. (min 8)"
                u["password"] = new
                return OK, b""
            if op == 0x14:
                sel = r.sel(); r.finish()
                u = self.find(sel)
                return (OK, self.record(u)) if u else (NOT_FOUND, "No such user")
            if op == 0x18 and mode != "no-account-status":
                name = r.str(); r.finish()
                u = self.users.get(name.lower())
                if u is None:
                    return NOT_FOUND, "No such user"
                return OK, bytes([{"active": 0, "inactive": 1, "locked": 2}[u["state"]]])
            if op in (0x20, 0x21):
                tok = r.str(); r.finish()
                t = self.tokens.get(tok)
                if t is None:
                    return INVALID_TOKEN, "Invalid token"
                if op == 0x21:
                    del self.tokens[tok]
                    return OK, b""
                return OK, self.record(self.users[t[0]]) + struct.pack(">q", t[1])
            return UNKNOWN_OPCODE, "unknown opcode %d" % op


def make_handler(state, mode):
    class Handler(socketserver.BaseRequestHandler):
        def recv_exact(self, n):
            b = b""
            while len(b) < n:
                chunk = self.request.recv(n - len(b))
                if not chunk:
                    return None
                b += chunk
            return b

        def handle(self):
            while True:
                pre = self.recv_exact(4)
                if pre is None:
                    return
                n = struct.unpack(">I", pre)[0]
                if n == 0 or n > 65536:
                    self.request.sendall(self.frame(0, 0, 13 if n else BAD_REQUEST, s("frame")))
                    return
                p = self.recv_exact(n)
                if p is None:
                    return
                if mode == "silent":
                    continue
                if n < 6:
                    self.request.sendall(self.frame(0, 0, BAD_REQUEST, s("short")))
                    return
                ver, op, rid = struct.unpack(">BBI", p[:6])
                try:
                    if ver != 1:
                        st, body = 9, "protocol version %d is not supported (supported: 1-1)" % ver
                    else:
                        st, body = state.serve(mode, op, Reader(p[6:]))
                except (BadRequest, UnicodeDecodeError) as e:
                    st, body = BAD_REQUEST, str(e)
                if isinstance(body, str):
                    body = s(body)
                self.request.sendall(self.frame(op, rid, st, body))

        @staticmethod
        def frame(op, rid, st, body):
            p = struct.pack(">BBIH", 1, op, rid, st) + body
            return struct.pack(">I", len(p)) + p

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--user", action="append", default=[])
    ap.add_argument("--mode", default="normal", choices=["normal", "silent", "no-account-status"])
    a = ap.parse_args()
    if os.path.exists(a.socket):
        os.unlink(a.socket)
    socketserver.ThreadingUnixStreamServer.daemon_threads = True
    srv = socketserver.ThreadingUnixStreamServer(a.socket, make_handler(State(a.user), a.mode))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    srv.serve_forever()


if __name__ == "__main__":
    main()
