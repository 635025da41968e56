"""AWS's own errors reach the user as one line and a hint, never a traceback."""

from __future__ import annotations

import socket

import pytest

from pipeline_scripts import cli
from pipeline_scripts.cli import EXIT_ERROR, main


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_endpoint_that_is_not_running_is_named_with_how_to_start_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    assert main(["pipelines", "status"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert f"error: cannot reach the endpoint in AWS_ENDPOINT_URL ({url})" in err
    assert "hint: start the local endpoint (mlops local up) or unset AWS_ENDPOINT_URL" in err
    assert "Traceback" not in err


def test_missing_credentials_say_how_to_get_some(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")  # never reached
    assert main(["data", "upload", "training"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "error: no AWS credentials found" in err
    assert "mlops local up" in err
    assert "Traceback" not in err


def test_other_exceptions_are_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise KeyError("a bug, not an AWS error")

    monkeypatch.setitem(cli.COMMANDS, ("pipelines", "status"), boom)
    with pytest.raises(KeyError):
        main(["pipelines", "status"])
