"""vCard 2.1, 3.0 and 4.0 → records (cards are read by `vcard_read`, written by `vcard_text`).

What real exporters write, and how it is read:
- several FN (ALTID/LANGUAGE variants): the preferred one (PREF=1, TYPE=pref), else the first;
- no FN or N: named after the ORG, else the e-mail address (and said so);
- `tel:` URIs keep their extension (`;ext=678` → `ext. 678`); fax numbers go to `fax`, not `phone`;
- contact groups (`KIND:group`, Apple's `X-ADDRESSBOOKSERVER-KIND:group`) are not people: skipped;
- BDAY in every form (`1985-12-09`, `19851209`, `--1209`, Apple's year 1604) → `birthday`;
- `item1.` groups tie a URL to its `X-ABLabel`; photos are skipped.
"""

from __future__ import annotations

import re

from .common import ImportFormatError, Parsed, Record, looks_like
from .decoding import check_bytes
from .vcard_read import Card, Prop, read_cards
from .vcard_text import split_escaped, unescape

WHAT = "a vCard file (BEGIN:VCARD … END:VCARD)"
BINARY_PROPS = {"PHOTO", "LOGO", "SOUND", "KEY"}
IGNORED_PROPS = {"VERSION", "PRODID", "REV", "UID", "X-ABLABEL", "KIND", "X-ADDRESSBOOKSERVER-KIND"}
SYSTEM_CATEGORIES = {"mycontacts", "starred", "my contacts"}
GROUP_KINDS = ("KIND", "X-ADDRESSBOOKSERVER-KIND")
_EXTENSION = re.compile(r";\s*ext=([^;]+)", re.IGNORECASE)


def _group_of(card: Card) -> str | None:
    """'a contact group …' when the card is a group, not a person; else None."""
    if not any(p.name in GROUP_KINDS and p.value.strip().lower() == "group" for p in card.props):
        return None
    name = next((unescape(p.value).strip() for p in card.props if p.name == "FN"), "")
    members = sum(1 for p in card.props if p.name in ("MEMBER", "X-ADDRESSBOOKSERVER-MEMBER"))
    what = f"a contact group {name!r}" if name else "a contact group"
    return f"{what} ({members} member{'' if members == 1 else 's'}), not a person"


def _phone(prop: Prop) -> str:
    """A TEL value with its extension kept: `tel:+1-555-010;ext=678` → `+1-555-010 ext. 678`."""
    tel = unescape(prop.value).strip()
    if tel.lower().startswith("tel:"):
        tel = tel[4:]
    extension = _EXTENSION.search(tel)
    number = tel.split(";")[0].strip()
    return f"{number} ext. {extension.group(1).strip()}" if extension and number else number


def _name(card: Card) -> str:
    """The preferred FN, else the first; else N as 'given additional family'."""
    names = [p for p in card.props if p.name == "FN" and unescape(p.value).strip()]
    if names:
        best = min(names, key=Prop.pref)  # min keeps the first of equals
        return " ".join(unescape(best.value).split())
    for prop in card.props:
        if prop.name == "N":
            family, given, additional = (split_escaped(prop.value, ";") + [""] * 3)[:3]
            return " ".join(" ".join(p for p in (given, additional, family) if p.strip()).split())
    return ""


def _card_record(card: Card, out: Parsed) -> Record:
    record = Record(line=card.line, name=_name(card))
    labels = {p.group: p.value.strip() for p in card.props if p.name == "X-ABLABEL" and p.group}
    emails = [p for p in card.props if p.name == "EMAIL"]
    for prop in sorted(emails, key=Prop.pref):  # the preferred address first
        email = unescape(prop.value)
        if not record.add_email(email):
            out.warn(prop.line, f"EMAIL {email.strip()[:60]!r} is not an e-mail address; left out")
    faxes: list[str] = []
    for prop in card.props:
        name = prop.name
        if name in BINARY_PROPS or name in IGNORED_PROPS or name in ("FN", "N", "EMAIL"):
            continue
        if name == "TEL":
            phone = _phone(prop)
            if "fax" in prop.types():
                if phone and phone not in faxes:
                    faxes.append(phone)
            else:
                record.add_phone(phone)
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
        elif name == "BDAY" and "birthday" not in record.extra:
            is_text = "text" in {v.lower() for v in prop.params.get("VALUE", [])}  # 'circa 1980'
            omit = (prop.params.get("X-APPLE-OMIT-YEAR") or [""])[0]
            out.birthday(record, unescape(prop.value), omit_year=omit, label="BDAY", line=prop.line, is_text=is_text)
        elif name == "X-TIPSCALE-HOW-WE-MET":
            record.extra["how_we_met"] = unescape(prop.value).strip()
    if faxes:
        record.extra["fax"] = ", ".join(faxes)
    out.name_missing(record)
    return record


def parse(data: bytes) -> Parsed:
    data = check_bytes(data, WHAT)
    if not data.lstrip()[:11].upper().startswith(b"BEGIN:VCARD"):
        hint = looks_like(data[:4000].decode("utf-8", errors="replace"))
        raise ImportFormatError(
            "this is not a vCard file: it does not start with BEGIN:VCARD"
            + (f"; it looks like {hint}" if hint else ""),
            1,
        )
    cards, warnings = read_cards(data)
    out = Parsed(warnings=warnings)
    for card in cards:
        group = _group_of(card)
        if group is not None:
            out.skipped.append((card.line, group))
            continue
        out.records.append(_card_record(card, out))
    if not cards:
        raise ImportFormatError("no vCard found (expected BEGIN:VCARD … END:VCARD)")
    return out
