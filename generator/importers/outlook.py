"""Outlook Contacts CSV → records: Outlook.com / new Outlook, and classic desktop Outlook.

Both have `First Name,Middle Name,Last Name`, `E-mail Address` (then `E-mail 2 Address`, …),
phones by kind (`Mobile Phone`, `Business Phone`, … and `Business Fax`, `Home Fax`), `Company`,
`Department`, `Job Title`, addresses by kind (`Business City`, `Home Country/Region`, …), `Web
Page`, `Birthday`, `Categories` (`;`-separated) and `Notes`. `Title` is the honorific (Mr., Dr.).
Desktop Outlook writes an empty date as `0/0/00` and an Exchange sender as `/o=…` (no address).
"""

from __future__ import annotations

import re

from .common import Parsed, Record, read_csv, row_dict
from .decoding import decode_text
from .values import slashed_day_first

WHAT = "an Outlook Contacts CSV"
EMAILS = ("E-mail Address", "E-mail 2 Address", "E-mail 3 Address")
PHONES = (
    "Mobile Phone", "Business Phone", "Business Phone 2", "Home Phone", "Home Phone 2",
    "Primary Phone", "Company Main Phone", "Other Phone", "Car Phone", "Assistant's Phone",
    "Callback", "Radio Phone", "Pager", "ISDN", "TTY/TDD Phone", "Telex",
)  # fmt: skip
FAXES = ("Business Fax", "Home Fax", "Other Fax")
PLACES = ("Business", "Home", "Other")
_EMPTY_DATE = re.compile(r"0?0?[/.-]0?0?[/.-]0?0")


def _is_header(cells: list[str]) -> bool:
    names = set(cells)
    return {"First Name", "Last Name", "E-mail Address"} <= names and bool(
        names & {"Job Title", "Business Phone", "Mobile Phone", "E-mail Display Name", "Home Phone"}
    )


def _location(row: dict[str, str]) -> str:
    for place in PLACES:
        parts = [row.get(f"{place} {part}", "") for part in ("City", "State", "Country/Region")]
        if any(parts):
            return ", ".join(" ".join(p.split()) for p in parts if p)
    return row.get("Location", "")


def parse(data: bytes) -> Parsed:
    out = Parsed()
    text = decode_text(data, WHAT, out.warnings)
    header, _, rows = read_csv(text, _is_header, WHAT, scan=5)
    table = [(line, row_dict(header, cells)) for line, cells in rows if any(c.strip() for c in cells)]
    day_first = slashed_day_first([row.get("Birthday", "") for _, row in table])
    for line, row in table:
        record = Record(line=line)
        record.name = " ".join(
            " ".join(row.get(key, "") for key in ("First Name", "Middle Name", "Last Name", "Suffix")).split()
        )
        if not record.name:
            record.name = " ".join(row.get("Nickname", "").split())
        for key in EMAILS:
            email = row.get(key, "")
            if not record.add_email(email):
                out.warn(line, f"{key} {email[:60]!r} is not an e-mail address; left out")
        for key in PHONES:
            record.add_phone(row.get(key, ""))
        faxes = [row[key] for key in FAXES if row.get(key)]
        if faxes:
            record.extra["fax"] = ", ".join(faxes)
        record.company = row.get("Company", "")
        record.title = row.get("Job Title", "")
        if row.get("Department"):
            record.extra["department"] = row["Department"]
        record.location = _location(row)
        for tag in row.get("Categories", "").split(";"):
            record.add_tag(tag)
        for key in ("Web Page", "Personal Web Page"):
            record.add_link("", row.get(key, ""))
        birthday = row.get("Birthday", "")
        if not _EMPTY_DATE.fullmatch(birthday.strip()):
            out.birthday(record, birthday, day_first)
        record.notes = re.sub(r"\r\n?", "\n", row.get("Notes", "")).strip()
        out.name_missing(record)
        out.records.append(record)
    return out
