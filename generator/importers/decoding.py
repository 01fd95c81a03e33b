"""Bytes of an export → text, decoded line by line so one bad byte never garbles the rest.

Exports are UTF-8 (with or without a BOM) or UTF-16 with a BOM; old ones, and spreadsheets
re-saved on Windows, are Windows-1252. A file is read as UTF-8 when it can be. When only some
lines are not valid UTF-8, those lines alone are read another way and reported: as UTF-8 with
the broken bytes replaced when the line holds valid UTF-8 too, as Windows-1252 when it holds
none (a line pasted from another program). A file with no UTF-8 beyond ASCII at all is a
Windows-1252 file and is read as one, silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .common import ImportFormatError

_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
BINARY_SAMPLE = 65536


def check_bytes(data: bytes, what: str) -> bytes:
    """The file's bytes as UTF-8-or-8-bit bytes without a BOM (UTF-16 is re-encoded as UTF-8).

    Raises ImportFormatError for an empty or binary file.
    """
    if not data.strip():
        raise ImportFormatError(f"the file is empty (expected {what})")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise ImportFormatError(f"this is a binary file, not {what}") from None
    elif b"\x00" in data[:BINARY_SAMPLE]:
        raise ImportFormatError(f"this is a binary file, not {what}")
    data = data.removeprefix(b"\xef\xbb\xbf")
    sample = data[:BINARY_SAMPLE]
    controls = sum(sample.count(bytes([c])) for c in range(32) if c not in (9, 10, 12, 13))
    if controls > max(8, len(sample) // 50):
        raise ImportFormatError(f"this is a binary file, not {what}")
    if not data.strip():
        raise ImportFormatError(f"the file is empty (expected {what})")
    return data


class LineDecoder:
    """Decodes the lines (or fields) of one file; `warnings` collects (line, message)."""

    def __init__(self, utf8: bool) -> None:
        self.utf8 = utf8  # the file is UTF-8 (some line holds valid UTF-8 beyond ASCII)
        self.warnings: list[tuple[int, str]] = []

    @staticmethod
    def for_lines(lines: Iterable[bytes]) -> LineDecoder:
        for raw in lines:
            if not raw.isascii():
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError:
                    continue
                return LineDecoder(utf8=True)
        return LineDecoder(utf8=False)

    def decode(self, raw: bytes, line: int, what: str = "this line") -> str:
        if raw.isascii():
            return raw.decode("ascii")
        if not self.utf8:
            return raw.decode("cp1252", errors="replace")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        if _MULTIBYTE.search(raw):
            self.warnings.append((line, f"{what} is not valid UTF-8; the broken bytes are shown as \ufffd"))
            return raw.decode("utf-8", errors="replace")
        self.warnings.append((line, f"{what} is not UTF-8; read as Windows-1252 (check its accents)"))
        return raw.decode("cp1252", errors="replace")


def decode_text(data: bytes, what: str, warnings: list[tuple[int, str]] | None = None) -> str:
    """A whole text export (CSV) decoded; lines that are not UTF-8 are reported in `warnings`."""
    data = check_bytes(data, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    lines = data.splitlines(keepends=True)
    decoder = LineDecoder.for_lines(lines)
    text = "".join(decoder.decode(raw, number) for number, raw in enumerate(lines, start=1))
    if warnings is not None:
        warnings.extend(decoder.warnings)
    return text
