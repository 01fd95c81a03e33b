"""The byte-preserving machinery of front-matter edits (SPEC §7): a file's YAML parsed with
every node's position (`parse` → `Doc`), an `Editor` that inserts text at those positions, and
`verify`, which parses the result again and insists on exactly the intended values. `edit`
(contact files) and `appedit` (job applications) make their changes with these."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from . import yamlnodes
from .userfiles import EditError
from .yamlwrite import flow, normal_value, yaml_key


@dataclass
class Doc:
    """A contact file's text cut into lines (endings kept) with its YAML composed."""

    bom: str
    lines: list[str]
    start: int  # index of the first YAML line (the line after the opening fence)
    end: int  # index of the closing fence
    root: yaml.MappingNode | None
    data: Any  # the plain values, for the after-edit check

    @property
    def yaml_text(self) -> str:
        return "".join(self.lines[self.start : self.end]).replace("\r\n", "\n")


def parse(text: str) -> Doc:
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom) :]
    # Not str.splitlines: it also breaks on \r, \x0b, \u2028…; only \n (or \r\n) ends a line here.
    lines = re.findall(r"[^\n]*\n|[^\n]+$", body)
    if not lines or lines[0].rstrip() != "---":
        raise EditError("the file does not start with a '---' front matter line")
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        raise EditError("the front matter is not closed: add a '---' line after the YAML")
    for line in lines[1:end]:
        if "\r" in line.removesuffix("\r\n"):
            raise EditError("the front matter has old Mac (CR) line endings; save it with LF or CRLF")
    doc = Doc(bom, lines, 1, end, None, None)
    try:
        node = yamlnodes.compose(doc.yaml_text)
        data = yamlnodes.load_node(node)[0]
    except yamlnodes.YamlError as exc:
        raise EditError(f"line {exc.line + 2}: {exc.message}") from None
    if node is not None and not isinstance(node, yaml.MappingNode):
        raise EditError("the front matter is not a mapping of fields (name: …)")
    doc.root = node
    doc.data = normal_value(data) if data is not None else {}
    return doc


def lookup(mapping: yaml.MappingNode | None, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if mapping is None:
        return None
    found = None
    for key_node, value_node in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            found = (key_node, value_node)
    return found


def is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def last_line(node: yaml.Node) -> int:
    """YAML line (0-based) of the last character of `node`'s content."""
    if isinstance(node, yaml.ScalarNode):
        end = node.end_mark
        line = end.line if end.column > 0 else end.line - 1
        return max(line, node.start_mark.line)
    if getattr(node, "flow_style", False) or not node.value:
        end = node.end_mark
        return end.line if end.column > 0 else end.line - 1
    last = node.value[-1]
    if isinstance(node, yaml.MappingNode):
        key_node, value_node = last
        return max(key_node.end_mark.line, last_line(value_node))
    return last_line(last)


class Editor:
    """Collects insertions (file line, column, text) and applies them back to front."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.inserts: list[tuple[int, int, int, str]] = []  # (line, column, end column, text)

    def line_of(self, yaml_line: int) -> int:
        return yaml_line + self.doc.start

    def newline_before(self, file_line: int) -> str:
        for i in range(file_line - 1, -1, -1):
            line = self.doc.lines[i]
            if line.endswith("\n"):
                return "\r\n" if line.endswith("\r\n") else "\n"
        return "\n"

    def insert_lines(self, file_line: int, new_lines: list[str]) -> None:
        nl = self.newline_before(file_line)
        self.inserts.append((file_line, 0, 0, "".join(text + nl for text in new_lines)))

    def insert_at(self, yaml_line: int, column: int, text: str, end_column: int | None = None) -> None:
        self.inserts.append(
            (self.line_of(yaml_line), column, column if end_column is None else end_column, text)
        )

    def after(self, yaml_line: int, owner_indent: int) -> int:
        """File line after `yaml_line`, skipping comment lines indented deeper than
        `owner_indent` (they belong to the node that ends there)."""
        i = self.line_of(yaml_line) + 1
        probe = i
        while probe < self.doc.end:
            stripped = self.doc.lines[probe].strip()
            if not stripped:
                probe += 1
                continue
            indent = len(self.doc.lines[probe]) - len(self.doc.lines[probe].lstrip(" "))
            if stripped.startswith("#") and indent > owner_indent:
                probe += 1
                i = probe
                continue
            break
        return i

    def text(self) -> str:
        lines = list(self.doc.lines)
        # Back to front; at the same spot the edit registered first ends up first.
        order = sorted(range(len(self.inserts)), key=lambda n: (*self.inserts[n][:2], n), reverse=True)
        for line, column, end_column, text in (self.inserts[n] for n in order):
            if line >= len(lines):
                lines.append(text)
                continue
            current = lines[line]
            lines[line] = current[:column] + text + current[end_column:]
        return self.doc.bom + "".join(lines)


def indent_of_items(seq: yaml.SequenceNode) -> tuple[int, int]:
    """(dash column, content column) of a block sequence's items."""
    dash = seq.start_mark.column
    first = seq.value[0]
    content = first.start_mark.column if first.start_mark.line == seq.start_mark.line else dash + 2
    return dash, max(content, dash + 2)


def verify(doc: Doc, new_text: str, expected: Any) -> None:
    """The edited YAML must read back as exactly the expected values."""
    try:
        after = parse(new_text)
    except EditError as exc:  # pragma: no cover - a bug in this module
        raise EditError(f"internal error: the edit would break the YAML ({exc}); nothing was written") from None
    if after.data != expected or after.lines[after.end :] != doc.lines[doc.end :]:
        raise EditError(  # pragma: no cover - a bug in this module
            "internal error: the edit would change other values; nothing was written"
        )


def top_level_end(doc: Doc) -> int:
    """File line where new top-level keys go: after the last non-blank YAML line (or just
    before the closing fence when the last value is a block scalar, which owns blank lines)."""
    if doc.root is not None and doc.root.value:
        last = doc.root.value[-1][1]
        if isinstance(last, yaml.ScalarNode) and last.style in ("|", ">"):
            return doc.end
    i = doc.end
    while i > doc.start and not doc.lines[i - 1].strip():
        i -= 1
    return i


def top_indent(doc: Doc) -> str:
    """Top-level keys are usually at column 0, but YAML allows the whole mapping indented."""
    return " " * (doc.root.start_mark.column if doc.root is not None else 0)


def block_lines(key: str, value: object, indent: str = "") -> list[str]:
    """`key: value` as lines; mappings become an indented block, the rest one line."""
    if isinstance(value, dict) and value:
        return [f"{indent}{yaml_key(key)}:"] + [f"{indent}  {yaml_key(k)}: {flow(v)}" for k, v in value.items()]
    return [f"{indent}{yaml_key(key)}: {flow(value)}"]


def is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str | list | tuple | dict) and not value)


