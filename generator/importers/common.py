"""What every importer shares: the neutral `Record`, format errors, decoding and CSV reading.

Each importer turns a file's bytes into `Record`s (one per contact in the file) and nothing
else; `merge.py` decides what to do with them. Importers never touch the CRM.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field

from .values import is_address, name_from_address, parse_birthday


class ImportFormatError(Exception):
    """The file is not what the importer expects; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass
class Record:
    """One contact as read from an export, in Tipscale's terms."""

    line: int  # where it starts in the source file (for messages)
    name: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    company: str = ""
    title: str = ""
    location: str = ""
    tags: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # label → URL, in order
    extra: dict[str, object] = field(default_factory=dict)  # e.g. connected_on: date
    notes: str = ""
    named_from: str = ""  # set when the export had no name and one was made up from this

    def add_email(self, value: str) -> bool:
        """Add an address; False (nothing added) when the value is not an e-mail address."""
        value = value.strip().removeprefix("mailto:").strip()
        if not is_address(value):
            return not value
        if value.casefold() not in {e.casefold() for e in self.emails}:
            self.emails.append(value)
        return True

    def add_phone(self, value: str) -> None:
        value = value.strip()
        if value and phone_key(value) not in {phone_key(p) for p in self.phones}:
            self.phones.append(value)

    def add_tag(self, value: str) -> None:
        value = " ".join(value.split())
        if value and value.casefold() not in {t.casefold() for t in self.tags}:
            self.tags.append(value)

    def add_link(self, label: str, url: str) -> None:
        url = url.strip()
        if not url:
            return
        if url_key(url) in {url_key(u) for u in self.links.values()}:
            return
        label = link_label(label, url)
        unique, n = label, 2
        while unique in self.links:
            unique, n = f"{label}-{n}", n + 1
        self.links[unique] = url


@dataclass
class Parsed:
    """What an importer read: the records and the rows it could not use."""

    records: list[Record] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (line, what was read how)
    distinct: bool = False  # every record is another person (a LinkedIn file lists each once)

    def warn(self, line: int, message: str) -> None:
        self.warnings.append((line, message))

    def birthday(
        self, record: Record, text: str, day_first: bool = False, omit_year: str = "", *,
        label: str = "Birthday", line: int | None = None, is_text: bool = False,
    ) -> None:  # fmt: skip
        """A birthday → `birthday` (a date, or `--MM-DD` without a year; else kept as text, with a
        warning unless the export said it is text)."""
        text = " ".join(text.split())
        if not text:
            return
        when = parse_birthday(text, omit_year, day_first)
        if when is None and not is_text:
            self.warn(record.line if line is None else line, f"{label} {text[:40]!r} is not a date; kept as text")
        record.extra["birthday"] = text if when is None else when

    def name_missing(self, record: Record) -> None:
        """A record without a name is named after its organisation or its e-mail address."""
        if record.name.strip():
            return
        if record.company.strip():
            record.name, record.named_from = " ".join(record.company.split()), "the organisation"
        elif record.emails:
            record.name, record.named_from = name_from_address(record.emails[0]), record.emails[0]
        else:
            return
        self.warn(record.line, f"no name in the file; named {record.name!r} after {record.named_from}")


# --- normalising keys used for matching and comparing ------------------------------------------


@functools.lru_cache(maxsize=100_000)  # names, companies and titles, asked for again and again
def text_key(value: str) -> str:
    return " ".join(value.split()).casefold()


def phone_key(value: str) -> str:
    value = value.strip()
    if value.lower().startswith("tel:"):
        value = value[4:]
    return re.sub(r"\D", "", value.split(";")[0])


@functools.lru_cache(maxsize=100_000)  # asked for each link of each row and each contact
def url_key(url: str) -> str:
    """https://www.LinkedIn.com/in/jane-doe/?x=1 and linkedin.com/in/jane-doe compare equal."""
    url = urllib.parse.unquote(url.strip())
    url = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", url)
    host, _, path = url.partition("/")
    host = host.lower()
    host = re.sub(r"^(www\.|[a-z]{2}\.)(?=linkedin\.com$)", "", host)
    host = host.removeprefix("www.")
    path = path.split("?")[0].split("#")[0].rstrip("/")
    return f"{host}/{path}" if path else host


