"""Google Contacts CSV → records, in both header generations.

Current: `First Name,Middle Name,Last Name,…,Organization Name,Organization Title,…,Labels,
E-mail 1 - Label,E-mail 1 - Value,…`. Legacy: `Name,Given Name,Additional Name,Family Name,…,
Group Membership,E-mail 1 - Type,E-mail 1 - Value,…,Organization 1 - Name,…`. One cell may hold
several values joined by ` ::: `; labels starting with `* ` (`* myContacts`, `* starred`) are
Google's own and are dropped.
"""

from __future__ import annotations

import re

from .common import Parsed, Record, read_csv, row_dict
from .decoding import decode_text

WHAT = "a Google Contacts CSV"


def _is_header(cells: list[str]) -> bool:
    names = set(cells)
    current = {"First Name", "Last Name"} <= names and bool(
        names & {"Labels", "E-mail 1 - Value", "Organization Name", "Phone 1 - Value"}
    )
    legacy = {"Given Name", "Family Name"} <= names or "Group Membership" in names
    return current or legacy


def values(cell: str) -> list[str]:
    return [v.strip() for v in cell.split(":::") if v.strip()] if cell else []


def _numbered(row: dict[str, str], kind: str) -> list[tuple[str, str]]:
    """(label, value) for `<kind> N - Value` columns, each value cell split on ` ::: `."""
    out: list[tuple[str, str]] = []
    n = 1
    while f"{kind} {n} - Value" in row:
        label = row.get(f"{kind} {n} - Label", row.get(f"{kind} {n} - Type", ""))
        labels = values(label)
        for i, value in enumerate(values(row[f"{kind} {n} - Value"])):
            out.append((labels[i] if i < len(labels) else (labels[0] if labels else ""), value))
        n += 1
    return out


def _first(row: dict[str, str], *keys: str) -> str:
    for key in keys:
        got = values(row.get(key, ""))
        if got:
            return got[0]
    return ""


def _location(row: dict[str, str]) -> str:
    n = 1
    while f"Address {n} - City" in row or f"Address {n} - Formatted" in row:
        city = _first(row, f"Address {n} - City")
        region = _first(row, f"Address {n} - Region")
        country = _first(row, f"Address {n} - Country")
        parts = [p for p in (city, region, country) if p]
        if parts:
            return ", ".join(parts)
        formatted = _first(row, f"Address {n} - Formatted")
        if formatted:
            return ", ".join(line.strip() for line in formatted.splitlines() if line.strip())
        n += 1
    return _first(row, "Location")


def parse(data: bytes) -> Parsed:
    out = Parsed()
    text = decode_text(data, WHAT, out.warnings)
    header, _, rows = read_csv(text, _is_header, WHAT, scan=5)
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        row = row_dict(header, cells)
        record = Record(line=line)
        given = " ".join(
            p for p in (_first(row, "First Name", "Given Name"), _first(row, "Middle Name", "Additional Name"),
                        _first(row, "Last Name", "Family Name")) if p
        )  # fmt: skip
        record.name = " ".join((_first(row, "Name") or given).split())
        if not record.name:
            record.name = " ".join(_first(row, "Nickname", "File As").split())
        for _, email in _numbered(row, "E-mail"):
            if not record.add_email(email):
                out.warn(line, f"E-mail {email[:60]!r} is not an e-mail address; left out")
        faxes: list[str] = []
        for label, phone in _numbered(row, "Phone"):
            if "fax" in label.casefold():
                faxes.append(phone)
            else:
                record.add_phone(phone)
        if faxes:
            record.extra["fax"] = ", ".join(faxes)
        out.birthday(record, row.get("Birthday", ""))
        record.company = _first(row, "Organization Name", "Organization 1 - Name")
        record.title = _first(row, "Organization Title", "Organization 1 - Title")
        department = _first(row, "Organization Department", "Organization 1 - Department")
        if department:
            record.extra["department"] = department
        record.location = _location(row)
        for label in values(row.get("Labels", "")) + values(row.get("Group Membership", "")):
            if not label.startswith("*"):
                record.add_tag(label)
        for label, url in _numbered(row, "Website"):
            record.add_link(label, url)
        notes = row.get("Notes", "")
        record.notes = re.sub(r"\r\n?", "\n", notes).strip()
        out.name_missing(record)
        out.records.append(record)
    return out
