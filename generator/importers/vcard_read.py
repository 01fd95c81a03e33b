"""The bytes of a vCard file → cards of properties, in one linear pass.

Folded lines are unfolded on the bytes, before decoding, so a fold inside a UTF-8 character
(which some exporters write) is mended. Photos and other binary values are skipped where they
lie, without being copied: only their `NAME;params:` head is kept, so a card with an 8 MB photo
costs what a card without one does. Each value is then decoded on its own — its CHARSET, else
UTF-8 — so one bad byte never garbles another field (see `decoding.LineDecoder`). vCard 2.1
QUOTED-PRINTABLE values (with soft line breaks) and bare parameters (`TEL;WORK;VOICE`) are read.
"""

from __future__ import annotations

import quopri
import re
from dataclasses import dataclass, field

from .common import ImportFormatError
from .decoding import LineDecoder

_BINARY_HEAD = re.compile(rb"(?:[A-Za-z0-9-]+\.)?(?:PHOTO|LOGO|SOUND|KEY)[;:]", re.IGNORECASE)
_NEXT_PROPERTY = re.compile(rb"\n(?![ \t])")
_BARE_ENCODINGS = ("QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT")


@dataclass
class Prop:
    line: int
    group: str
    name: str
    params: dict[str, list[str]]
    value: str  # the (still escaped) value text, decoded

    def types(self) -> set[str]:
        return {t.casefold() for t in self.params.get("TYPE", [])}

    def pref(self) -> int:
        """vCard 4.0's PREF=1 (most preferred) … 100; 3.0's TYPE=pref is 1; none is 101."""
        for value in self.params.get("PREF", []):
            if value.isdigit():
                return int(value)
        return 1 if "pref" in self.types() or "PREF" in self.params else 101


@dataclass
class Card:
    line: int
    props: list[Prop] = field(default_factory=list)


def logical_lines(data: bytes) -> list[tuple[int, bytes]]:
    """(first line number, unfolded bytes) of every property line; binary values cut to their head."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    out: list[tuple[int, bytes]] = []
    size = len(data)
    pos, number = 0, 1
    while pos < size:
        end = data.find(b"\n", pos)
        end = size if end < 0 else end
        if _BINARY_HEAD.match(data, pos, end):
            colon = data.find(b":", pos, end)
            following = _NEXT_PROPERTY.search(data, end)
            stop = following.start() if following else size
            out.append((number, data[pos : colon + 1]))
            number += data.count(b"\n", pos, stop) + 1
            pos = stop + 1
            continue
        first, parts = number, [data[pos:end]]
        pos, number = end + 1, number + 1
        while pos < size and data[pos] in (32, 9):  # a continuation line
            end = data.find(b"\n", pos)
            end = size if end < 0 else end
            parts.append(data[pos + 1 : end])
            pos, number = end + 1, number + 1
        out.append((first, parts[0] if len(parts) == 1 else b"".join(parts)))
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


def _colon(raw: bytes) -> int:
    """Where the value starts: the first ':' outside a quoted parameter value; -1 when none."""
    colon = raw.find(b":")
    if colon < 0 or b'"' not in raw[:colon]:
        return colon
    quoted = False
    for index, byte in enumerate(raw):
        if byte == 34:
            quoted = not quoted
        elif byte == 58 and not quoted:
            return index
    return -1


def parse_head(head: str) -> tuple[str, str, dict[str, list[str]]]:
    """`item1.TEL;TYPE=work,voice;PREF=1` → ('item1', 'TEL', {'TYPE': ['work', 'voice'], …})."""
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
            if piece.strip().upper() in _BARE_ENCODINGS:
                key = "ENCODING"
            elif piece.strip().upper().startswith("CHARSET"):
                key = "CHARSET"
        for item in _split_outside_quotes(value, ","):
            item = item.strip().strip('"')
            if item:
                params.setdefault(key, []).append(item)
    return group, name.upper(), params


class _Values:
    """Decodes one value: QUOTED-PRINTABLE, then its CHARSET, else the file's line decoder."""

    def __init__(self, decoder: LineDecoder) -> None:
        self.decoder = decoder

    def decode(self, raw: bytes, params: dict[str, list[str]], line: int, name: str) -> str:
        encoding = {e.upper() for e in params.get("ENCODING", [])}
        if "QUOTED-PRINTABLE" in encoding:
            raw = quopri.decodestring(raw)
        charset = (params.get("CHARSET") or [""])[0]
        if charset:
            try:
                return raw.decode(charset)
            except (LookupError, UnicodeDecodeError):
                pass
        return self.decoder.decode(raw, line, name)


def read_cards(data: bytes) -> tuple[list[Card], list[tuple[int, str]]]:
    """The cards of a file, and (line, message) for every value that was not valid text."""
    lines = logical_lines(data)
    decoder = LineDecoder.for_lines(raw for _, raw in lines)
    values = _Values(decoder)
    cards: list[Card] = []
    card: Card | None = None
    depth = 0
    in_binary = False
    i = 0
    while i < len(lines):
        number, raw = lines[i]
        i += 1
        if not raw.strip():
            in_binary = False
            continue
        colon = _colon(raw)
        if colon < 0:
            if in_binary or card is None and cards:
                continue  # un-indented base64 of a 2.1 photo, or junk between cards
            shown = raw[:40].decode("utf-8", errors="replace")
            if card is None:
                raise ImportFormatError(f"expected BEGIN:VCARD, found {shown!r}", number)
            raise ImportFormatError(f"not a vCard property (expected NAME:value): {shown!r}", number)
        group, name, params = parse_head(raw[:colon].decode("utf-8", errors="replace"))
        value = raw[colon + 1 :]
        if name in ("BEGIN", "END") and value.strip().upper() == b"VCARD":
            if name == "BEGIN":
                depth += 1
                card = Card(number) if depth == 1 else card
            else:
                depth -= 1
                if depth == 0 and card is not None:
                    cards.append(card)
                    card = None
                depth = max(depth, 0)
            continue
        if card is None:
            shown = raw[:40].decode("utf-8", errors="replace")
            raise ImportFormatError(f"expected BEGIN:VCARD, found {shown!r}", number)
        if depth > 1:
            continue  # a nested 2.1 AGENT card
        encoding = {e.upper() for e in params.get("ENCODING", [])}
        in_binary = bool(encoding & {"BASE64", "B"})
        if "QUOTED-PRINTABLE" in encoding:
            pieces = [value]
            while pieces[-1].endswith(b"=") and i < len(lines):  # a soft line break
                pieces[-1] = pieces[-1][:-1]
                pieces.append(lines[i][1])
                i += 1
            value = b"".join(pieces)
        card.props.append(Prop(number, group.upper(), name, params, values.decode(value, params, number, name)))
    if card is not None:
        raise ImportFormatError("the last vCard has no END:VCARD", card.line)
    return cards, decoder.warnings
