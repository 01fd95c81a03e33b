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
from typing import Any

import yaml

from .userfiles import EditError
from .yamledit import (
    Doc,
    Editor,
    block_lines,
    default_item_indent,
    fill_null,
    flow_append,
    indent_of_items,
    is_empty,
    is_null,
    item_lines,
    last_line,
    lookup,
    parse,
    top_indent,
    top_level_end,
    verify,
)
from .yamlwrite import expected_value, expected_values, flow, yaml_key


def add_fields(text: str, fields: dict[str, object]) -> str:
    """Add the top-level `fields` the file does not have yet; never overwrite a value.

    A key that is present but empty (`company:`) counts as missing and gets the value.
    `links` (a dict) adds the labels missing from an existing `links:` mapping (block or flow);
    `tags` (a list) appends the tags not yet present to the existing list (block or flow).
    Other keys that already have a value are left alone. Raises EditError if impossible.
    """
    doc = parse(text)
    editor = Editor(doc)
    expected = copy.deepcopy(doc.data)
    new_top: list[str] = []
    flow_top: list[str] = []
    indent = top_indent(doc)
    for key, value in fields.items():
        if is_empty(value):
            continue
        found = lookup(doc.root, key)
        if found is None:
            if doc.root is not None and doc.root.flow_style:
                flow_top.append(f"{yaml_key(key)}: {flow(value)}")
            else:
                new_top.extend(block_lines(key, value, indent))
            expected[key] = expected_value(value)
            continue
        key_node, node = found
        if is_null(node):
            fill_null(editor, key_node, node, key, value)
            expected[key] = expected_value(value)
        elif key == "links" and isinstance(value, dict):
            _merge_mapping(editor, key_node, node, value, expected)
        elif key == "tags" and isinstance(value, list | tuple):
            _merge_list(editor, key_node, node, list(value), expected)
    if new_top:
        editor.insert_lines(top_level_end(doc), new_top)
    if flow_top and doc.root is not None:
        flow_append(editor, doc.root, flow_top)
    if not editor.inserts:
        return text
    result = editor.text()
    verify(doc, result, expected)
    return result


def _merge_mapping(
    editor: Editor, key_node: yaml.Node, node: yaml.Node, value: dict[Any, Any], expected: dict[str, Any]
) -> None:
    if not isinstance(node, yaml.MappingNode):
        raise EditError(f"'{key_node.value}' is not a mapping (label: URL), so labels cannot be added to it")
    present = {k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    missing = {k: v for k, v in value.items() if k not in present and not is_empty(v)}
    if not missing:
        return
    target = expected[key_node.value]
    for k, v in missing.items():
        target[k] = expected_value(v)
    if node.flow_style:
        flow_append(editor, node, [f"{yaml_key(k)}: {flow(v)}" for k, v in missing.items()])
        return
    first_key = node.value[0][0]
    indent = " " * first_key.start_mark.column
    last = last_line(node)
    editor.insert_lines(
        editor.after(last, first_key.start_mark.column - 1),
        [f"{indent}{yaml_key(k)}: {flow(v)}" for k, v in missing.items()],
    )


def _merge_list(
    editor: Editor, key_node: yaml.Node, node: yaml.Node, value: list[Any], expected: dict[str, Any]
) -> None:
    if not isinstance(node, yaml.SequenceNode):
        raise EditError(f"'{key_node.value}' is not a list, so items cannot be added to it")
    present = {
        str(item.value).strip().casefold() for item in node.value if isinstance(item, yaml.ScalarNode)
    }
    missing: list[Any] = []
    for item in value:
        norm = str(item).strip().casefold()
        if not is_empty(item) and norm not in present:
            present.add(norm)
            missing.append(item)
    if not missing:
        return
    expected[key_node.value].extend(expected_value(m) for m in missing)
    if node.flow_style or not node.value:
        flow_append(editor, node, [flow(m) for m in missing])
        return
    dash, content = indent_of_items(node)
    pad = " " * (content - dash - 1)
    lines = [f"{' ' * dash}-{pad}{flow(m)}" for m in missing]
    editor.insert_lines(editor.after(last_line(node), dash), lines)


def append_interaction(text: str, interaction: dict[str, object]) -> str:
    """Append one interaction to `interactions:`, creating the list if it is absent.

    Matches the list's indentation and style: a block list gets `- key: value` lines indented
    like its first item; a flow list gets `, {key: value, …}`.
    """
    if not interaction:
        raise EditError("an interaction needs at least a date and a type")
    doc = parse(text)
    editor = Editor(doc)
    expected = copy.deepcopy(doc.data)
    item = {k: v for k, v in interaction.items() if v is not None and v != [] and v != ()}
    found = lookup(doc.root, "interactions")
    if found is None or is_null(found[1]):
        if found is None and doc.root is not None and doc.root.flow_style:
            flow_append(editor, doc.root, [f"interactions: [{flow(item)}]"])
            expected["interactions"] = [expected_value(item)]
            result = editor.text()
            verify(doc, result, expected)
            return result
        top = len(top_indent(doc))
        dash, content = default_item_indent(doc)
        lines = item_lines(item, dash + top, content + top)
        if found is None:
            editor.insert_lines(top_level_end(doc), [" " * top + "interactions:", *lines])
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
            flow_append(editor, node, [flow(item)])
        elif getattr(node.value[-1], "flow_style", False):  # a block list of {…} items
            dash, content = indent_of_items(node)
            line = f"{' ' * dash}-{' ' * (content - dash - 1)}{flow(item)}"
            editor.insert_lines(editor.after(last_line(node), dash), [line])
        else:
            dash, content = indent_of_items(node)
            editor.insert_lines(editor.after(last_line(node), dash), item_lines(item, dash, content))
        expected["interactions"].append(expected_value(item))
    result = editor.text()
    verify(doc, result, expected)
    return result


def _interaction_node(doc: Doc, index: int) -> yaml.MappingNode:
    found = lookup(doc.root, "interactions")
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
    doc = parse(text)
    node = _interaction_node(doc, index)
    found = lookup(node, "followed_up")
    if found is not None and not is_null(found[1]):
        raise EditError(
            f"interactions[{index}] already has followed_up: {found[1].value}; edit the file to change it"
        )
    editor = Editor(doc)
    expected = copy.deepcopy(doc.data)
    expected["interactions"][index]["followed_up"] = expected_value(day)
    if found is not None:
        fill_null(editor, found[0], found[1], "followed_up", day)
    elif node.flow_style or not node.value:
        flow_append(editor, node, [f"followed_up: {flow(day)}"])
    else:
        column = node.value[0][0].start_mark.column
        editor.insert_lines(
            editor.after(last_line(node), column - 1), [f"{' ' * column}followed_up: {flow(day)}"]
        )
    result = editor.text()
    verify(doc, result, expected)
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
    if parse(text).data != expected:  # pragma: no cover - a bug in this module
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
        if is_empty(value) and key != "name":
            continue
        if key == "phone":
            value = [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
        block = block_lines(key, value)
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
    written = {k: fields[k] for k in keys if not is_empty(fields[k]) or k == "name"}
    if "phone" in written:
        phone = written["phone"]
        written["phone"] = [str(v) for v in phone] if isinstance(phone, list | tuple) else str(phone)
    return text, expected_values(written)
