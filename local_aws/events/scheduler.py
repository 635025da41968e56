"""Schedules: ``rate(...)`` rules fire one period after the scheduler first sees them, ``cron(...)`` rules
in each UTC minute they match (``cron.py``)."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from local_aws.events import cron

if TYPE_CHECKING:
    from local_aws.events.bus import EventBus

log = logging.getLogger(__name__)

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float | None:
    """``rate(5 minutes)`` → 300.0; ``None`` for ``cron(...)`` and anything else."""
    found = _RATE.match(expression.strip())
    if not found:
        return None
    unit = found.group(2).rstrip("s")
    return float(int(found.group(1)) * _UNIT_SECONDS[unit])


class Scheduler:
    """Fires ENABLED schedule rules of the default bus: ``rate(...)`` one period after it first sees them
    and every period after; ``cron(...)`` once in each UTC minute the expression matches, from the minute
    after it first sees the rule (a rule created at 03:00:10 with ``cron(0 3 * * ? *)`` fires tomorrow).
    A minute missed between two ticks still fires (once), looking back at most a day."""

    def __init__(
        self,
        bus: EventBus,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.bus = bus
        self.interval = interval
        self.clock = clock
        self.wall_clock = wall_clock
        self._next: dict[str, float] = {}
        self._last_minute: dict[str, datetime] = {}
        self._parsed: dict[str, cron.Cron | None] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="event-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reset(self) -> None:
        self._next.clear()
        self._last_minute.clear()

    def tick(self) -> list[str]:
        """Fire every due schedule once; returns the names of the rules fired."""
        now, fired, seen = self.clock(), [], set()
        minute = self.wall_clock().astimezone(UTC).replace(second=0, microsecond=0)
        for rule in self.bus.rules():
            expression = rule.get("ScheduleExpression")
            if not expression or rule.get("State") != "ENABLED":
                continue
            seen.add(rule["Arn"])
            period = rate_seconds(expression)
            if period is not None:
                due = self._next.setdefault(rule["Arn"], now + period)
                if now >= due:
                    self._next[rule["Arn"]] = now + period
                    fired.append(rule["Name"])
            elif (schedule := self._cron(rule["Name"], expression)) is not None:
                last = self._last_minute.setdefault(rule["Arn"], minute)
                missed = (minute - last) // timedelta(minutes=1)
                if any(
                    schedule.matches(minute - timedelta(minutes=back)) for back in range(min(missed, 1440))
                ):
                    fired.append(rule["Name"])
                self._last_minute[rule["Arn"]] = minute
        for name in fired:
            self.bus.fire_rule(name)
        for arn in set(self._next) - seen:
            del self._next[arn]
        for arn in set(self._last_minute) - seen:
            del self._last_minute[arn]
        return fired

    def _cron(self, name: str, expression: str) -> cron.Cron | None:
        if expression not in self._parsed:
            try:
                self._parsed[expression] = cron.parse(expression)
            except cron.CronError as exc:
                log.warning("rule %s: %s is never fired locally: %s", name, expression, exc)
                self._parsed[expression] = None
        return self._parsed[expression]

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception as exc:  # the endpoint may be stopping; try again next tick
                log.debug("scheduler tick failed: %s", exc)
