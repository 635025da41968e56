"""The moto surface the local endpoint builds on. No moto internals are patched; these tests fail first
when a moto upgrade moves what the layer relies on (moto is pinned exactly in pyproject.toml)."""

from __future__ import annotations

import re
from importlib.metadata import version

from tests.conftest import ROOT


def test_moto_is_the_pinned_version() -> None:
    pinned = re.search(r'"moto\[server\]==([^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert pinned is not None
    assert version("moto") == pinned.group(1)


def test_server_app_pieces_exist() -> None:
    # ThreadedMotoServer builds its app from exactly these; LocalAWS wraps the same app in its layer.
    import inspect

    from moto.moto_server import threaded_moto_server
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        create_backend_app,
    )

    source = inspect.getsource(threaded_moto_server.ThreadedMotoServer._server_entry)
    assert "DomainDispatcherApplication(create_backend_app)" in source
    assert "request_handler=MotoRequestHandler" in source
    assert callable(DomainDispatcherApplication(create_backend_app))
