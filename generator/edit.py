"""Byte-preserving edits of contact files (SPEC §7, DESIGN §4).

Every edit locates the YAML node it changes by its position (libyaml marks from
`yamlnodes.compose`) and *inserts* text there. Nothing else in the file is touched: comments,
key order, quoting, flow or block style, blank lines, CRLF line endings, a BOM and the Markdown
body stay byte-for-byte as they were. Inserted lines copy the indentation of their neighbours and
the line ending of the line before them.

Two safety nets run on every edit:

- the new YAML is parsed again and must hold exactly the old values plus the intended change
  (so a mistake in locating a node can never silently corrupt a file), and
- `userfiles.write_contact` validates the result with `validate.check_file` before writing, and writes
  atomically (temporary file in the same folder, fsync, `os.replace`).

The text functions (`new_contact_text`, `add_fields`, `append_interaction`, `set_followed_up`)
are pure: `str` in, `str` out, `EditError` when the edit is impossible. `userfiles.edit_contact`
combines lock → read → edit → validate → atomic write for a file on disk; `yamlwrite` writes
the values.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import yaml

from . import yamlnodes
from .userfiles import EditError
from .yamlwrite import expected_value, expected_values, flow, normal_value, yaml_key


@dataclass
class _Doc:
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


def _parse(text: str) -> _Doc:
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
    doc = _Doc(bom, lines, 1, end, None, None)
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


def _get(mapping: yaml.MappingNode | None, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if mapping is None:
        return None
    found = None
    for key_node, value_node in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            found = (key_node, value_node)
    return found


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _last_line(node: yaml.Node) -> int:
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
        return max(key_node.end_mark.line, _last_line(value_node))
    return _last_line(last)


class _Editor:
    """Collects insertions (file line, column, text) and applies them back to front."""

    def __init__(self, doc: _Doc) -> None:
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


def _indent_of_items(seq: yaml.SequenceNode) -> tuple[int, int]:
    """(dash column, content column) of a block sequence's items."""
    dash = seq.start_mark.column
    first = seq.value[0]
    content = first.start_mark.column if first.start_mark.line == seq.start_mark.line else dash + 2
    return dash, max(content, dash + 2)


def _verify(doc: _Doc, new_text: str, expected: Any) -> None:
    """The edited YAML must read back as exactly the expected values."""
    try:
        after = _parse(new_text)
    except EditError as exc:  # pragma: no cover - a bug in this module
        raise EditError(f"internal error: the edit would break the YAML ({exc}); nothing was written") from None
    if after.data != expected or after.lines[after.end :] != doc.lines[doc.end :]:
        raise EditError(  # pragma: no cover - a bug in this module
            "internal error: the edit would change other values; nothing was written"
        )


def _top_level_end(doc: _Doc) -> int:
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


def _top_indent(doc: _Doc) -> str:
    """Top-level keys are usually at column 0, but YAML allows the whole mapping indented."""
    return " " * (doc.root.start_mark.column if doc.root is not None else 0)


def _block_lines(key: str, value: object, indent: str = "") -> list[str]:
    """`key: value` as lines; mappings become an indented block, the rest one line."""
    if isinstance(value, dict) and value:
        return [f"{indent}{yaml_key(key)}:"] + [f"{indent}  {yaml_key(k)}: {flow(v)}" for k, v in value.items()]
    return [f"{indent}{yaml_key(key)}: {flow(value)}"]


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str | list | tuple | dict) and not value)


def add_fields(text: str, fields: dict[str, object]) -> str:
    """Add the top-level `fields` the file does not have yet; never overwrite a value.

    A key that is present but empty (`company:`) counts as missing and gets the value.
    `links` (a dict) adds the labels missing from an existing `links:` mapping (block or flow);
    `tags` (a list) appends the tags not yet present to the existing list (block or flow).
    Other keys that already have a value are left alone. Raises EditError if impossible.
    """
    doc = _parse(text)
    editor = _Editor(doc)
    expected = copy.deepcopy(doc.data)
    new_top: list[str] = []
    flow_top: list[str] = []
    indent = _top_indent(doc)
    for key, value in fields.items():
        if _is_empty(value):
            continue
        found = _get(doc.root, key)
        if found is None:
            if doc.root is not None and doc.root.flow_style:
                flow_top.append(f"{yaml_key(key)}: {flow(value)}")
            else:
                new_top.extend(_block_lines(key, value, indent))
            expected[key] = expected_value(value)
            continue
        key_node, node = found
        if _is_null(node):
            _fill_null(editor, key_node, node, key, value)
            expected[key] = expected_value(value)
        elif key == "links" and isinstance(value, dict):
            _merge_mapping(editor, key_node, node, value, expected)
        elif key == "tags" and isinstance(value, list | tuple):
            _merge_list(editor, key_node, node, list(value), expected)
    if new_top:
        editor.insert_lines(_top_level_end(doc), new_top)
    if flow_top and doc.root is not None:
        _flow_append(editor, doc.root, flow_top)
    if not editor.inserts:
        return text
    result = editor.text()
    _verify(doc, result, expected)
    return result


