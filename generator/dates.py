"""Pure date arithmetic and reading: dates as YAML left them in text, keep-in-touch periods,
friendly day descriptions."""

from __future__ import annotations

import calendar
import datetime as dt
import re

from .model import Period

_PERIOD = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.IGNORECASE)
MAX_PERIOD_DAYS = 36_600  # a hundred years: a longer keep-in-touch period is a typo
_UNIT_DAYS = {"d": 1, "w": 7, "m": 31, "y": 366}


_DATE_TEXT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def read_date(raw: str) -> tuple[dt.date, str | None] | str:
    """`YYYY-MM-DD` (and an optional ` HH:MM`) that YAML left as text → (the date, "HH:MM" or
    None), or what is wrong with it (for a message about the field)."""
    match = _DATE_TEXT.match(raw.strip())
    if not match:
        return f"{raw!r} is not a date (expected YYYY-MM-DD)"
    year, month, day, hour, minute = (int(part) if part else None for part in match.groups()[:5])
    assert year is not None and month is not None and day is not None
    try:
        day_value = dt.date(year, month, day)
    except ValueError:
        reason = f"there is no month {month}" if not 1 <= month <= 12 else (
            f"{dt.date(year, month, 1).strftime('%B')} {year} has no day {day}")  # fmt: skip
        return f"{raw!r} is not a real date ({reason})"
    if hour is None or minute is None:
        return day_value, None
    if hour > 23 or minute > 59:
        return f"{raw!r} has an impossible time (expected HH:MM, 00:00 to 23:59)"
    return day_value, f"{hour:02d}:{minute:02d}"


def parse_period(value: object) -> Period | None:
    """`90d`, `2w`, `3m`, `1y` or a whole number of days; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Period(value, "d") if 0 < value <= MAX_PERIOD_DAYS else None
    if isinstance(value, str):
        match = _PERIOD.match(value)
        if match and len(match.group(1)) < 10:
            count, unit = int(match.group(1)), match.group(2).lower()
            if 0 < count * _UNIT_DAYS[unit] <= MAX_PERIOD_DAYS:
                return Period(count, unit)  # type: ignore[arg-type]
    return None


def after(day: dt.date, days: int) -> dt.date:
    """`day` plus `days`, held within the calendar (date.min … date.max) instead of raising:
    a date near 9999-12-31 plus a thank-you window must not break a build."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max if days > 0 else dt.date.min


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months; the day is clamped to the month's end (Jan 31 + 1 month = Feb 28/29)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        return dt.date.max if months > 0 else dt.date.min
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def add_period(day: dt.date, period: Period) -> dt.date:
    if period.unit == "d":
        return after(day, period.count)
    if period.unit == "w":
        return after(day, 7 * period.count)
    if period.unit == "m":
        return add_months(day, period.count)
    return add_months(day, 12 * period.count)


def relative_days(days: int) -> str:
    """`3 days overdue`, `1 day overdue`, `today`, `tomorrow`, `in 5 days`."""
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days > 1:
        return f"in {days} days"
    if days == -1:
        return "1 day overdue"
    return f"{-days} days overdue"


def spoken_date(day: dt.date, today: dt.date) -> str:
    """How a person names a recent date in a note: `today`, `yesterday`, `on Thursday`, `on 3 November`."""
    delta = (today - day).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "yesterday"
    if 1 < delta < 7:
        return f"on {_WEEKDAYS[day.weekday()]}"
    if day.year == today.year:
        return f"on {day.day} {_MONTHS[day.month - 1]}"
    return f"on {day.day} {_MONTHS[day.month - 1]} {day.year}"


# English names, as strftime's %A and %B give them in Python's default (C) time locale, without
# asking the C library for each of thousands of drafts.
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")  # fmt: skip
