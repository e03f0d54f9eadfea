"""A real vouchd for the tests: started on a temporary socket, database,
configuration and hooks directory, and stopped afterwards.

vouchd is .build/debug/vouchd of this checkout, or $VOUCHD.  The tests run
as root or as the daemon's own uid, so they are admin peers (see
docs/PROTOCOL.md, Authorization); `as_nobody` runs code as uid 65534.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

import pytest

import vouch

ROOT = Path(__file__).resolve().parents[3]
VOUCHD = os.environ.get("VOUCHD") or str(ROOT / ".build" / "debug" / "vouchd")
PACKAGE_SOURCE = str(Path(__file__).resolve().parents[1] / "src")

# Cheap hashing, so the tests spend their time on what they test.
BASE_CONFIG = {
    "socket_mode": "0666",
    "socket_group": "none",
    "admin_group": "none",
    "log_level": "debug",
    "argon2_memory_kib": "1024",
    "argon2_iterations": "1",
    "argon2_parallelism": "1",
}

RECORDER = """#!/bin/sh
# Saves the event's JSON (it holds the token) where the test reads it.
n=$(date +%s%N)
cat > "{out}/.$VOUCH_EVENT.$n"
mv "{out}/.$VOUCH_EVENT.$n" "{out}/$VOUCH_EVENT.$n.json"
"""

# Users whose name starts with "keep-" cannot be deleted.
VETO = """#!/bin/sh
case "$(cat)" in *'"username":"keep-'*) echo "keep- users are kept" >&2; exit 1;; esac
"""


class Daemon:
    """One vouchd process and its temporary directory."""

    def __init__(self, config: Optional[Dict[str, str]] = None) -> None:
        if not os.access(VOUCHD, os.X_OK):
            pytest.fail(f"{VOUCHD} is missing: build it first (swift build --product vouchd)")
        self.directory = Path(tempfile.mkdtemp(prefix="vouch-py-"))
        self.directory.chmod(0o755)  # so a test running as another uid reaches the socket
        self.socket_path = str(self.directory / "vouchd.sock")
        self.database_path = str(self.directory / "vouch.db")
        self.config_path = self.directory / "vouchd.conf"
        self.log_path = self.directory / "vouchd.log"
        self.hook_output = self.directory / "hooks.out"
        self.hook_output.mkdir()
        hooks = self.directory / "hooks.d"
        for event in ("forgot_password", "request_verify"):
            (hooks / event).mkdir(parents=True)
            script = hooks / event / "50-record"
            script.write_text(RECORDER.format(out=self.hook_output))
            script.chmod(0o755)
        (hooks / "before_delete").mkdir()
        veto = hooks / "before_delete" / "50-keep"
        veto.write_text(VETO)
        veto.chmod(0o755)
        settings = dict(BASE_CONFIG)
        settings.update(
            socket_path=self.socket_path, database_path=self.database_path, hooks_dir=str(hooks)
        )
        settings.update(config or {})
        self.config_path.write_text("".join(f"{k} = {v}\n" for k, v in settings.items()))
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.start()

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [VOUCHD, "--config", str(self.config_path), "--log-to", "stderr"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"vouchd exited with {self.process.returncode}:\n{self.log()}")
            try:
                with vouch.Client(self.socket_path, timeout=2) as client:
                    client.ping()
                return
            except vouch.Unavailable:
                time.sleep(0.02)
        pytest.fail(f"vouchd did not answer within 20 s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def client(self, **options: object) -> vouch.Client:
        return vouch.Client(self.socket_path, **options)  # type: ignore[arg-type]

    def async_client(self, **options: object) -> vouch.AsyncClient:
        return vouch.AsyncClient(self.socket_path, **options)  # type: ignore[arg-type]

    def hook_documents(self, event: str) -> List[dict]:
        found = sorted(self.hook_output.glob(f"{event}.*.json"))
        return [json.loads(p.read_text()) for p in found]

    def hook_token(self, event: str, username: str, seconds: float = 20) -> str:
        """The newest token a hook received for `username` (hooks run after the answer)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            documents = [d for d in self.hook_documents(event) if (d.get("user") or {}).get("username") == username]
            if documents:
                return str(documents[-1]["token"])
            time.sleep(0.02)
        raise AssertionError(f"no {event} hook ran for {username}")

    def as_nobody(self, code: str) -> subprocess.CompletedProcess:
        """Runs Python `code` as uid 65534 with this package importable; `SOCKET` is the socket path."""
        python = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else "python3"
        return subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", python, "-c", code],
            env={"PYTHONPATH": PACKAGE_SOURCE, "SOCKET": self.socket_path, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
        )


@pytest.fixture(scope="session")
def daemon() -> Iterator[Daemon]:
    """A daemon shared by the tests that need no special configuration (each uses its own users)."""
    d = Daemon()
    yield d
    d.close()


@pytest.fixture
def make_daemon() -> Iterator[Callable[..., Daemon]]:
    """Starts daemons with extra configuration lines; all are stopped after the test."""
    started: List[Daemon] = []

    def make(**config: str) -> Daemon:
        d = Daemon(config)
        started.append(d)
        return d

    yield make
    for d in started:
        d.close()


@pytest.fixture
def client(daemon: Daemon) -> Iterator[vouch.Client]:
    with daemon.client() as c:
        yield c


def unique(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


PASSWORD = "correct horse 1"


@pytest.fixture
def user(client: vouch.Client) -> vouch.User:
    """A fresh active user with the password PASSWORD and an email."""
    name = unique()
    return client.create_user(name, PASSWORD, email=f"{name}@example.com")


