"""A fast path for rendering ordinary contact notes, byte-identical to markdown-it.

`render(text, resolver)` handles only a small subset of Markdown, for which it can be sure to
write exactly what `make_markdown()` writes, and returns None for anything else (the caller then
uses markdown-it). Being conservative is the point: any character or layout outside the subset
makes it give up, never guess.

Blocks (lines are split on "\\n" only; no line may end with a space):
- blank lines (empty; a line of spaces has a trailing space, so gives up);
- ATX headings `# Title` … `###### Title` on one line: one space after the #'s, content not
  starting with a space or `#`, not ending with `#` (no closing sequence);
- bullet lists: `- item` lines, each item on one line, the line after an item being another
  item, a blank line or the end. Items separated by blank lines make one loose list (each item
  in a `<p>`), otherwise the list is tight;
- paragraphs: consecutive other lines. Each paragraph line and each list item starts with an
  ASCII letter or digit (but not `12.`/`3)` followed by a space: ordered lists), a non-ASCII
  character, or one of ``*`[("'`` (the inline rules below decide those), so no other block
  (quote, fence, rule, setext underline, table, HTML block, reference, indented code) can start.

Inline (a paragraph's lines are joined with "\\n", which markdown-it writes as is):
- text, escaped like markdown-it's `escapeHtml` (`& < > "`);
- `code` spans: single backticks, no backtick run longer than one, content on one line and not
  starting or ending with a space (markdown-it strips one space at each end in some cases);
- `*em*` and `**strong**`, no nesting: an opening run is at the start or after a space, newline or
  `(`, and is followed by an ASCII letter or digit (it can only open); a closing run follows an
  ASCII letter or digit and is followed by the end, a space, a newline or one of `.,;:!?)` (it
  can only close). Every opener is closed by a run of the same length before the next opener;
- `[[Target]]` / `[[Target|label]]` wiki links, exactly as `render._wiki_rule` does them (same
  regex, strip, resolver call, attributes and escaping);
- `&` not followed by `#` or an ASCII letter or digit (so never an entity), `!` not followed by
  `[`, and `>` (escaped) anywhere but at a line's start.
Anything else (`\\ < _ ~ |`, `[` not starting a wiki link, `]` outside one, `***`, a `*` in a
word, tabs, `\\r`, control characters, Unicode spaces, …) gives up.
"""

from __future__ import annotations

import re

from markupsafe import escape

from .render import WIKI_LINK, Resolver

# Characters that make the fast path give up wherever they are: control characters (tab, \r,
# NUL, …), every character Python's `str.isspace` accepts other than " " and "\n" (markdown-it
# strips paragraphs and headings with `str.strip`), and lone surrogates. A test checks the list
# against all of Unicode.
_BAD = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ud800-\udfff]"
)
# Inline characters that need a decision; everything else is text.
_SPECIAL = re.compile(r"[`*\[\]&!<\\_~|]")
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_OPEN_AFTER = frozenset(" \n(")  # (or the start)
_CLOSE_BEFORE = frozenset(" \n.,;:!?)")  # (or the end)
_LINE_START = _ASCII_ALNUM | frozenset("*`[(\"'")
_ORDERED = re.compile(r"[0-9]+[.)](?: |$)")
_ENTITY_START = _ASCII_ALNUM | {"#"}
_OPEN_TAG = ("", "<em>", "<strong>")
_CLOSE_TAG = ("", "</em>", "</strong>")


def _text(chunk: str) -> str:
    """markdown-it's escapeHtml for a chunk of text without `&` or `<` (those are special)."""
    if ">" in chunk:
        chunk = chunk.replace(">", "&gt;")
    if '"' in chunk:
        chunk = chunk.replace('"', "&quot;")
    return chunk


