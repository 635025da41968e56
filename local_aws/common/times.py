"""Times on the wire: EventBridge's envelope time, epoch seconds for the JSON protocols, ``json_ready``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def iso_time(moment: datetime | None = None) -> str:
    """EventBridge's envelope time format: ``2026-11-24T16:00:00Z``."""
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_seconds(value: Any) -> Any:
    """AWS JSON protocols send timestamps as epoch seconds; datetimes become floats, anything else stays."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.timestamp()
    return value


def json_ready(value: Any, *, times: str = "epoch") -> Any:
    """Deep copy of ``value`` with datetimes rendered for the wire.

    ``times``: ``epoch`` (seconds, the JSON protocols), ``millis`` or ``iso`` (``2026-11-03T09:41:16Z``,
    as in SageMaker's EventBridge events).
    """
    if isinstance(value, datetime):
        if times == "iso":
            moment = value if value.tzinfo else value.replace(tzinfo=UTC)
            return iso_time(moment.astimezone(UTC))
        seconds = epoch_seconds(value)
        return int(seconds * 1000) if times == "millis" else seconds
    if isinstance(value, dict):
        return {k: json_ready(v, times=times) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v, times=times) for v in value]
    return value
