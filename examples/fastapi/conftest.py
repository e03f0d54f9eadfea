"""The vouchd fixtures of the Python client's tests (clients/python/tests/conftest.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python" / "tests"))

from vouchd_fixture import PASSWORD, Daemon, daemon, make_daemon, unique  # noqa: E402,F401
