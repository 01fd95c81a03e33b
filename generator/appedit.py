"""Byte-preserving edits of job application files (`applications/<slug>.md`), and writing them.

The text functions work like those of `edit.py`, whose node-locating helpers they reuse: each
finds the YAML node it changes by its position and inserts (or, for a single value it replaces,
overwrites) only those bytes. Comments, key order, quoting, flow or block style, blank lines,
CRLF line endings, a BOM and the Markdown body stay as they were, and the edited YAML must read
back as exactly the old values plus the intended change. They are pure: `str` in, `str` out,
`EditError` when the edit is impossible.

- `new_application_text`: a new, commented file with its first stage;
- `append_item`: one more item of a list (`stages`, or a contact's `interactions`);
- `set_field`: a top-level value set or replaced (`next:`, `snooze:`);
- `set_item_field`: a key of one list item set or replaced (`snooze:` on an interaction or a
  reminder, `checked:` on a stage);
- `add_followed_up`: `slug: date` added to a stage's `followed_up` mapping.

`create_application` and `edit_application` are the file side, with the discipline of
`userfiles`: a lock per file, the new text validated with `applications.check_application`
before anything is written, atomic writes, never a new file over an existing one.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import yaml

from .applications import check_application
from .edit import add_fields
from .model import Application, Settings
from .userfiles import EditError, atomic_write, file_lock, read_text
from .yamledit import (
    Doc,
    Editor,
    default_item_indent,
    fill_null,
    flow_append,
    indent_of_items,
    is_null,
    item_lines,
    last_line,
    lookup,
    parse,
    top_indent,
    top_level_end,
    verify,
)
from .yamlwrite import expected_value, flow, yaml_key

# --- the texts --------------------------------------------------------------------------------

_COMMENT_COLUMN = 35


def _commented(line: str, comment: str) -> str:
    return f"{line:<{_COMMENT_COLUMN}} # {comment}"


def _stages_comment(stages: Sequence[str], outcomes: Sequence[str]) -> list[str]:
    steps = [s for s in stages if s not in outcomes]
    if not steps:
        return []
    line = f"# Stages: {', '.join(steps)}"
    ends = [s for s in stages if s in outcomes]
    return [line + (f"; an outcome ends it: {', '.join(ends)}." if ends else ".")]


def new_application_text(
    company: str,
    role: str,
    first_stage: dict[str, object],
    *,
    url: str = "",
    via: str = "",
    contacts: Sequence[str] = (),
    next_day: dt.date | None = None,
    stages: Sequence[str] = (),
    outcomes: Sequence[str] = (),
) -> str:
    """The text of a new application file: a short comment header (naming the configured
    `stages` and `outcomes`), the fields given, a `stages:` list holding `first_stage`, and an
    empty notes body."""
    if not company.strip() or not role.strip():
        raise EditError("a new application needs a company and a role")
    lines = [
        "---",
        "# A job application: YAML between the two --- lines, then your notes in Markdown.",
        "# Add what happens with `crm stage SLUG STAGE`; record notes sent with `crm done`.",
        *_stages_comment(stages, outcomes),
        f"company: {flow(company.strip())}",
        f"role: {flow(role.strip())}",
    ]
    written: dict[str, object] = {"company": company.strip(), "role": role.strip()}
    if url:
        lines.append(f"url: {flow(url)}")
        written["url"] = url
    if via:
        lines.append(_commented(f"via: {flow(via)}", "who referred you (a contact's slug)"))
        written["via"] = via
    if contacts:
        lines.append(_commented(f"contacts: {flow(list(contacts))}", "recruiter, hiring manager… (slugs)"))
        written["contacts"] = list(contacts)
    if next_day is not None:
        lines.append(_commented(f"next: {flow(next_day)}", "when you expect news"))
        written["next"] = next_day
    lines.append(_commented("stages:", "in the order they happen"))
    lines.extend(item_lines(first_stage, 2, 4))
    lines.append("---")
    text = "\n".join(lines) + "\n"
    written["stages"] = [first_stage]
    expected = {k: expected_value(v) for k, v in written.items()}
    if parse(text).data != expected:  # pragma: no cover - a bug in this module
        raise EditError("internal error: the new file would not read back as the given fields")
    return text


def _list_node(doc: Doc, key: str) -> yaml.SequenceNode:
    found = lookup(doc.root, key)
    if found is None or not isinstance(found[1], yaml.SequenceNode):
        raise EditError(f"the file has no {key}: list")
    return found[1]


def _item_node(doc: Doc, key: str, index: int) -> yaml.MappingNode:
    items = _list_node(doc, key).value
    if not 0 <= index < len(items):
        raise EditError(f"there is no {key}[{index}] (the file has {len(items)})")
    node = items[index]
    if not isinstance(node, yaml.MappingNode):
        raise EditError(f"{key}[{index}] is not a mapping of fields")
    return node


def _finish(doc: Doc, editor: Editor, expected: Any) -> str:
    result = editor.text()
    verify(doc, result, expected)
    return result


def append_item(text: str, key: str, item: dict[str, object]) -> str:
    """Append `item` to the top-level list `key`, creating the list if it is absent or empty
    (`key:`). Matches the list's style: a block list gets `- k: v` lines indented like its items
    (or one `- {k: v}` line when its last item is written that way); a flow list gets `, {…}`."""
    item = {k: v for k, v in item.items() if v is not None and v != [] and v != ()}
    if not item:
        raise EditError(f"a new item of {key} needs at least one field")
    doc = parse(text)
    editor = Editor(doc)
    expected = copy.deepcopy(doc.data)
    found = lookup(doc.root, key)
    if found is None or is_null(found[1]):
        expected[key] = [expected_value(item)]
        if found is None and doc.root is not None and doc.root.flow_style:
            flow_append(editor, doc.root, [f"{yaml_key(key)}: [{flow(item)}]"])
            return _finish(doc, editor, expected)
        top = len(top_indent(doc))
        dash, content = default_item_indent(doc)
        lines = item_lines(item, dash + top, content + top)
        if found is None:
            editor.insert_lines(top_level_end(doc), [" " * top + f"{yaml_key(key)}:", *lines])
        else:
            key_node, node = found
            if node.end_mark.column > node.start_mark.column:  # `key: ~`
                editor.insert_at(node.start_mark.line, node.start_mark.column, "", node.end_mark.column)
            editor.insert_lines(editor.after(key_node.start_mark.line, key_node.start_mark.column), lines)
        return _finish(doc, editor, expected)
    node = found[1]
    if not isinstance(node, yaml.SequenceNode):
        raise EditError(f"'{key}' is not a list; fix it (crm check) before adding to it")
    if node.flow_style or not node.value:
        flow_append(editor, node, [flow(item)])
    else:
        dash, content = indent_of_items(node)
        if getattr(node.value[-1], "flow_style", False):  # a block list of {…} items
            lines = [f"{' ' * dash}-{' ' * (content - dash - 1)}{flow(item)}"]
        else:
            lines = item_lines(item, dash, content)
        editor.insert_lines(editor.after(last_line(node), dash), lines)
    expected[key].append(expected_value(item))
    return _finish(doc, editor, expected)


def _replace_scalar(editor: Editor, node: yaml.Node, what: str, value: object) -> None:
    start, end = node.start_mark, node.end_mark
    if not isinstance(node, yaml.ScalarNode) or start.line != end.line:
        raise EditError(f"{what} is not a single value on one line; fix it (crm check) before changing it")
    editor.insert_at(start.line, start.column, flow(value), end.column)


def set_field(text: str, key: str, value: object) -> str:
    """Set the top-level `key` to `value`: its value replaced if it has one (a comment after it
    stays), else added (`edit.add_fields`)."""
    doc = parse(text)
    found = lookup(doc.root, key)
    if found is None or is_null(found[1]):
        return add_fields(text, {key: value})
    editor = Editor(doc)
    expected = copy.deepcopy(doc.data)
    expected[key] = expected_value(value)
    _replace_scalar(editor, found[1], f"'{key}'", value)
    return _finish(doc, editor, expected)


def _add_key(editor: Editor, node: yaml.MappingNode, key: str, value: object) -> None:
    """Add `key: value` to a mapping that does not have the key: inside it when it is a flow
    mapping, else on a new line after its last line, indented like its first key."""
    if node.flow_style or not node.value:
        flow_append(editor, node, [f"{yaml_key(key)}: {flow(value)}"])
        return
    column = node.value[0][0].start_mark.column
    line = f"{' ' * column}{yaml_key(key)}: {flow(value)}"
    editor.insert_lines(editor.after(last_line(node), column - 1), [line])


def set_item_field(text: str, list_key: str, index: int, key: str, value: object, *, replace: bool = True) -> str:
    """Set `key: value` on item `index` of the top-level list `list_key`. An existing value is
    replaced, unless `replace` is False (then EditError)."""
    doc = parse(text)
    node = _item_node(doc, list_key, index)
    editor = Editor(doc)
    expected = copy.deepcopy(doc.data)
    expected[list_key][index][key] = expected_value(value)
    found = lookup(node, key)
    if found is None:
        _add_key(editor, node, key, value)
    elif is_null(found[1]):
        fill_null(editor, found[0], found[1], key, value)
    elif not replace:
        shown = found[1].value if isinstance(found[1], yaml.ScalarNode) else "…"
        raise EditError(f"{list_key}[{index}] already has {key}: {shown}; edit the file to change it")
    else:
        _replace_scalar(editor, found[1], f"{list_key}[{index}].{key}", value)
    return _finish(doc, editor, expected)


def add_followed_up(text: str, index: int, slug: str, day: dt.date) -> str:
    """Record a note to `slug` about `stages[index]`: `followed_up: {slug: day}` added to the
    stage, or `slug: day` to its existing `followed_up` mapping (flow or block). EditError if
    that person's note is recorded already."""
    doc = parse(text)
    node = _item_node(doc, "stages", index)
    found = lookup(node, "followed_up")
    if found is None or is_null(found[1]):
        return set_item_field(text, "stages", index, "followed_up", {slug: day})
    key_node, mapping = found
    if not isinstance(mapping, yaml.MappingNode):
        raise EditError(f"stages[{index}].followed_up is not a mapping (slug: date); fix it (crm check) first")
    for k, v in mapping.value:
        if isinstance(k, yaml.ScalarNode) and k.value == slug:
            shown = getattr(v, "value", "…")
            raise EditError(f"stages[{index}].followed_up already has {slug}: {shown}; edit the file to change it")
    editor = Editor(doc)
    expected = copy.deepcopy(doc.data)
    expected["stages"][index]["followed_up"][slug] = expected_value(day)
    _add_key(editor, mapping, slug, day)
    return _finish(doc, editor, expected)


