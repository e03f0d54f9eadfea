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


def test_the_build_backend_makes_wheel_sdist_and_editable(tmp_path: Path) -> None:
    import base64
    import hashlib
    import tarfile
    import zipfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    try:
        import vouch_build
    finally:
        sys.path.pop(0)
    wheel = zipfile.ZipFile(tmp_path / vouch_build.build_wheel(str(tmp_path)))
    names = set(wheel.namelist())
    assert {"vouch/__init__.py", "vouch/py.typed", "vouch-0.1.0.dist-info/METADATA"} <= names
    for line in wheel.read("vouch-0.1.0.dist-info/RECORD").decode().splitlines():
        name, digest, size = line.split(",")
        if digest:
            data = wheel.read(name)
            assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert int(size) == len(data)
    assert "Requires-Python: >=3.9" in wheel.read("vouch-0.1.0.dist-info/METADATA").decode()

    with tarfile.open(tmp_path / vouch_build.build_sdist(str(tmp_path))) as sdist:
        members = set(sdist.getnames())
    assert {"vouch-0.1.0/PKG-INFO", "vouch-0.1.0/pyproject.toml", "vouch-0.1.0/src/vouch/_wire.py"} <= members

    (tmp_path / "editable").mkdir()
    editable = zipfile.ZipFile(tmp_path / "editable" / vouch_build.build_editable(str(tmp_path / "editable")))
    assert "_vouch_editable.pth" in editable.namelist()
