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

    Records are mutated in place while asynchronous deliveries finish, so readers get deep copies. With a
    ``path`` (``events.jsonl``) each change appends the record as it now is (``[number, record]``): a
    restarted endpoint reads the last state of each record back.
    """

    def __init__(self, limit: int = MAX_EVENT_RECORDS, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        self._limit = limit
        self._path = path
        self._numbers: dict[int, int] = {}  # id(record) → its number in the file
        self._parents: dict[int, dict[str, Any]] = {}  # id(delivery) → the record it is part of
        self._count = 0
        if path is not None:
            self._load(path)

    def _load(self, path: Path) -> None:
        if not path.exists():
            return
        latest: dict[int, dict[str, Any]] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                number, record = json.loads(line)
            except ValueError:
                continue  # a torn last line
            latest[int(number)] = record
        for number in sorted(latest)[-self._limit :]:
            self._records.append(latest[number])
            self._numbers[id(latest[number])] = number
        self._count = max(latest, default=0)

    def _save(self, record: dict[str, Any]) -> None:
        """Append ``record`` as it now is (the caller holds the lock)."""
        if self._path is None:
            return
        number = self._numbers.get(id(record))
        if number is None:
            self._count += 1
            number = self._numbers[id(record)] = self._count
        with self._path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps([number, record], default=str) + "\n")

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
            for dropped in self._records[: -self._limit]:
                self._numbers.pop(id(dropped), None)
                for delivery in dropped.get("deliveries", []):
                    self._parents.pop(id(delivery), None)
            del self._records[: -self._limit]
            self._save(record)
        return record

    def update(self, record: dict[str, Any], **changes: Any) -> None:
        with self._lock:
            record.update(changes)  # a record, or one of its deliveries
            self._save(self._parents.get(id(record), record))

    def add_delivery(self, record: dict[str, Any], delivery: dict[str, Any]) -> None:
        with self._lock:
            record["deliveries"].append(delivery)
            if self._path is not None:
                self._parents[id(delivery)] = record
            self._save(record)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._numbers.clear()
            self._parents.clear()
            if self._path is not None:
                self._path.write_text("", encoding="utf-8")
