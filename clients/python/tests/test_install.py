"""The installed package: what `pip install ./clients/python` put in place."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import vouch
from vouchd_fixture import PASSWORD, Daemon, unique


def test_installed_with_its_metadata_and_type_marker() -> None:
    assert metadata.version("vouch") == vouch.__version__
    assert metadata.metadata("vouch")["Requires-Python"] == ">=3.9"
    assert (Path(vouch.__file__).parent / "py.typed").exists()


def test_python_c_logs_in(daemon: Daemon) -> None:
    name = unique()
    with daemon.client() as admin:
        admin.create_user(name, PASSWORD)
    code = f"import vouch; print(vouch.Client({daemon.socket_path!r}).login({name!r}, {PASSWORD!r}).user.username)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == name
