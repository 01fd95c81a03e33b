"""Split a contact file's text into its YAML front matter and its Markdown body."""

from __future__ import annotations

from dataclasses import dataclass

# Notes longer than this (in characters) are shown as plain text, not rendered as Markdown:
# markdown-it's cost on hostile text (a megabyte of `[`) is seconds and hundreds of MB.
NOTES_MARKDOWN_LIMIT = 256 * 1024


@dataclass(frozen=True)
class Split:
    yaml_text: str
    yaml_line: int  # 1-based file line of the first YAML line
    body: str
    body_line: int  # 1-based file line where the body starts


class FrontMatterError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def decode(data: bytes) -> str:
    """UTF-8 (a leading BOM accepted), CRLF and CR turned into LF. Raises FrontMatterError."""
    if not data or data.isspace():  # what `not data.strip()` says, without a copy
        raise FrontMatterError(
            1, "the file is empty (expected '---', YAML front matter with at least a name, '---')"
        )
    if data.find(b"\x00", 0, 8192) >= 0:
        raise FrontMatterError(1, "this is a binary file, not a Markdown contact file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FrontMatterError(
            line,
            f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8",
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _is_fence(line: str) -> bool:
    return line.rstrip() == "---"


def split(text: str) -> Split:
    first_end = text.find("\n")
    if not _is_fence(text if first_end < 0 else text[:first_end]):
        raise FrontMatterError(
            1, "no front matter: a contact file starts with a '---' line, then YAML, then another '---' line"
        )
    start, end = _closing_line(text, first_end) if first_end >= 0 else (-1, -1)
    if start < 0:
        raise FrontMatterError(1, "the front matter is not closed: add a '---' line after the YAML")
    yaml_text = text[first_end + 1 : start] or "\n"  # ends with "\n" when not empty
    body = text[end + 1 :]  # after the closing line's newline ("" when there is none)
    return Split(yaml_text, 2, body, text.count("\n", 0, start) + 2)


def _closing_line(text: str, pos: int) -> tuple[int, int]:
    """(start, end) of the first line after `pos` (the index of a newline) that is `---` or
    `...` and trailing whitespace, as with `line.rstrip()`; (-1, -1) when there is none."""
    while True:
        dashes = text.find("\n---", pos)
        dots = text.find("\n...", pos)
        if dashes < 0 and dots < 0:
            return -1, -1
        at = dashes if dots < 0 or 0 <= dashes < dots else dots
        end = text.find("\n", at + 4)
        if end < 0:
            end = len(text)
        if not text[at + 4 : end].strip():
            return at + 1, end
        pos = at + 1
