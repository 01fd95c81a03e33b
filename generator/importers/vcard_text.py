"""vCard's text rules both ways: escaping, unescaping, splitting and folding, and the vCard 3.0
writer of `crm export vcard` (CRLF, lines folded at 75 octets, values escaped, RFC 2426)."""

from __future__ import annotations

import datetime as dt
import re

from .common import split_name


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def split_escaped(value: str, sep: str) -> list[str]:
    """Split on `sep` where it is not escaped, then unescape each part."""
    parts = re.split(r"(?<!\\)((?:\\\\)*)" + re.escape(sep), value)
    # re.split keeps the captured backslash pairs: glue them back onto the preceding part
    out: list[str] = []
    for index in range(0, len(parts), 2):
        piece = parts[index] + (parts[index + 1] if index + 1 < len(parts) else "")
        out.append(unescape(piece))
    return out



# --- writing (vCard 3.0) ----------------------------------------------------------------------


def escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
        .replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    )  # fmt: skip


def fold(line: str, limit: int = 75) -> str:
    """Fold a content line at `limit` octets (UTF-8), never inside a character; CRLF-terminated."""
    data = line.encode("utf-8")
    if len(data) <= limit:
        return line + "\r\n"
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    budget = limit
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > budget:
            chunks.append("".join(current))
            current, size, budget = [], 0, limit - 1  # continuation lines start with a space
        current.append(ch)
        size += width
    chunks.append("".join(current))
    return "\r\n ".join(chunks) + "\r\n"


def write_card(
    *,
    name: str,
    emails: tuple[str, ...] | list[str] = (),
    phones: tuple[str, ...] | list[str] = (),
    company: str = "",
    department: str = "",
    title: str = "",
    location: str = "",
    tags: tuple[str, ...] | list[str] = (),
    links: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
    how_we_met: str = "",
    note: str = "",
    uid: str = "",
    birthday: dt.date | str = "",
    fax: str = "",
) -> str:
    """One vCard 3.0 (CRLF, folded, escaped)."""
    given, family = split_name(name)
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{escape(name)}", f"N:{escape(family)};{escape(given)};;;"]
    if uid:
        lines.append(f"UID:{escape(uid)}")
    for i, email in enumerate(emails):
        lines.append(f"EMAIL;TYPE=INTERNET{',PREF' if i == 0 and len(emails) > 1 else ''}:{escape(email)}")
    for phone in phones:
        lines.append(f"TEL;TYPE=VOICE:{escape(phone)}")
    if fax:
        lines.append(f"TEL;TYPE=FAX:{escape(fax)}")
    if birthday:
        lines.append(f"BDAY:{birthday.isoformat() if isinstance(birthday, dt.date) else escape(birthday)}")
    if company or department:
        lines.append(f"ORG:{escape(company)}" + (f";{escape(department)}" if department else ""))
    if title:
        lines.append(f"TITLE:{escape(title)}")
    if location:
        lines.append(f"ADR;TYPE=HOME:;;;{escape(location)};;;")
    if tags:
        lines.append("CATEGORIES:" + ",".join(escape(t) for t in tags))
    for n, (label, url) in enumerate(links, start=1):
        lines.append(f"item{n}.URL:{escape(url)}")
        lines.append(f"item{n}.X-ABLabel:{escape(label)}")
    if how_we_met:
        lines.append(f"X-TIPSCALE-HOW-WE-MET:{escape(how_we_met)}")
    if note.strip():
        lines.append(f"NOTE:{escape(note.strip())}")
    lines.append("END:VCARD")
    return "".join(fold(line) for line in lines)
