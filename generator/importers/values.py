"""Values as exporters write them → Tipscale's: dates, birthdays, e-mail addresses, names.

Dates come as LinkedIn writes them (`07 Dec 2025`, and in 2018 `4/4/18, 10:35 AM`) and as a
spreadsheet re-saves them (`5-Jan-26`, `07.12.2025`, `2025/12/07`, `07/12/2025`). Slashed dates
are month first unless the file shows otherwise (`day_first`). Birthdays come as vCard writes
them (`1985-12-09`, `19851209`, `--1209`, `--12-09`, Apple's `1604-12-09` for "no year").
"""

from __future__ import annotations

import datetime as dt
import functools
import re

_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}  # fmt: skip
_TIME = re.compile(r"[ ,T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?\s*(?:Z|[+-]\d{2}:?\d{2})?$")
_NAMED = re.compile(r"(\d{1,2})[ .-]([A-Za-z]{3,9})\.?[ ,.-]*(\d{4}|\d{2})")
_NAMED_FIRST = re.compile(r"([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})")
_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_NUMERIC = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})")


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:  # a two-digit year: 00–69 are 2000s, 70–99 1900s (as spreadsheets do)
        year += 2000 if year < 70 else 1900
    return year


def _month(name: str) -> int | None:
    return _MONTHS.get(name[:3].lower()) if name[:3].lower() in _MONTHS else None


def slashed_day_first(values: list[str]) -> bool:
    """True when a column's `NN/NN/YYYY` dates are day first: some first number is over 12."""
    for value in values:
        match = _NUMERIC.fullmatch(_TIME.sub("", value.strip()))
        if match and match.group(2) == "/" and int(match.group(1)) > 12:
            return True
    return False


@functools.lru_cache(maxsize=8192)  # an export repeats its dates: thousands of rows a day
def parse_export_date(value: str, day_first: bool = False) -> dt.date | None:
    """A date as an export or a spreadsheet writes it → the date, else None (never raises)."""
    value = _TIME.sub("", value.strip())
    parts: tuple[int | None, int | None, int] | None = None
    if match := _NAMED.fullmatch(value):
        parts = (int(match.group(1)), _month(match.group(2)), _year(match.group(3)))
    elif match := _NAMED_FIRST.fullmatch(value):
        parts = (int(match.group(2)), _month(match.group(1)), int(match.group(3)))
    elif match := _ISO.fullmatch(value):
        parts = (int(match.group(3)), int(match.group(2)), int(match.group(1)))
    elif match := _NUMERIC.fullmatch(value):
        first, second, year = int(match.group(1)), int(match.group(3)), _year(match.group(4))
        if match.group(2) == "." or day_first:  # 07.12.2025 is always day first
            parts = (first, second, year)
        else:
            parts = (second, first, year)
    if parts is None:
        return None
    day, month, year = parts
    if day is None or month is None:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


# --- birthdays --------------------------------------------------------------------------------

NO_YEAR = 1604  # Apple writes a birthday without a year as 1604-MM-DD (with X-APPLE-OMIT-YEAR)
_BDAY_FULL = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
_BDAY_NO_YEAR = re.compile(r"--(\d{2})-?(\d{2})")


def parse_birthday(value: str, omit_year: str = "", day_first: bool = False) -> dt.date | str | None:
    """A birthday → a date, or `--MM-DD` when the year is unknown; None when it is not a date."""
    value = _TIME.sub("", value.strip())
    if match := _BDAY_NO_YEAR.fullmatch(value):
        month, day = int(match.group(1)), int(match.group(2))
        try:
            dt.date(2000, month, day)  # a leap year: --02-29 is a birthday
        except ValueError:
            return None
        return f"--{month:02d}-{day:02d}"
    match = _BDAY_FULL.fullmatch(value)
    when = (
        dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if match and _valid(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        else parse_export_date(value, day_first)
    )
    if when is None:
        return None
    if when.year == NO_YEAR or omit_year and str(when.year) == omit_year.strip():
        return f"--{when.month:02d}-{when.day:02d}"
    return when


def _valid(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


# --- e-mail addresses and names -------------------------------------------------------------------

_ADDRESS = re.compile(r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\"]+")


def is_address(value: str) -> bool:
    return _ADDRESS.fullmatch(value.strip()) is not None


def name_from_address(address: str) -> str:
    """jane.doe+news@example.com → 'Jane Doe'; j_doe42@… → 'J Doe42'; the address when no part fits."""
    local = address.strip().split("@")[0].split("+")[0]
    words = [w for w in re.split(r"[._\-]+", local) if w]
    if not words:
        return address.strip()
    return " ".join(w.capitalize() if w.islower() else w for w in words)