@functools.lru_cache(maxsize=100_000)
def linkedin_key(url: str) -> str | None:
    key = url_key(url)
    return key.casefold() if key.startswith("linkedin.com/") else None


_KNOWN_SITES = {
    "linkedin.com": "linkedin",
    "github.com": "github",
    "gitlab.com": "gitlab",
    "twitter.com": "twitter",
    "x.com": "x",
    "mastodon.social": "mastodon",
    "facebook.com": "facebook",
    "instagram.com": "instagram",
    "bsky.app": "bluesky",
}


def link_label(label: str, url: str) -> str:
    """A link label usable as a YAML key: the given label, or the site's name, or 'website'."""
    label = label.strip()
    if label.startswith("_$!<") and label.endswith(">!$_"):  # Apple's built-in labels
        label = label[4:-4]
    label = re.sub(r"[^\w+-]+", "-", label.casefold()).strip("-")
    if label in ("", "other", "home", "work", "homepage", "home-page", "profile", "url", "custom", "blog"):
        host = url_key(url).split("/")[0]
        for site, name in _KNOWN_SITES.items():
            if host == site or host.endswith("." + site):
                return name
        return label if label and label not in ("other", "url", "custom") else "website"
    return label


# --- guessing a format -------------------------------------------------------------------------


def looks_like(text: str) -> str | None:
    """A guess at what a file is, to make 'wrong format' errors helpful."""
    head = text.lstrip()[:4000]
    if head.upper().startswith("BEGIN:VCARD"):
        return "a vCard file (try 'crm import vcard')"
    if "Connected On" in head and "First Name" in head:
        return "a LinkedIn Connections.csv (try 'crm import linkedin')"
    if "Business Phone" in head or "E-mail Display Name" in head or "Job Title" in head:
        return "an Outlook Contacts CSV (try 'crm import outlook')"
    if "E-mail 1 - Value" in head or "Group Membership" in head:
        return "a Google Contacts CSV (try 'crm import google')"
    if head.upper().startswith("BEGIN:VCALENDAR"):
        return "an iCalendar file"
    if head.startswith(("{", "[")):
        return "a JSON file"
    if head.startswith("<"):
        return "an HTML or XML file"
    if head.startswith("---"):
        return "a Markdown contact file"
    return None


# --- CSV ------------------------------------------------------------------------------------------


def csv_rows(text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of every row; quoted fields may hold commas, quotes and newlines."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=delimiter)
    start = 1
    try:
        for row in reader:
            yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        detail = str(exc)
        if "unexpected end of data" in detail:
            detail = "a quoted field that starts here is never closed"
        raise ImportFormatError(f"broken CSV: {detail}", start) from None


def read_csv(
    text: str, is_header: object, what: str, scan: int = 20
) -> tuple[list[str], int, Iterator[tuple[int, list[str]]]]:
    """Find the header row (the first of the first `scan` rows for which is_header(cells) is true).

    Returns (header, header line, the remaining rows). Raises ImportFormatError when no row fits.
    """
    assert callable(is_header)
    broken: ImportFormatError | None = None
    for delimiter in (",", ";", "\t"):  # a spreadsheet may have re-saved it with ; or tabs
        if delimiter != "," and delimiter not in text[:4000]:
            continue
        rows = csv_rows(text, delimiter)
        try:
            for _ in range(scan):
                try:
                    line, cells = next(rows)
                except StopIteration:
                    break
                cleaned = [c.strip().lstrip("\ufeff") for c in cells]
                if is_header(cleaned):
                    return cleaned, line, rows
        except ImportFormatError as exc:
            broken = broken or exc
    hint = looks_like(text)
    if broken is not None and hint is None:
        raise broken
    raise ImportFormatError(
        f"this is not {what}: no header row found in the first {scan} lines"
        + (f"; it looks like {hint}" if hint else "")
    )


def row_dict(header: list[str], cells: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, name in enumerate(header):
        if name and name not in out:
            out[name] = cells[i].strip() if i < len(cells) else ""
    return out


# --- names ----------------------------------------------------------------------------------------


def split_name(name: str) -> tuple[str, str]:
    """'Jane van Doe' → ('Jane van', 'Doe') — good enough for vCard's N."""
    parts = name.split()
    if len(parts) <= 1:
        return (name.strip(), "")
    return (" ".join(parts[:-1]), parts[-1])
