"""Shared fixtures. Every test runs offline and without real AWS credentials."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (a failure reproduces; CI never fails by chance).
# Run them with HYPOTHESIS_PROFILE=explore for fresh random examples while developing.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

ROOT = Path(__file__).resolve().parent.parent

_SCRUBBED_PREFIXES = ("AWS_", "MLOPS_", "SAGEMAKER_", "TF_VAR_")


def pytest_configure(config: pytest.Config) -> None:
    """Scrub real AWS settings for the whole session too: module- and session-scoped fixtures are set up
    before the function-scoped scrub below (a CI job may export AWS_ENDPOINT_URL for a live endpoint)."""
    for key in list(os.environ):
        if key.startswith(_SCRUBBED_PREFIXES) and not key.startswith("MLOPS_ALLOW_"):
            del os.environ[key]
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Dummy credentials, no instance metadata, no real profiles or config files, no MLOPS_ overrides."""
    for key in list(os.environ):
        if key.startswith(_SCRUBBED_PREFIXES) and not key.startswith("MLOPS_ALLOW_"):
            monkeypatch.delenv(key, raising=False)
    empty = tmp_path_factory.getbasetemp() / "empty-aws-config"
    empty.write_text("")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    from pipeline_scripts.build.session import prepare_sdk

    prepare_sdk()


def missing_tool(switch: str, reason: str) -> None:
    """A tool the tests need is missing: fail saying so, or skip when ``MLOPS_ALLOW_<switch>=1``."""
    variable = f"MLOPS_ALLOW_{switch}"
    if os.environ.get(variable) == "1":
        pytest.skip(f"{variable}=1: {reason}")
    pytest.fail(f"{reason} (set {variable}=1 to skip)", pytrace=False)


class NetworkBlockedError(RuntimeError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[object, ...]]]:
    """Fail any outbound connection; yields the list of attempts (for assertions)."""
    attempts: list[tuple[object, ...]] = []

    def refuse(self: socket.socket, address: object, *args: object) -> None:
        attempts.append((address,))
        raise NetworkBlockedError(f"network call to {address!r} during an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield attempts


@pytest.fixture
def repo_root() -> Path:
    return ROOT
