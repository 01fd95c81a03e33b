"""Text from contact files never reaches the terminal as control sequences: a name holding
`ESC ] 0 ; title BEL` (set the window title) or `ESC [ 2 J` (clear the screen) is printed with the
characters made visible, piped or not; newlines, tabs and progress lines are left alone."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from generator.terminal import printable

EVIL = """\
---
name: "Eve \\e]0;pwned\\aSmith\\e[2J"
interactions:
  - date: 2026-11-24
    type: interview
    summary: "Screen \\x9b31m"
---
"""


def test_printable_keeps_text_lines_and_colours() -> None:
    assert printable("a\tb\nc\rd") == "a\tb\nc\rd"
    assert printable("\x1b[1;31mred\x1b[0m") == "\x1b[1;31mred\x1b[0m"  # click.style's colours
    assert printable("x\x1b]0;t\x07y\x1b[2J\x9b\x00") == "x\\x1b]0;t\\x07y\\x1b[2J\\x9b\\x00"


def test_names_with_escape_sequences_are_shown_not_obeyed(crm_root: Callable[..., Path]) -> None:
    root = crm_root({"contacts/eve.md": EVIL})
    env = {**os.environ, "CRM_TODAY": "2026-11-25"}
    for args in (["followups"], ["check"], ["build"], ["draft", "eve"]):
        result = subprocess.run(
            [sys.executable, "-c", "from generator.cli import run; run()", "--root", str(root), *args],
            capture_output=True, text=True, timeout=60, env=env, check=False,
        )  # fmt: skip
        out = result.stdout + result.stderr
        assert "Traceback" not in out, out
        for control in ("\x1b", "\x07", "\x9b"):
            assert control not in out, (args, out)
        if args == ["followups"]:
            assert "Eve \\x1b]0;pwned\\x07Smith" in out
