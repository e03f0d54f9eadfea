"""A PEP 517 build backend in the standard library only (the package has no
build dependency to download).  Builds a pure-Python wheel of src/vouch,
an editable wheel (PEP 660) and an sdist."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile
from typing import Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "vouch"
SDIST_FILES = ["pyproject.toml", "vouch_build.py", "README.md"]


def _project() -> Dict[str, str]:
    """The plain `key = "value"` lines of pyproject.toml's [project] table."""
    fields: Dict[str, str] = {}
    section = ""
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line.strip("[]")
            elif section == "project":
                m = re.match(r'^([A-Za-z-]+)\s*=\s*"([^"]*)"$', line)
                if m:
                    fields[m.group(1)] = m.group(2)
    return fields


def _metadata() -> bytes:
    p = _project()
    with open(os.path.join(ROOT, p["readme"]), encoding="utf-8") as f:
        readme = f.read()
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {p['name']}",
        f"Version: {p['version']}",
        f"Summary: {p['description']}",
        f"Requires-Python: {p['requires-python']}",
        f"License: {p['license']}",
        "Description-Content-Type: text/markdown",
        "",
        readme,
    ]
    return "\n".join(lines).encode("utf-8")


def _dist_info() -> str:
    p = _project()
    return f"{p['name']}-{p['version']}.dist-info"


def _wheel_name() -> str:
    p = _project()
    return f"{p['name']}-{p['version']}-py3-none-any.whl"


def _package_files() -> List[Tuple[str, str]]:
    """(path in the wheel, path on disk) for every file of the package."""
    base = os.path.join(ROOT, "src")
    out = []
    for directory, dirs, files in os.walk(os.path.join(base, PACKAGE)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".typed")):
                disk = os.path.join(directory, name)
                out.append((os.path.relpath(disk, base).replace(os.sep, "/"), disk))
    return out


def _write_wheel(directory: str, entries: List[Tuple[str, bytes]]) -> str:
    dist_info = _dist_info()
    entries = entries + [
        (f"{dist_info}/METADATA", _metadata()),
        (f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: vouch_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
    ]
    record = []
    path = os.path.join(directory, _wheel_name())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in entries:
            wheel.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{name},sha256={digest},{len(data)}")
        record.append(f"{dist_info}/RECORD,,")
        wheel.writestr(zipfile.ZipInfo(f"{dist_info}/RECORD", date_time=(1980, 1, 1, 0, 0, 0)), "\n".join(record) + "\n")
    return os.path.basename(path)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def get_requires_for_build_wheel(config_settings: Optional[dict] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[dict] = None) -> List[str]:
    return []


def get_requires_for_build_editable(config_settings: Optional[dict] = None) -> List[str]:
    return []


def prepare_metadata_for_build_wheel(directory: str, config_settings: Optional[dict] = None) -> str:
    dist_info = os.path.join(directory, _dist_info())
    os.makedirs(dist_info, exist_ok=True)
    with open(os.path.join(dist_info, "METADATA"), "wb") as f:
        f.write(_metadata())
    return _dist_info()


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(
    wheel_directory: str, config_settings: Optional[dict] = None, metadata_directory: Optional[str] = None
) -> str:
    return _write_wheel(wheel_directory, [(name, _read(disk)) for name, disk in _package_files()])


def build_editable(
    wheel_directory: str, config_settings: Optional[dict] = None, metadata_directory: Optional[str] = None
) -> str:
    pth = (os.path.join(ROOT, "src") + "\n").encode("utf-8")
    return _write_wheel(wheel_directory, [(f"_{PACKAGE}_editable.pth", pth)])


def build_sdist(sdist_directory: str, config_settings: Optional[dict] = None) -> str:
    p = _project()
    stem = f"{p['name']}-{p['version']}"
    path = os.path.join(sdist_directory, f"{stem}.tar.gz")
    files = [(name, os.path.join(ROOT, name)) for name in SDIST_FILES]
    files += [("src/" + name, disk) for name, disk in _package_files()]
    with tarfile.open(path, "w:gz") as sdist:
        for name, disk in files:
            data = _read(disk)
            info = tarfile.TarInfo(f"{stem}/{name}")
            info.size = len(data)
            info.mode = 0o644
            sdist.addfile(info, io.BytesIO(data))
        pkg_info = _metadata()
        info = tarfile.TarInfo(f"{stem}/PKG-INFO")
        info.size = len(pkg_info)
        info.mode = 0o644
        sdist.addfile(info, io.BytesIO(pkg_info))
    return os.path.basename(path)