# --- the files --------------------------------------------------------------------------------


def validate(text: str, file: str, slug: str, settings: Settings, slugs: Collection[str]) -> Application:
    """The application `text` holds, or EditError naming every error `check_application` finds."""
    application, problems = check_application(text.encode("utf-8"), file, slug, settings, slugs)
    errors = [p for p in problems if p.severity == "error"]
    if errors or application is None:
        details = "\n  ".join(p.format() for p in errors) or f"{file}: not a valid application"
        raise EditError(f"the edited file would not be valid, so nothing was written:\n  {details}")
    return application


def create_application(path: Path, text: str, settings: Settings, slugs: Collection[str], file: str) -> None:
    """Write a new application file: validated first, then created whole (an unnamed file linked
    into place, or a temporary one hard-linked) and never over an existing file (EditError)."""
    from .importers.files import create_new

    validate(text, file, path.name.removesuffix(".md"), settings, slugs)
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path):
        try:
            create_new(path, text)
        except EditError:
            raise EditError(f"{file} already exists; not overwriting it") from None
        _sync(path)


def _sync(path: Path) -> None:
    """Make a newly created file and its name durable (`create_new` leaves that to the caller)."""
    for target, flags in ((path, os.O_RDONLY), (path.parent, os.O_RDONLY | os.O_DIRECTORY)):
        try:
            fd = os.open(target, flags)
        except OSError:
            continue
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)


def edit_application(
    path: Path, change: Callable[[str], str], settings: Settings, slugs: Collection[str], file: str
) -> tuple[str, str]:
    """Lock the file, read it, apply `change`, validate, write atomically. Returns (old, new)."""
    with file_lock(path):
        old = read_text(path)
        new = change(old)
        if new != old:
            validate(new, file, path.name.removesuffix(".md"), settings, slugs)
            atomic_write(path, new.encode("utf-8"))
        return old, new
