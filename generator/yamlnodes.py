"""Safe, bounded YAML: compose nodes with libyaml, build plain values ourselves.

We never let PyYAML construct objects from tags: only the standard scalar tags are accepted,
so `!!python/...` is an error and never executed. Aliases are followed while counting every
node visited, so an alias "bomb" is rejected after a fixed amount of work, and nesting deeper
than MAX_DEPTH is an error. Every value's position is kept by its path for precise messages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

try:  # libyaml is about 9x faster; the PyPI wheel ships it.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the platform's wheel
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_DEPTH = 64
MAX_NODES = 100_000

Path = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_SCALAR_TAGS = {
    _STR: "string",
    "tag:yaml.org,2002:int": "integer",
    "tag:yaml.org,2002:float": "number",
    "tag:yaml.org,2002:bool": "boolean",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "date",
}
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


def raw_of(node: yaml.Node | None) -> str | None:
    """The scalar as written in the file (None for collections or no node)."""
    return node.value if isinstance(node, yaml.ScalarNode) else None


class YamlError(Exception):
    """The YAML cannot be used at all (syntax error, forbidden tag, bomb, too deep)."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message


class BadScalar:
    """A scalar YAML resolved to a type but could not build, e.g. `2026-02-30`."""

    def __init__(self, raw: str, kind: str, reason: str) -> None:
        self.raw = raw
        self.kind = kind
        self.reason = reason

    def __repr__(self) -> str:
        return f"BadScalar({self.raw!r})"


class _Constructor(yaml.constructor.SafeConstructor):
    pass


_resolved: dict[tuple[str, bool, bool], str] = {}


_IMPLICIT_FIRST = frozenset(ch for ch in yaml.resolver.Resolver.yaml_implicit_resolvers if ch is not None)


class _FastLoader(_Loader):  # type: ignore[misc, valid-type]
    """libyaml asks Python to resolve every scalar's tag; the answer only depends on the text
    and on how it was written, and most scalars repeat (keys, types, dates), so remember it."""

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is not yaml.ScalarNode:
            return str(super().resolve(kind, value, implicit))
        if value and value[0] not in _IMPLICIT_FIRST and implicit[0]:
            return _STR  # no implicit type (bool, int, date, null…) starts with this character
        key = (value, implicit[0], implicit[1])
        tag = _resolved.get(key)
        if tag is None:
            if len(_resolved) > 100_000:
                _resolved.clear()
            tag = _resolved[key] = super().resolve(kind, value, implicit)
        return tag


_constructor = _Constructor()


def compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_FastLoader)  # type: ignore[no-any-return]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line, mark.column) if mark is not None else (0, 0)
        problem = exc.problem or "invalid YAML"
        lines = text.split("\n")
        if "\t" in str(exc) or (line < len(lines) and "\t" in lines[line][: column + 1]):
            problem += " (YAML does not allow tabs for indentation: use spaces)"
        if "maximum nesting depth" in problem:
            problem = f"nested deeper than {MAX_DEPTH} levels"
        context = f" {exc.context}" if exc.context else ""
        raise YamlError(line, column, f"YAML syntax error: {problem}{context}".strip()) from None
    except yaml.YAMLError as exc:  # reader errors: control characters and the like
        raise YamlError(0, 0, f"YAML error: {exc}") from None


def load(text: str) -> tuple[Any, dict[Path, yaml.Node], list[tuple[Path, str]]]:
    """Parse YAML text into plain values, their positions, and duplicate-key notes.

    Returns (value, the node at each path — `start_mark` gives its position —, and
    [(path, message)] for duplicate keys). The key node of a mapping entry is at
    `(*path, key, "<key>")`.
    Raises YamlError for anything that makes the document unusable.
    """
    node = compose(text)
    if node is None:
        return None, {}, []
    builder = _Builder()
    value = builder.build(node, (), 0)
    return value, builder.info, builder.duplicates


class _Builder:
    def __init__(self) -> None:
        self.info: dict[Path, yaml.Node] = {}
        self.duplicates: list[tuple[Path, str]] = []
        self.visited = 0

    def build(self, node: yaml.Node, path: Path, depth: int) -> Any:
        self.visited += 1
        mark = node.start_mark
        if self.visited > MAX_NODES:
            raise YamlError(
                mark.line,
                mark.column,
                f"too many values (over {MAX_NODES:,}); is an alias expanding without end?",
            )
        if depth > MAX_DEPTH:
            raise YamlError(mark.line, mark.column, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                raise YamlError(mark.line, mark.column, f"the tag {node.tag!r} is not allowed")
            self.info[path] = node
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                raise YamlError(mark.line, mark.column, f"the tag {node.tag!r} is not allowed")
            self.info[path] = node
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise YamlError(
                        key_node.start_mark.line,
                        key_node.start_mark.column,
                        "merge keys ('<<') are not supported",
                    )
                if not isinstance(key_node, yaml.ScalarNode):
                    raise YamlError(
                        key_node.start_mark.line, key_node.start_mark.column, "a key must be a plain word"
                    )
                self.visited += 1
                key = str(key_node.value)
                key_path = (*path, key)
                if key in result:
                    self.duplicates.append((key_path, f"key '{key}' appears twice; the last one is used"))
                result[key] = self.build(value_node, key_path, depth + 1)
                # Remember where the key itself is (for "unknown key" messages).
                self.info[(*key_path, "<key>")] = key_node
            return result
        raise YamlError(mark.line, mark.column, "unsupported YAML node")  # pragma: no cover

    def _scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        mark = node.start_mark
        self.info[path] = node
        if node.tag not in _SCALAR_TAGS:
            raise YamlError(
                mark.line, mark.column, f"the tag {node.tag!r} is not allowed (only plain YAML values)"
            )
        if node.tag == _STR:
            return node.value
        if node.tag == _TIMESTAMP and len(node.value) == 10:
            try:  # the common YYYY-MM-DD, without PyYAML's regex-driven constructor
                return dt.date.fromisoformat(node.value)
            except ValueError:
                pass
        try:
            return _constructor.yaml_constructors[node.tag](_constructor, node)
        except (ValueError, OverflowError, yaml.YAMLError) as exc:
            return BadScalar(node.value, _SCALAR_TAGS[node.tag], str(exc))


def type_name(value: Any) -> str:
    """How to call a loaded value's type in a message."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, dt.datetime):
        return "a date and time"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, BadScalar):
        return f"an invalid {value.kind}"
    return type(value).__name__
