"""vCard 2.1, 3.0 and 4.0 → records, and the vCard 3.0 writer used by `crm export vcard`.

Reading: folded lines are unfolded, `item1.` groups tie a URL to its `X-ABLabel`, 2.1
QUOTED-PRINTABLE values (with soft line breaks and a CHARSET) are decoded, 4.0 `tel:` URIs and
`TYPE="work,voice"` lists are understood, and photos (data: URIs or 2.1 base64 blocks) are
skipped. Writing: vCard 3.0, CRLF, lines folded at 75 octets, values escaped (RFC 2426).
"""

from __future__ import annotations

import quopri
import re
from dataclasses import dataclass, field

from .common import ImportFormatError, Parsed, Record, decode_text, looks_like, split_name

WHAT = "a vCard file (BEGIN:VCARD … END:VCARD)"
BINARY_PROPS = {"PHOTO", "LOGO", "SOUND", "KEY"}
SYSTEM_CATEGORIES = {"mycontacts", "starred", "my contacts"}


@dataclass
class Prop:
    line: int
    group: str
    name: str
    params: dict[str, list[str]]
    value: str  # raw (still escaped) value text, QUOTED-PRINTABLE already decoded

    def types(self) -> set[str]:
        return {t.casefold() for t in self.params.get("TYPE", [])}


@dataclass
class Card:
    line: int
    props: list[Prop] = field(default_factory=list)


