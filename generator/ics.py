"""An iCalendar feed of pending follow-ups (SPEC §8): one all-day VEVENT each, with a VALARM.

Google Calendar and iOS ignore VTODO, so events it is. The UID depends only on what the
follow-up is about, so a subscribed calendar updates an event rather than duplicating it, and
DTSTAMP is derived from `today` so a rebuild with the same inputs gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Protocol

from .dates import relative_days
from .drafts import DraftError, NoteRenderer
from .model import Contact, FollowUp, Settings

PRODID = "-//Tipscale//Follow-ups//EN"
TITLES = {"thank-you": "Send a thank-you to", "check-in": "Check in with", "reconnect": "Reconnect with",
          "reminder": "Reminder:", "update": "Send an update to", "status-check": "Ask for news from",
          "closing": "Send a closing note to"}  # fmt: skip


# RFC 5545 allows no control character in TEXT but the tab: line breaks of every kind become an
# escaped newline, the other control characters go.
_LINE_BREAKS = {ord(c): "\n" for c in "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}
_CONTROLS = {c: None for c in [*range(0x00, 0x09), *range(0x0E, 0x1C), 0x1F, 0x7F, *range(0x80, 0xA0)] if c != 0x85}


def escape_text(value: str) -> str:
    """RFC 5545 TEXT escaping."""
    value = value.replace("\r\n", "\n").translate(_LINE_BREAKS).translate(_CONTROLS)
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _date(day: dt.date) -> str:
    """DATE as RFC 5545 writes it: always four digits of year (strftime writes 999 as '999')."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line + "\r\n"
    parts: list[bytes] = []
    start, limit = 0, 75
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # never cut inside a multi-byte character
            end -= 1
        parts.append(data[start:end])
        start, limit = end, 74  # continuation lines start with a space
    parts.append(data[start:])
    return b"\r\n ".join(parts).decode("utf-8") + "\r\n"


def summary_of(item: FollowUp) -> str:
    if item.kind == "reminder" and item.reminder is not None:
        return f"Reminder: {item.reminder.note} ({item.name})"
    if item.application is not None:
        return f"{TITLES[item.kind]} {item.name} ({item.application.company})"
    return f"{TITLES[item.kind]} {item.name}"


class EventCache(Protocol):
    """Where events made before are kept (a dict will do)."""

    def get(self, key: str, /) -> str | None: ...

    def __setitem__(self, key: str, value: str, /) -> None: ...


def calendar(
    items: Sequence[FollowUp],
    contacts: Mapping[str, Contact],
    settings: Settings,
    today: dt.date,
    notes: NoteRenderer,
    cache: EventCache | None = None,
    keys: list[str] | None = None,
) -> str:
    """The feed. With `cache` and `keys` (one per item, naming everything its event depends on),
    events made before are reused, so a rebuild after one change formats only that one's."""
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
            "X-WR-CALNAME:Tipscale follow-ups"]  # fmt: skip
    parts = ["".join(fold(line) for line in head)]
    for index, item in enumerate(items):
        key = keys[index] if keys is not None and cache is not None else None
        text = cache.get(key) if cache is not None and key is not None else None
        if text is None:
            text, failed = event(item, contacts[item.contact], settings, today, notes)
            if cache is not None and key is not None and not failed:
                cache[key] = text
        parts.append(text)
    parts.append(fold("END:VCALENDAR"))
    return "".join(parts)


def event(
    item: FollowUp, contact: Contact, settings: Settings, today: dt.date, notes: NoteRenderer
) -> tuple[str, bool]:
    """One VEVENT, folded; and whether its draft failed (such events are not cached)."""
    description = [f"{item.kind} for {item.name}, due {item.due.isoformat()} ({relative_days(item.days)})."]
    failed = False
    try:
        draft = notes.draft(contact, item, settings, today)
    except DraftError as exc:
        draft, failed = None, True
        description.append(f"(draft unavailable: {exc})")
    if draft is not None:
        description.append("")
        description.append(draft.text.rstrip("\n"))
    if item.reminder is not None:
        description.append(item.reminder.note)
    end = item.due + dt.timedelta(days=1) if item.due < dt.date.max else item.due
    lines = [
        "BEGIN:VEVENT",
        f"UID:{item.uid_key}@tipscale",
        f"DTSTAMP:{_date(today)}T000000Z",
        f"DTSTART;VALUE=DATE:{_date(item.due)}",
        f"DTEND;VALUE=DATE:{_date(end)}",
        f"SUMMARY:{escape_text(summary_of(item))}",
        f"DESCRIPTION:{escape_text(chr(10).join(description))}",
        f"CATEGORIES:{escape_text(item.kind)}",
        "TRANSP:TRANSPARENT",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{escape_text(summary_of(item))}",
        "TRIGGER:PT9H",
        "END:VALARM",
        "END:VEVENT",
    ]
    return "".join(fold(line) for line in lines), failed
