"""LinkedIn `Connections.csv` → records.

Current exports start with three lines before the header (`Notes:`, a quoted note, a blank
line); older ones start with the header, and some have no `URL` column (or say `Current
Company` / `Current Position`). Dates look like `07 Dec 2025`, and in 2018 exports like
`4/4/18, 10:35 AM`; a spreadsheet re-save writes `5-Jan-26` or `07.12.2025`, may separate cells
with `;` and may be Windows-1252. The e-mail is usually empty, or LinkedIn's `urn:li:member:…`
placeholder (not an address). Each connection is listed once, so two rows of the same name are
two people (`Parsed.distinct`).
"""

from __future__ import annotations

from .common import Parsed, Record, read_csv, row_dict
from .decoding import decode_text
from .values import parse_export_date, slashed_day_first

WHAT = "a LinkedIn Connections.csv"
ALIASES = {
    "Current Company": "Company",
    "Current Position": "Position",
    "E-mail Address": "Email Address",
    "Email": "Email Address",
    "Profile URL": "URL",
}
PLACEHOLDER = "urn:li:"  # LinkedIn's stand-in where a connection hides their address


def _is_header(cells: list[str]) -> bool:
    names = {ALIASES.get(c, c) for c in cells}
    return (
        {"First Name", "Last Name"} <= names
        and bool(names & {"Connected On", "Company", "Position"})
        and not names & {"E-mail 1 - Value", "Given Name", "Organization Name", "Job Title", "Business Phone"}
    )


def parse(data: bytes) -> Parsed:
    out = Parsed(distinct=True)
    text = decode_text(data, WHAT, out.warnings)
    header, _, rows = read_csv(text, _is_header, WHAT)
    header = [ALIASES.get(c, c) for c in header]
    table = [(line, row_dict(header, cells)) for line, cells in rows if any(c.strip() for c in cells)]
    day_first = slashed_day_first([row.get("Connected On", "") for _, row in table])
    for line, row in table:
        record = Record(line=line)
        record.name = " ".join(f"{row.get('First Name', '')} {row.get('Last Name', '')}".split())
        email = row.get("Email Address", "")
        if not email.lower().startswith(PLACEHOLDER) and not record.add_email(email):
            out.warn(line, f"Email Address {email[:60]!r} is not an e-mail address; left out")
        record.company = row.get("Company", "")
        record.title = row.get("Position", "")
        url = row.get("URL", "")
        if url:
            record.links["linkedin"] = url
        connected = row.get("Connected On", "")
        if connected:
            when = parse_export_date(connected, day_first)
            if when is None:
                out.warn(line, f"Connected On {connected[:40]!r} is not a date (like 07 Dec 2025); left out")
            else:
                record.extra["connected_on"] = when
        out.records.append(record)
    return out