def _fill_null(editor: _Editor, key_node: yaml.Node, node: yaml.Node, key: str, value: object) -> None:
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


def _merge_mapping(
    editor: _Editor, key_node: yaml.Node, node: yaml.Node, value: dict[Any, Any], expected: dict[str, Any]
) -> None:
    if not isinstance(node, yaml.MappingNode):
        raise EditError(f"'{key_node.value}' is not a mapping (label: URL), so labels cannot be added to it")
    present = {k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    missing = {k: v for k, v in value.items() if k not in present and not _is_empty(v)}
    if not missing:
        return
    target = expected[key_node.value]
    for k, v in missing.items():
        target[k] = expected_value(v)
    if node.flow_style:
        _flow_append(editor, node, [f"{yaml_key(k)}: {flow(v)}" for k, v in missing.items()])
        return
    first_key = node.value[0][0]
    indent = " " * first_key.start_mark.column
    last = _last_line(node)
    editor.insert_lines(
        editor.after(last, first_key.start_mark.column - 1),
        [f"{indent}{yaml_key(k)}: {flow(v)}" for k, v in missing.items()],
    )


def _merge_list(
    editor: _Editor, key_node: yaml.Node, node: yaml.Node, value: list[Any], expected: dict[str, Any]
) -> None:
    if not isinstance(node, yaml.SequenceNode):
        raise EditError(f"'{key_node.value}' is not a list, so items cannot be added to it")
    present = {
        str(item.value).strip().casefold() for item in node.value if isinstance(item, yaml.ScalarNode)
    }
    missing: list[Any] = []
    for item in value:
        norm = str(item).strip().casefold()
        if not _is_empty(item) and norm not in present:
            present.add(norm)
            missing.append(item)
    if not missing:
        return
    expected[key_node.value].extend(expected_value(m) for m in missing)
    if node.flow_style or not node.value:
        _flow_append(editor, node, [flow(m) for m in missing])
        return
    dash, content = _indent_of_items(node)
    pad = " " * (content - dash - 1)
    lines = [f"{' ' * dash}-{pad}{flow(m)}" for m in missing]
    editor.insert_lines(editor.after(_last_line(node), dash), lines)


def _flow_append(editor: _Editor, node: yaml.Node, items: list[str]) -> None:
    """Add items to a flow collection: after its last item, or just inside an empty one."""
    if node.value:
        last = node.value[-1]
        end = (last[1] if isinstance(last, tuple) else last).end_mark
        editor.insert_at(end.line, end.column, "".join(", " + item for item in items))
    else:
        start = node.start_mark
        editor.insert_at(start.line, start.column + 1, ", ".join(items))


def append_interaction(text: str, interaction: dict[str, object]) -> str:
    """Append one interaction to `interactions:`, creating the list if it is absent.

    Matches the list's indentation and style: a block list gets `- key: value` lines indented
    like its first item; a flow list gets `, {key: value, …}`.
    """
    if not interaction:
        raise EditError("an interaction needs at least a date and a type")
    doc = _parse(text)
    editor = _Editor(doc)
    expected = copy.deepcopy(doc.data)
    item = {k: v for k, v in interaction.items() if v is not None and v != [] and v != ()}
    found = _get(doc.root, "interactions")
    if found is None or _is_null(found[1]):
        if found is None and doc.root is not None and doc.root.flow_style:
            _flow_append(editor, doc.root, [f"interactions: [{flow(item)}]"])
            expected["interactions"] = [expected_value(item)]
            result = editor.text()
            _verify(doc, result, expected)
            return result
        top = len(_top_indent(doc))
        dash, content = _default_item_indent(doc)
        lines = _item_lines(item, dash + top, content + top)
        if found is None:
            editor.insert_lines(_top_level_end(doc), [" " * top + "interactions:", *lines])
        else:
            key_node, node = found
            if node.end_mark.column > node.start_mark.column:  # `interactions: ~`
                editor.insert_at(node.start_mark.line, node.start_mark.column, "", node.end_mark.column)
            editor.insert_lines(editor.after(key_node.start_mark.line, key_node.start_mark.column), lines)
        expected["interactions"] = [expected_value(item)]
    else:
        key_node, node = found
        if not isinstance(node, yaml.SequenceNode):
            raise EditError("'interactions' is not a list; fix it (crm check) before adding to it")
        if node.flow_style or not node.value:
            _flow_append(editor, node, [flow(item)])
        elif getattr(node.value[-1], "flow_style", False):  # a block list of {…} items
            dash, content = _indent_of_items(node)
            line = f"{' ' * dash}-{' ' * (content - dash - 1)}{flow(item)}"
            editor.insert_lines(editor.after(_last_line(node), dash), [line])
        else:
            dash, content = _indent_of_items(node)
            editor.insert_lines(editor.after(_last_line(node), dash), _item_lines(item, dash, content))
        expected["interactions"].append(expected_value(item))
    result = editor.text()
    _verify(doc, result, expected)
    return result


def _default_item_indent(doc: _Doc) -> tuple[int, int]:
    """Indentation for a new block list: copy `reminders:` if it is a block list, else 2/4."""
    found = _get(doc.root, "reminders")
    if found is not None and isinstance(found[1], yaml.SequenceNode) and found[1].value:
        if not found[1].flow_style:
            return _indent_of_items(found[1])
    return 2, 4


def _item_lines(item: dict[str, object], dash: int, content: int) -> list[str]:
    lines: list[str] = []
    for i, (key, value) in enumerate(item.items()):
        lead = " " * dash + "-" + " " * (content - dash - 1) if i == 0 else " " * content
        lines.append(f"{lead}{yaml_key(key)}: {flow(value)}")
    return lines


def _interaction_node(doc: _Doc, index: int) -> yaml.MappingNode:
    found = _get(doc.root, "interactions")
    if found is None or not isinstance(found[1], yaml.SequenceNode):
        raise EditError("the file has no interactions: list")
    items = found[1].value
    if not 0 <= index < len(items):
        raise EditError(f"there is no interaction #{index} (the file has {len(items)})")
    node = items[index]
    if not isinstance(node, yaml.MappingNode):
        raise EditError(f"interactions[{index}] is not a mapping (date: …, type: …)")
    return node


def set_followed_up(text: str, index: int, day: dt.date | str) -> str:
    """Add `followed_up: DAY` to interactions[index]. EditError if it already has one."""
    doc = _parse(text)
    node = _interaction_node(doc, index)
    found = _get(node, "followed_up")
    if found is not None and not _is_null(found[1]):
        raise EditError(
            f"interactions[{index}] already has followed_up: {found[1].value}; edit the file to change it"
        )
    editor = _Editor(doc)
    expected = copy.deepcopy(doc.data)
    expected["interactions"][index]["followed_up"] = expected_value(day)
    if found is not None:
        _fill_null(editor, found[0], found[1], "followed_up", day)
    elif node.flow_style or not node.value:
        _flow_append(editor, node, [f"followed_up: {flow(day)}"])
    else:
        column = node.value[0][0].start_mark.column
        editor.insert_lines(
            editor.after(_last_line(node), column - 1), [f"{' ' * column}followed_up: {flow(day)}"]
        )
    result = editor.text()
    _verify(doc, result, expected)
    return result


_FIELD_COMMENTS = {
    "name": "required: how you write their name",
    "email": "one address, or a list: [work@…, home@…]",
    "phone": "one number, or a list (kept as text)",
    "tags": "a list; each tag gets a page",
    "links": "label: URL",
}


_ORDER = ("name", "email", "phone", "company", "title", "location", "tags", "links", "how_we_met")


def new_contact_text(fields: dict[str, object], body: str = "") -> str:
    """The text of a new, commented contact file with `fields` (name required) and a Markdown body.

    Known fields come first in the usual order, then any extra keys (e.g. `connected_on`), then
    commented-out hints for `keep_in_touch` and `interactions`. Values are quoted where YAML
    would otherwise read them as something else (`NO`, `0123`, `a: b`…). The text is read back
    to make sure it holds exactly these values.
    """
    text, expected = new_contact_draft(fields, body)
    if _parse(text).data != expected:  # pragma: no cover - a bug in this module
        raise EditError("internal error: the new file would not read back as the given fields")
    return text


def new_contact_draft(fields: dict[str, object], body: str = "") -> tuple[str, dict[str, Any]]:
    """`new_contact_text` not yet read back: the text, and the values YAML must read from its
    front matter (`normal_value` of them). A bulk import compares them with what its validation
    parsed, so each new file is parsed once."""
    name = fields.get("name")
    if not isinstance(name, str) or not name.strip():
        raise EditError("a new contact needs a name")
    lines = [
        "---",
        "# A contact: YAML between the two --- lines, then your notes in Markdown.",
        "# Only `name` is required. Run `crm check` after editing by hand.",
    ]
    keys = [k for k in _ORDER if k in fields] + [k for k in fields if k not in _ORDER]
    for key in keys:
        value = fields[key]
        if _is_empty(value) and key != "name":
            continue
        if key == "phone":
            value = [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
        block = _block_lines(key, value)
        comment = _FIELD_COMMENTS.get(key)
        if comment:
            block[0] = f"{block[0]:<35} # {comment}"
        lines.extend(block)
    lines += [
        "# keep_in_touch: 3m                # reconnect after 3 months of quiet (Nd, Nw, Nm, Ny)",
        "# Log meetings with `crm log SLUG --type networking --summary …`; they appear as:",
        "# interactions:",
        "#   - date: 2026-01-31",
        "#     type: networking             # interview, informational-interview, referral, coffee…",
        "#     gained: what you got of value (it makes the thank-you note personal)",
        "---",
    ]
    text = "\n".join(lines) + "\n" + body
    if body and not body.endswith("\n"):
        text += "\n"
    written = {k: fields[k] for k in keys if not _is_empty(fields[k]) or k == "name"}
    if "phone" in written:
        phone = written["phone"]
        written["phone"] = [str(v) for v in phone] if isinstance(phone, list | tuple) else str(phone)
    return text, expected_values(written)
