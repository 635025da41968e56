"""Fixtures for the Lambda handler tests.

The handlers are packaged flat (``common.py`` next to ``notifier.py`` at the zip root), exactly as the
Lambda runtime imports them, so their folder goes on ``sys.path`` here rather than becoming a package.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
LAMBDA_SRC = ROOT / "code" / "lambda_function"
EVENTS = ROOT / "tests" / "events"

if str(LAMBDA_SRC) not in sys.path:
    sys.path.insert(0, str(LAMBDA_SRC))

import common  # noqa: E402  (needs the path above)

_CACHE: dict[str, dict[str, Any]] = {}


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of ``tests/events/<name>.json`` (tests may edit it)."""
    if name not in _CACHE:
        _CACHE[name] = json.loads((EVENTS / f"{name}.json").read_text())
    return copy.deepcopy(_CACHE[name])


@pytest.fixture
def event() -> Callable[[str], dict[str, Any]]:
    return load_event


@pytest.fixture(autouse=True)
def _fresh_clients() -> Iterator[None]:
    """No client injected by one test leaks into the next."""
    common.reset_clients()
    yield
    common.reset_clients()


_SESSION: list[Any] = []


@pytest.fixture
def aws_session() -> Any:
    """One boto3 session for the whole run: its clients share loaded service models (fast to create).

    Created inside the first test that asks, so it sees the dummy credentials of tests/conftest.py.
    """
    if not _SESSION:
        import boto3

        _SESSION.append(boto3.session.Session(region_name="us-east-1"))
    return _SESSION[0]
