"""Split a contact file's text into its YAML front matter and its Markdown body."""

from __future__ import annotations

from dataclasses import dataclass


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
    if not data.strip():
        raise FrontMatterError(
            1, "the file is empty (expected '---', YAML front matter with at least a name, '---')"
        )
    if b"\x00" in data[:8192]:
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
    lines = text.split("\n")
    if not _is_fence(lines[0]):
        raise FrontMatterError(
            1, "no front matter: a contact file starts with a '---' line, then YAML, then another '---' line"
        )
    for i in range(1, len(lines)):
        if _is_fence(lines[i]) or lines[i].rstrip() == "...":
            yaml_text = "\n".join(lines[1:i]) + "\n"
            body = "\n".join(lines[i + 1 :])
            return Split(yaml_text, 2, body, i + 2)
    raise FrontMatterError(1, "the front matter is not closed: add a '---' line after the YAML")