# --- reading ----------------------------------------------------------------------------------


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Unfold: a line starting with a space or tab continues the previous one."""
    out: list[tuple[int, str]] = []
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        if line[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + line[1:])
        else:
            out.append((number, line))
    return out


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _parse_head(head: str) -> tuple[str, str, dict[str, list[str]]]:
    pieces = _split_outside_quotes(head, ";")
    name = pieces[0].strip()
    group = ""
    if "." in name:
        group, name = name.rsplit(".", 1)
    params: dict[str, list[str]] = {}
    for piece in pieces[1:]:
        if not piece.strip():
            continue
        if "=" in piece:
            key, value = piece.split("=", 1)
            key = key.strip().upper()
        else:  # vCard 2.1 bare parameters: TEL;WORK;VOICE, QUOTED-PRINTABLE, BASE64
            key, value = "TYPE", piece
            if piece.strip().upper() in ("QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"):
                key = "ENCODING"
            elif piece.strip().upper().startswith("CHARSET"):
                key = "CHARSET"
        for item in _split_outside_quotes(value, ","):
            item = item.strip().strip('"')
            if item:
                params.setdefault(key, []).append(item)
    return group, name.upper(), params


def _decode_qp(value: str, charset: str) -> str:
    raw = quopri.decodestring(value.encode("latin-1", errors="replace"))
    try:
        return raw.decode(charset or "utf-8")
    except (LookupError, UnicodeDecodeError):
        return raw.decode("latin-1")


def read_cards(text: str) -> list[Card]:
    lines = _logical_lines(text)
    cards: list[Card] = []
    card: Card | None = None
    depth = 0
    in_binary = False
    i = 0
    while i < len(lines):
        number, line = lines[i]
        i += 1
        if not line.strip():
            in_binary = False
            continue
        if ":" not in line:
            if in_binary or card is None and cards:
                continue  # un-indented base64 of a 2.1 photo, or junk between cards
            if card is None:
                raise ImportFormatError(f"expected BEGIN:VCARD, found {line[:40]!r}", number)
            raise ImportFormatError(f"not a vCard property (expected NAME:value): {line[:40]!r}", number)
        head, value = line.split(":", 1) if '"' not in line.split(":", 1)[0] else _split_value(line)
        group, name, params = _parse_head(head)
        if name == "BEGIN" and value.strip().upper() == "VCARD":
            depth += 1
            if depth == 1:
                card = Card(number)
            continue
        if name == "END" and value.strip().upper() == "VCARD":
            depth -= 1
            if depth == 0 and card is not None:
                cards.append(card)
                card = None
            depth = max(depth, 0)
            continue
        if card is None:
            raise ImportFormatError(f"expected BEGIN:VCARD, found {line[:40]!r}", number)
        if depth > 1:
            continue  # a nested 2.1 AGENT card
        encoding = {e.upper() for e in params.get("ENCODING", [])}
        in_binary = bool(encoding & {"BASE64", "B"})
        if "QUOTED-PRINTABLE" in encoding:
            while value.endswith("=") and i < len(lines):  # soft line break
                value = value[:-1] + lines[i][1]
                i += 1
            charset = (params.get("CHARSET") or ["utf-8"])[0]
            value = _decode_qp(value, charset)
        card.props.append(Prop(number, group.upper(), name, params, value))
    if card is not None:
        raise ImportFormatError("the last vCard has no END:VCARD", card.line)
    return cards


def _split_value(line: str) -> tuple[str, str]:
    parts = _split_outside_quotes(line, ":")
    return parts[0], ":".join(parts[1:])


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


def _card_record(card: Card) -> Record | None:
    record = Record(line=card.line)
    labels = {p.group: p.value.strip() for p in card.props if p.name == "X-ABLABEL" and p.group}
    given_family = ""
    preferred_emails: list[str] = []
    other_emails: list[str] = []
    for prop in card.props:
        name = prop.name
        if name in BINARY_PROPS or name in ("VERSION", "PRODID", "REV", "UID", "X-ABLABEL"):
            continue
        if name == "FN":
            record.name = " ".join(unescape(prop.value).split())
        elif name == "N":
            parts = split_escaped(prop.value, ";") + [""] * 5
            family, given, additional, prefix, suffix = parts[:5]
            given_family = " ".join(" ".join(p for p in (given, additional, family) if p.strip()).split())
        elif name == "EMAIL":
            email = unescape(prop.value).strip().removeprefix("mailto:")
            preferred = "pref" in prop.types() or "PREF" in prop.params
            (preferred_emails if preferred else other_emails).append(email)
        elif name == "TEL":
            tel = unescape(prop.value).strip()
            if tel.lower().startswith("tel:"):
                tel = tel[4:].split(";")[0]
            record.add_phone(tel)
        elif name == "ORG":
            parts = [p.strip() for p in split_escaped(prop.value, ";")]
            if parts and parts[0] and not record.company:
                record.company = parts[0]
                units = [p for p in parts[1:] if p]
                if units:
                    record.extra["department"] = ", ".join(units)
        elif name == "TITLE" and not record.title:
            record.title = unescape(prop.value).strip()
        elif name == "ADR" and not record.location:
            parts = [p.strip() for p in split_escaped(prop.value, ";")] + [""] * 7
            box, ext, street, city, region, code, country = parts[:7]
            chosen = [p for p in (city, region, country) if p] or [p for p in (street, code) if p]
            record.location = ", ".join(" ".join(p.split()) for p in chosen)
        elif name == "CATEGORIES":
            for tag in split_escaped(prop.value, ","):
                if tag.strip() and tag.strip().casefold() not in SYSTEM_CATEGORIES:
                    record.add_tag(tag)
        elif name == "NOTE":
            note = unescape(prop.value).replace("\r\n", "\n").strip()
            record.notes = f"{record.notes}\n\n{note}" if record.notes else note
        elif name in ("URL", "X-SOCIALPROFILE"):
            url = unescape(prop.value).strip()
            if url.startswith(("data:", "x-apple:")):
                continue
            label = labels.get(prop.group, "") if prop.group else ""
            if not label and name == "X-SOCIALPROFILE" and prop.params.get("TYPE"):
                label = prop.params["TYPE"][0]
            if not label:
                label = (prop.params.get("X-LABEL") or prop.params.get("LABEL") or [""])[0]
            record.add_link(label, url)
        elif name == "X-TIPSCALE-HOW-WE-MET":
            record.extra["how_we_met"] = unescape(prop.value).strip()
    for email in preferred_emails + other_emails:
        record.add_email(email)
    if not record.name:
        record.name = given_family
    return record


def parse(data: bytes) -> Parsed:
    text = decode_text(data, WHAT)
    if not text.lstrip().upper().startswith("BEGIN:VCARD"):
        hint = looks_like(text)
        raise ImportFormatError(
            "this is not a vCard file: it does not start with BEGIN:VCARD"
            + (f"; it looks like {hint}" if hint else ""),
            1,
        )
    out = Parsed()
    for card in read_cards(text):
        record = _card_record(card)
        if record is not None:
            out.records.append(record)
    if not out.records:
        raise ImportFormatError("no vCard found (expected BEGIN:VCARD … END:VCARD)")
    return out


# --- writing (vCard 3.0) ------------------------------------------------------------------------


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
