"""Records of what happened: ``notifications.jsonl`` (``JsonlLog``) and the event log (``EventLog``)."""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any

from local_aws.common.times import iso_time

MAX_EVENT_RECORDS = 10_000


class JsonlLog:
    """An append-only JSON-lines file (``notifications.jsonl``) that survives the process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, sort_keys=True, default=str)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def read(self) -> list[dict[str, Any]]:
        with self._lock:
            if not self.path.exists():
                return []
            lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def clear(self) -> None:
        with self._lock:
            self.path.write_text("", encoding="utf-8")


class EventLog:
    """Every event put on a bus, the rules it matched and what each delivery did (for ``/_local/events``).

    Records are mutated in place while asynchronous deliveries finish, so readers get deep copies.
    """

    def __init__(self, limit: int = MAX_EVENT_RECORDS) -> None:
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        self._limit = limit

    def add(self, event: dict[str, Any], bus_name: str) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": event.get("id"),
            "time": iso_time(),
            "bus": bus_name,
            "source": event.get("source"),
            "detail-type": event.get("detail-type"),
            "event": event,
            "matched_rules": [],
            "deliveries": [],
            "error": None,
        }
        with self._lock:
            self._records.append(record)
            del self._records[: -self._limit]
        return record

    def update(self, record: dict[str, Any], **changes: Any) -> None:
        with self._lock:
            record.update(changes)

    def add_delivery(self, record: dict[str, Any], delivery: dict[str, Any]) -> None:
        with self._lock:
            record["deliveries"].append(delivery)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