def _code(chunk: str) -> str:
    """markdown-it's escapeHtml."""
    return chunk.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _inline(src: str, resolver: Resolver | None, out: list[str]) -> bool:
    """Append the HTML of one block's inline content to out; False if outside the subset."""
    end = len(src)
    pos = 0
    open_run = 0  # length of the unclosed `*` run, 0 if none
    search = _SPECIAL.search
    while True:
        found = search(src, pos)
        if found is None:
            if pos < end:
                out.append(_text(src[pos:]))
            break
        at = found.start()
        if at > pos:
            out.append(_text(src[pos:at]))
        char = src[at]
        if char == "*":
            stop = at + 1
            while stop < end and src[stop] == "*":
                stop += 1
            run = stop - at
            if run > 2:
                return False
            before = src[at - 1] if at else " "
            after = src[stop] if stop < end else " "
            if before in _OPEN_AFTER and after in _ASCII_ALNUM:
                if open_run:
                    return False
                open_run = run
                out.append(_OPEN_TAG[run])
            elif before in _ASCII_ALNUM and after in _CLOSE_BEFORE:
                if open_run != run:
                    return False
                open_run = 0
                out.append(_CLOSE_TAG[run])
            else:
                return False
            pos = stop
        elif char == "`":
            close = src.find("`", at + 1)
            if close <= at + 1 or src.startswith("`", close + 1):
                return False
            content = src[at + 1 : close]
            if "\n" in content or content[0] == " " or content[-1] == " ":
                return False
            out.append("<code>" + _code(content) + "</code>")
            pos = close + 1
        elif char == "[":
            match = WIKI_LINK.match(src, at)
            if match is None:
                return False
            # As render._wiki_rule does it.
            target = match.group(1).strip()
            label = (match.group(2) or "").strip()
            resolved = resolver(target) if resolver is not None else None
            if resolved is None:
                out.append(
                    f'<span class="wiki-missing" title="No contact with this name">{escape(match.group(0))}</span>'
                )
            else:
                href, name = resolved
                out.append(f'<a href="{_code(href)}" class="wiki">{_code(label or name)}</a>')
            pos = match.end()
        elif char == "&":
            if at + 1 < end and src[at + 1] in _ENTITY_START:
                return False
            out.append("&amp;")
            pos = at + 1
        elif char == "!":
            if src.startswith("[", at + 1):
                return False
            out.append("!")
            pos = at + 1
        else:  # ] < \ _ ~ |
            return False
    return open_run == 0


def _starts_ok(line: str) -> bool:
    """True if a paragraph line or list item (not empty) can only start a paragraph."""
    first = line[0]
    if first in _LINE_START:
        return first > "9" or first < "0" or _ORDERED.match(line) is None
    return first >= "\x80"


def render(text: str, resolver: Resolver | None = None) -> str | None:
    """The HTML markdown-it would write for text, or None if text is outside the subset."""
    if _BAD.search(text) is not None:
        return None
    lines = text.split("\n")
    count = len(lines)
    out: list[str] = []
    index = 0
    while index < count:
        line = lines[index]
        if not line:
            index += 1
            continue
        if line[-1] == " ":
            return None
        first = line[0]
        if first == "#":
            level = 1
            while level < len(line) and line[level] == "#":
                level += 1
            content = line[level + 1 :]
            if (
                level > 6
                or not line.startswith(" ", level)
                or not content
                or content[0] in " #"
                or content[-1] == "#"
            ):
                return None
            out.append(f"<h{level}>")
            if not _inline(content, resolver, out):
                return None
            out.append(f"</h{level}>\n")
            index += 1
        elif first == "-":
            items: list[str] = []
            loose = False
            while True:
                item = lines[index]
                if not item.startswith("- ") or len(item) < 3 or item[-1] == " " or not _starts_ok(item[2:]):
                    return None
                items.append(item[2:])
                index += 1
                if index == count:
                    break
                if lines[index]:
                    if lines[index][0] == "-":
                        continue
                    return None  # a lazy continuation line or a heading right after an item
                while index < count and not lines[index]:
                    index += 1
                if index == count or lines[index][0] != "-":
                    break
                loose = True  # blank lines between items
            out.append("<ul>\n")
            for item in items:
                out.append("<li>\n<p>" if loose else "<li>")
                if not _inline(item, resolver, out):
                    return None
                out.append("</p>\n</li>\n" if loose else "</li>\n")
            out.append("</ul>\n")
        else:
            start = index
            while True:
                if not _starts_ok(line):
                    return None
                index += 1
                if index == count:
                    break
                line = lines[index]
                if not line or line[0] in "#-":
                    break
                if line[-1] == " ":
                    return None
            out.append("<p>")
            if not _inline("\n".join(lines[start:index]), resolver, out):
                return None
            out.append("</p>\n")
    return "".join(out)
