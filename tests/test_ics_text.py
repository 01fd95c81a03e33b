"""The calendar feed holds nothing RFC 5545 forbids, whatever a contact file holds: no control
characters in TEXT (every kind of line break becomes an escaped newline), four-digit years, and
no date past the calendar's end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import icalendar
from click.testing import Result

# YAML's double-quoted escapes put control characters and Unicode line breaks into the values.
ODD = r'''---
name: "Ann\x0bLee"
reminders:
  - date: 0999-01-01
    note: "one\rtwo\x0cthree\Nfour\Lfive\Psix\x00seven\x7feight\ttab; a, b\\c"
  - date: 9999-12-31
    note: the last day
---
'''


def test_the_feed_is_clean_rfc_5545(crm_root: Callable[..., Path], cli: Callable[..., Result]) -> None:
    root = crm_root({"contacts/ann.md": ODD})
    result = cli(root, "followups", "--format", "ics", env={"CRM_TODAY": "2026-11-25"})
    assert result.exit_code == 0, result.output
    feed = result.stdout
    body = feed.replace("\r\n", "")
    for forbidden in "\r\x0b\x0c\x85\u2028\u2029\x00\x7f":
        assert forbidden not in body, repr(forbidden)
    assert "one\\ntwo\\nthree\\nfour\\nfive\\nsix" + "seveneight\ttab\\; a\\, b\\\\c" in body
    assert "DTSTART;VALUE=DATE:09990101" in feed and "DTEND;VALUE=DATE:09990102" in feed
    assert "DTSTART;VALUE=DATE:99991231" in feed
    events = icalendar.Calendar.from_ical(feed).walk("VEVENT")
    assert sorted(e.decoded("DTSTART") for e in events) == [dt.date(999, 1, 1), dt.date(9999, 12, 31)]
