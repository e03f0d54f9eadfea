"""The fixtures live in vouchd_fixture.py, shared with examples/fastapi."""

from vouchd_fixture import client, daemon, make_daemon, user  # noqa: F401
