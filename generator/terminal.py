"""What reaches the terminal: text from contact files (a name, a note, a file name) may hold
escape sequences that would set the window title, move the cursor or clear the screen. Every
write to stdout and stderr passes through `printable`: control characters are shown as `\\xNN`,
except newline, tab and carriage return (progress lines), and colour codes (SGR, as click.style
writes them; click strips them itself when the output is not a terminal)."""

from __future__ import annotations

import re
from typing import Any

_CONTROL = re.compile(r"\x1b\[[0-9;]*m|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _shown(match: re.Match[str]) -> str:
    text = match.group(0)
    return text if len(text) > 1 else f"\\x{ord(text):02x}"


def printable(text: str) -> str:
    """`text` with every control character but newline, tab, carriage return and colour codes
    made visible."""
    return _CONTROL.sub(_shown, text)


class SafeStream:
    """A text stream whose writes go through `printable`; everything else is the stream's."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def write(self, text: Any) -> Any:
        return self._inner.write(printable(text) if isinstance(text, str) else text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