def fill_null(editor: Editor, key_node: yaml.Node, node: yaml.Node, key: str, value: object) -> None:
    """`key:` (or `key: ~`) gets a value: written on the key's line, or as a block below it."""
    start, end = node.start_mark, node.end_mark
    if isinstance(value, dict) and value:
        indent = " " * (key_node.start_mark.column + 2)
        if end.column > start.column:  # `links: ~`: drop the ~ so the block below is the value
            editor.insert_at(start.line, start.column, "", end.column)
        lines = [f"{indent}{yaml_key(k)}: {flow(v)}" for k, v in value.items()]
        editor.insert_lines(editor.after(key_node.start_mark.line, key_node.start_mark.column), lines)
        return
    if end.column > start.column:  # `key: ~` / `key: null`: replace the null
        editor.insert_at(start.line, start.column, flow(value), end.column)
    else:  # `key:` with nothing after the colon
        editor.insert_at(start.line, start.column, " " + flow(value))


def flow_append(editor: Editor, node: yaml.Node, items: list[str]) -> None:
    """Add items to a flow collection: after its last item, or just inside an empty one."""
    if node.value:
        last = node.value[-1]
        end = (last[1] if isinstance(last, tuple) else last).end_mark
        editor.insert_at(end.line, end.column, "".join(", " + item for item in items))
    else:
        start = node.start_mark
        editor.insert_at(start.line, start.column + 1, ", ".join(items))


def default_item_indent(doc: Doc) -> tuple[int, int]:
    """Indentation for a new block list: copy `reminders:` if it is a block list, else 2/4."""
    found = lookup(doc.root, "reminders")
    if found is not None and isinstance(found[1], yaml.SequenceNode) and found[1].value:
        if not found[1].flow_style:
            return indent_of_items(found[1])
    return 2, 4


def item_lines(item: dict[str, object], dash: int, content: int) -> list[str]:
    lines: list[str] = []
    for i, (key, value) in enumerate(item.items()):
        lead = " " * dash + "-" + " " * (content - dash - 1) if i == 0 else " " * content
        lines.append(f"{lead}{yaml_key(key)}: {flow(value)}")
    return lines
