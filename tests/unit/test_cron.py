"""EventBridge cron expressions (local_aws/cron.py): the documented examples and each wildcard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from local_aws.events.cron import CronError, parse


def firing_minutes(expression: str, start: datetime, minutes: int) -> list[datetime]:
    schedule = parse(expression)
    times = (start + timedelta(minutes=i) for i in range(minutes))
    return [t for t in times if schedule.matches(t)]


def firing_days(expression: str, year: int, month: int) -> list[int]:
    """The days of a month the expression fires on (it must fire at 00:00 on them)."""
    schedule = parse(expression)
    start = datetime(year, month, 1, tzinfo=UTC)
    days = []
    for offset in range(31):
        day = start + timedelta(days=offset)
        if day.month == month and schedule.matches(day):
            days.append(day.day)
    return days


MONDAY = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # the examples of EventBridge's cron reference
        ("cron(0 10 * * ? *)", ["11-23 10:00", "11-24 10:00"]),
        ("cron(15 12 * * ? *)", ["11-23 12:15", "11-24 12:15"]),
        ("cron(0 18 ? * MON-FRI *)", ["11-23 18:00", "11-24 18:00"]),
        ("cron(0 8 1 * ? *)", []),  # the 1st is not in these two days
        ("cron(0 3 ? * MON *)", ["11-23 03:00"]),
        ("cron(0 9 24 NOV ? 2026)", ["11-24 09:00"]),
        ("cron(0 9 24 NOV ? 2027)", []),
        ("cron(30 23 ? * 3 *)", ["11-24 23:30"]),  # 3 = Tuesday
    ],
)
def test_documented_examples_fire_when_aws_says(expression: str, expected: list[str]) -> None:
    fired = firing_minutes(expression, MONDAY, 2 * 24 * 60)
    assert [t.strftime("%m-%d %H:%M") for t in fired] == expected


def test_increments_and_ranges_within_the_hour() -> None:
    hour = [t.minute for t in firing_minutes("cron(0/15 * * * ? *)", MONDAY, 60)]
    assert hour == [0, 15, 30, 45]
    assert [t.minute for t in firing_minutes("cron(1/10 * * * ? *)", MONDAY, 60)] == [1, 11, 21, 31, 41, 51]
    assert [t.minute for t in firing_minutes("cron(5-20/5,58 * * * ? *)", MONDAY, 60)] == [5, 10, 15, 20, 58]
    hours = {t.hour for t in firing_minutes("cron(0/5 8-17 ? * MON-FRI *)", MONDAY, 24 * 60)}
    assert hours == set(range(8, 18))


def test_last_day_last_weekday_and_nearest_weekday() -> None:
    assert firing_days("cron(0 0 L * ? *)", 2028, 2) == [29]  # leap year
    assert firing_days("cron(0 0 L * ? *)", 2026, 11) == [30]
    assert firing_days("cron(0 0 LW * ? *)", 2026, 5) == [29]  # May 31 2026 is a Sunday → Friday 29th
    assert firing_days("cron(0 0 15W * ? *)", 2026, 11) == [16]  # Sunday 15th → Monday 16th
    assert firing_days("cron(0 0 14W * ? *)", 2026, 11) == [13]  # Saturday 14th → Friday 13th
    assert firing_days("cron(0 0 1W * ? *)", 2026, 11) == [2]  # Sunday 1st → Monday 2nd, not October
    assert firing_days("cron(0 0 31W * ? *)", 2026, 10) == [30]  # Saturday 31st → Friday 30th


def test_nth_and_last_weekday_of_the_month() -> None:
    assert firing_days("cron(0 0 ? * 3#2 *)", 2026, 11) == [10]  # second Tuesday
    assert firing_days("cron(0 0 ? * MON#1 *)", 2026, 11) == [2]
    assert firing_days("cron(0 0 ? * 6L *)", 2026, 11) == [27]  # last Friday
    assert firing_days("cron(0 0 ? * L *)", 2026, 11) == [7, 14, 21, 28]  # Saturdays
    assert firing_days("cron(0 0 ? * SUN,SAT *)", 2026, 11) == [1, 7, 8, 14, 15, 21, 22, 28, 29]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("rate(5 minutes)", "is not cron(<6 fields>)"),
        ("cron(0 10 * * ?)", "has 5 fields; cron needs 6"),
        ("cron(0 10 * * * *)", "exactly one of day-of-month (*) and day-of-week (*) must be ?"),
        ("cron(0 10 ? * ? *)", "exactly one of day-of-month"),
        ("cron(60 10 * * ? *)", "minutes: 60 is outside 0-59"),
        ("cron(0 24 * * ? *)", "hours: 24 is outside 0-23"),
        ("cron(0 10 * FOO ? *)", "month: 'FOO' is not a number or a name"),
        ("cron(0 10 ? * 8 *)", "day-of-week: 8 is outside 1-7"),
        ("cron(0 10 ? * 3#1,6#3 *)", "use one <weekday>#<1-5> expression"),
        ("cron(0/0 10 * * ? *)", "must be a positive number"),
        ("cron(0 10 20-10 * ? *)", "runs backwards"),
        ("cron(0 10 5L * ? *)", "L and W stand alone"),
    ],
)
def test_expressions_eventbridge_rejects_are_rejected_with_the_reason(expression: str, message: str) -> None:
    with pytest.raises(CronError) as raised:
        parse(expression)
    assert message in str(raised.value)
