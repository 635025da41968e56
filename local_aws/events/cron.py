"""EventBridge ``cron(...)`` schedule expressions: parse once, then ask whether a UTC minute is a firing time.

The six fields and their wildcards, as EventBridge documents them (eb-cron-expressions.html):

    minutes 0-59 ``, - * /`` · hours 0-23 ``, - * /`` · day-of-month 1-31 ``, - * ? / L W``
    month 1-12 or JAN-DEC ``, - * /`` · day-of-week 1-7 or SUN-SAT (1 = Sunday) ``, - * ? L #``
    year 1970-2199 ``, - * /``

One of day-of-month and day-of-week must be ``?``. ``L`` is the last day of the month (day-of-month) or,
after a weekday (``6L``), its last occurrence in the month; alone in day-of-week it is Saturday, the last
day of the week. ``15W`` is the weekday nearest the 15th within the same month, ``LW`` the last weekday.
``3#2`` is the second Tuesday; a day-of-week field with ``#`` holds that one expression only.
``a/n`` starts at ``a`` and steps by ``n`` up to the field's maximum (``*/n`` starts at the minimum).
Times are UTC, as on AWS.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

MONTHS = {
    name: i + 1
    for i, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}
WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_CRON = re.compile(r"^cron\((.*)\)$", re.IGNORECASE)


class CronError(ValueError):
    """A cron expression EventBridge would reject."""


def _weekday(day: date) -> int:
    """EventBridge numbering: 1 = Sunday ... 7 = Saturday."""
    return (day.weekday() + 1) % 7 + 1


def _nearest_weekday(year: int, month: int, day: int) -> int:
    last = calendar.monthrange(year, month)[1]
    day = min(day, last)
    weekday = date(year, month, day).weekday()  # 0 = Monday
    if weekday == 5:  # Saturday → Friday, unless that leaves the month
        return day - 1 if day > 1 else day + 2
    if weekday == 6:  # Sunday → Monday, unless that leaves the month
        return day + 1 if day < last else day - 2
    return day


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]


_FIELDS = (
    _Field("minutes", 0, 59, {}),
    _Field("hours", 0, 23, {}),
    _Field("day-of-month", 1, 31, {}),
    _Field("month", 1, 12, MONTHS),
    _Field("day-of-week", 1, 7, WEEKDAYS),
    _Field("year", 1970, 2199, {}),
)


def _number(text: str, field: _Field) -> int:
    value = field.names.get(text.upper()) if field.names else None
    if value is None:
        if not text.isdigit():
            raise CronError(f"{field.name}: {text!r} is not a number" + (" or a name" if field.names else ""))
        value = int(text)
    if not field.low <= value <= field.high:
        raise CronError(f"{field.name}: {value} is outside {field.low}-{field.high}")
    return value


def _values(text: str, field: _Field) -> set[int]:
    """A plain list of values: ``*``, ``a``, ``a-b``, ``a/n``, ``a-b/n``, ``*/n``, comma-separated."""
    values: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{field.name}: the increment in {part!r} must be a positive number")
            step = int(step_text)
        if base == "*":
            low, high = field.low, field.high
        elif "-" in base:
            first, _, last = base.partition("-")
            low, high = _number(first, field), _number(last, field)
            if low > high:
                raise CronError(f"{field.name}: the range {base!r} runs backwards")
        else:
            low = _number(base, field)
            high = field.high if slash else low
        values.update(range(low, high + 1, step))
    return values


Matcher = Callable[[date], bool]


def _day_of_month(text: str) -> Matcher:
    field = _FIELDS[2]
    if text == "L":
        return lambda d: d.day == calendar.monthrange(d.year, d.month)[1]
    if text == "LW":
        return lambda d: d.day == _nearest_weekday(d.year, d.month, calendar.monthrange(d.year, d.month)[1])
    if text.endswith("W"):
        target = _number(text[:-1], field)
        return lambda d: d.day == _nearest_weekday(d.year, d.month, target)
    if "L" in text or "W" in text:
        raise CronError(f"day-of-month: {text!r}: L and W stand alone (L, LW, or <day>W)")
    days = _values(text, field)
    return lambda d: d.day in days


def _day_of_week(text: str) -> Matcher:
    field = _FIELDS[4]
    if "#" in text:
        weekday_text, _, nth_text = text.partition("#")
        if "," in text or not nth_text.isdigit() or not 1 <= int(nth_text) <= 5:
            raise CronError(f"day-of-week: {text!r}: use one <weekday>#<1-5> expression")
        weekday, nth = _number(weekday_text, field), int(nth_text)
        return lambda d: _weekday(d) == weekday and (d.day - 1) // 7 + 1 == nth
    if text == "L":
        return lambda d: _weekday(d) == 7
    if text.endswith("L"):
        weekday = _number(text[:-1], field)
        return lambda d: _weekday(d) == weekday and d.day + 7 > calendar.monthrange(d.year, d.month)[1]
    days = _values(text, field)
    return lambda d: _weekday(d) in days


@dataclass(frozen=True)
class Cron:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    day: Matcher

    def matches(self, when: datetime) -> bool:
        """Whether the schedule fires in ``when``'s minute (``when`` in UTC)."""
        return (
            when.minute in self.minutes
            and when.hour in self.hours
            and when.month in self.months
            and when.year in self.years
            and self.day(when.date())
        )


def parse(expression: str) -> Cron:
    """``cron(0 3 ? * MON *)`` → a ``Cron``; ``CronError`` says what EventBridge would reject."""
    found = _CRON.match(expression.strip())
    if not found:
        raise CronError(f"{expression!r} is not cron(<6 fields>)")
    fields = found.group(1).split()
    if len(fields) != 6:
        raise CronError(
            f"{expression!r} has {len(fields)} fields; cron needs 6: "
            "minutes hours day-of-month month day-of-week year"
        )
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise CronError(
            f"{expression!r}: exactly one of day-of-month ({dom}) and day-of-week ({dow}) must be ?"
        )
    day = _day_of_week(dow.upper()) if dom == "?" else _day_of_month(dom.upper())
    return Cron(
        expression=expression,
        minutes=frozenset(_values(minutes, _FIELDS[0])),
        hours=frozenset(_values(hours, _FIELDS[1])),
        months=frozenset(_values(month, _FIELDS[3])),
        years=frozenset(_values(year, _FIELDS[5])),
        day=day,
    )
