"""LinkedIn `Connections.csv` → records.

Current exports start with three lines before the header (`Notes:`, a quoted note, a blank
line); older ones start with the header, and some have no `URL` column (or say `Current
Company` / `Current Position`). Dates look like `07 Dec 2025`; the e-mail is usually empty.
"""

from __future__ import annotations

from .common import Parsed, Record, decode_text, parse_export_date, read_csv, row_dict

WHAT = "a LinkedIn Connections.csv"
ALIASES = {
    "Current Company": "Company",
    "Current Position": "Position",
    "E-mail Address": "Email Address",
    "Email": "Email Address",
    "Profile URL": "URL",
}


def _is_header(cells: list[str]) -> bool:
    names = {ALIASES.get(c, c) for c in cells}
    return (
        {"First Name", "Last Name"} <= names
        and bool(names & {"Connected On", "Company", "Position"})
        and not names & {"E-mail 1 - Value", "Given Name", "Organization Name"}
    )


def parse(data: bytes) -> Parsed:
    text = decode_text(data, WHAT)
    header, _, rows = read_csv(text, _is_header, WHAT)
    header = [ALIASES.get(c, c) for c in header]
    out = Parsed()
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        row = row_dict(header, cells)
        record = Record(line=line)
        record.name = " ".join(f"{row.get('First Name', '')} {row.get('Last Name', '')}".split())
        record.add_email(row.get("Email Address", ""))
        record.company = row.get("Company", "")
        record.title = row.get("Position", "")
        url = row.get("URL", "")
        if url:
            record.links["linkedin"] = url
        connected = row.get("Connected On", "")
        if connected:
            when = parse_export_date(connected)
            if when is not None:
                record.extra["connected_on"] = when
        out.records.append(record)
    return out
