"""Safe, bounded YAML: compose nodes with libyaml, build plain values ourselves.

We never let PyYAML construct objects from tags: only the standard scalar tags are accepted,
so `!!python/...` is an error and never executed. Aliases are followed while counting every
node visited, so an alias "bomb" is rejected after a fixed amount of work, and nesting deeper
than MAX_DEPTH is an error. Every value's position can be found by its path for precise messages.
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
MAX_BYTES = 1024 * 1024  # front matter beyond this is refused before it is parsed (years of
# interactions are ~300 bytes each: a megabyte holds thousands; parsing one takes about a second)

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
_MERGE = "tag:yaml.org,2002:merge"
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


_IMPLICIT_FIRST = frozenset(ch for ch in yaml.resolver.Resolver.yaml_implicit_resolvers if ch is not None)
# The safe loader's resolver has no wildcard implicit resolver and no path resolvers, so a
# node's tag depends only on its kind and its text: the shortcuts below rely on that.
_SIMPLE_RESOLVER = None not in _Loader.yaml_implicit_resolvers and not _Loader.yaml_path_resolvers
_resolver = yaml.resolver.Resolver()

_ScalarNode = yaml.ScalarNode
_SequenceNode = yaml.SequenceNode
_MappingNode = yaml.MappingNode

# The tag of a plain (unquoted, untagged) scalar by its text: most repeat (dates, types, keys).
_plain_tags: dict[str, str] = {}


def _plain_tag(value: str) -> str:
    """The tag YAML gives a plain (unquoted, untagged) scalar written `value`."""
    tag = _plain_tags.get(value)
    if tag is None:
        if value and value[0] not in _IMPLICIT_FIRST:
            return _STR  # no implicit type (bool, int, date, null…) starts with this character
        if len(_plain_tags) > 100_000:
            _plain_tags.clear()
        tag = _plain_tags[value] = str(_resolver.resolve(_ScalarNode, value, (True, False)))
    return tag


def is_plain_text(value: str) -> bool:
    """Does YAML read `value`, written plain, as a string (not a bool, number, date, null…)?"""
    return _plain_tag(value) == _STR


def _resolve(self: Any, kind: type, value: Any, implicit: Any) -> str:
    """The tag of a node written without one (libyaml asks Python for every such node)."""
    if kind is _ScalarNode:
        if not implicit[0]:
            return _STR  # quoted, or the non-specific tag '!': always a string
        tag = _plain_tags.get(value)
        return tag if tag is not None else _plain_tag(value)
    if kind is _SequenceNode:
        return _SEQ
    if kind is _MappingNode:
        return _MAP
    return str(_resolver.resolve(kind, value, implicit))  # pragma: no cover


class _FastLoader(_Loader):  # type: ignore[misc, valid-type]
    """The loader with the memoised resolver (used when libyaml is missing)."""

    resolve = _resolve


_CParser: Any
try:  # Only libyaml's parser and composer: composing needs no constructor and no resolver state.
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - depends on the platform's wheel
    _CParser = None

if not _SIMPLE_RESOLVER:  # pragma: no cover - someone registered path resolvers: no shortcuts
    _Composer: Any = _Loader
elif _CParser is None:  # pragma: no cover
    _Composer = _FastLoader
else:

    class _Composer(_CParser):  # type: ignore[no-redef]
        """libyaml's composer, asking our memoised resolver for tags."""

        resolve = _resolve
        # The composer calls these around every node; without path resolvers they do
        # nothing, so make them C callables that do nothing (no Python frame per node).
        descend_resolver = staticmethod(slice)  # slice(parent, index), dropped
        ascend_resolver = staticmethod(tuple)  # tuple(), dropped


_constructor = _Constructor()


def compose(text: str) -> yaml.Node | None:
    if len(text) > MAX_BYTES // 4 and (size := len(text.encode("utf-8", "surrogatepass"))) > MAX_BYTES:
        kb = -(-size // 1024)  # rounded up: never "1,024 KB; at most 1,024"
        raise YamlError(
            0, 0, f"the front matter is {kb:,} KB; at most {MAX_BYTES // 1024:,} KB: move long text into the notes"
        )
    try:
        loader = _Composer(text)
        try:
            return loader.get_single_node()  # type: ignore[no-any-return]
        finally:
            loader.dispose()
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
    return load_node(compose(text))


def load_node(node: yaml.Node | None) -> tuple[Any, dict[Path, yaml.Node], list[tuple[Path, str]]]:
    """`load` of a node `compose` made (for callers that need both the node and the values)."""
    if node is None:
        return None, {}, []
    builder = _Builder()
    value = builder.build(node, (), 0)
    return value, builder.info, builder.duplicates


def load_indexed(text: str) -> tuple[Any, Index, list[tuple[Path, str]]]:
    """`load`, faster: the same value and duplicates, and the same answers from `.get(path)`
    and `position`, but the nodes are found from their path only when asked (most files never
    ask)."""
    node = compose(text)
    if node is None:
        return None, {}, []
    try:
        value = _build_fast(node)
    except _DuplicateKey:  # rare: the last value wins, positions must say where it is: build eagerly
        builder = _Builder()
        value = builder.build(node, (), 0)
        return value, builder.info, builder.duplicates
    return value, NodeIndex(node), []


def position(index: Index, path: Path) -> tuple[int, int] | None:
    """(line, column), 0-based in the YAML text, of the node at `path` in a `load_indexed`
    index (a key node at `(*path, key, "<key>")`), or None when there is none."""
    node = index.get(path)
    return None if node is None else (node.start_mark.line, node.start_mark.column)


class NodeIndex:
    """The node at a path, like `load`'s dict, walked to from the root on demand.

    Only for documents without duplicate keys (where a path names exactly one node)."""

    __slots__ = ("_memo",)

    def __init__(self, root: yaml.Node) -> None:
        self._memo: dict[Path, yaml.Node | None] = {(): root}

    def get(self, path: Path) -> yaml.Node | None:
        if len(path) >= 2 and path[-1] == "<key>":
            # The key node of the entry `path[-2]`, when the parent is a mapping; `load`'s dict
            # stores it after the entry's value, so it wins over a value at the same path.
            parent = self._value(path[:-2])
            if type(parent) is _MappingNode:
                key = path[-2]
                for key_node, _ in parent.value:
                    if key_node.value == key:
                        return key_node  # type: ignore[no-any-return]
                return None
        return self._value(path)

    def _value(self, path: Path) -> yaml.Node | None:
        memo = self._memo
        if path in memo:
            return memo[path]
        parent = self._value(path[:-1])
        part = path[-1]
        node = None
        if type(parent) is _MappingNode:
            if type(part) is str:
                for key_node, value_node in parent.value:
                    if key_node.value == part:
                        node = value_node
                        break
        elif type(parent) is _SequenceNode:
            if type(part) is int and 0 <= part < len(parent.value):
                node = parent.value[part]
        memo[path] = node
        return node


class _DuplicateKey(Exception):
    pass


Index = NodeIndex | dict[Path, yaml.Node]  # what `load_indexed` returns beside the value


def _build_fast(root: yaml.Node) -> Any:
    """`_Builder.build` without positions: the same value, the same errors at the same node
    (nodes are visited and counted in the same order), but raises _DuplicateKey on a duplicate."""
    visited = 0

    def build(node: yaml.Node, depth: int) -> Any:
        nonlocal visited
        visited += 1
        if visited > MAX_NODES:
            raise _too_many(node)
        if depth > MAX_DEPTH:
            raise _too_deep(node)
        kind = type(node)
        if kind is _ScalarNode:
            return _scalar(node)  # type: ignore[arg-type]
        depth += 1
        if kind is _MappingNode:
            if node.tag != _MAP:
                raise _bad_tag(node)
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    raise _merge_key(key_node)
                if type(key_node) is not _ScalarNode:
                    raise _not_a_word(key_node)
                key = str(key_node.value)
                if key in result:
                    raise _DuplicateKey
                visited += 1
                # A plain string value, when counting it stays within bounds: no call.
                if type(value_node) is _ScalarNode and visited < MAX_NODES and depth <= MAX_DEPTH:
                    visited += 1
                    result[key] = value_node.value if value_node.tag == _STR else _scalar(value_node)
                else:
                    result[key] = build(value_node, depth)
            return result
        if kind is _SequenceNode:
            if node.tag != _SEQ:
                raise _bad_tag(node)
            items: list[Any] = []
            for item in node.value:
                if type(item) is _ScalarNode and visited < MAX_NODES and depth <= MAX_DEPTH:
                    visited += 1
                    items.append(item.value if item.tag == _STR else _scalar(item))
                else:
                    items.append(build(item, depth))
            return items
        mark = node.start_mark  # pragma: no cover
        raise YamlError(mark.line, mark.column, "unsupported YAML node")  # pragma: no cover

    return build(root, 0)


def _too_many(node: yaml.Node) -> YamlError:
    mark = node.start_mark
    return YamlError(
        mark.line, mark.column, f"too many values (over {MAX_NODES:,}); is an alias expanding without end?"
    )


def _too_deep(node: yaml.Node) -> YamlError:
    return YamlError(node.start_mark.line, node.start_mark.column, f"nested deeper than {MAX_DEPTH} levels")


def _bad_tag(node: yaml.Node) -> YamlError:
    return YamlError(node.start_mark.line, node.start_mark.column, f"the tag {node.tag!r} is not allowed")


def _merge_key(node: yaml.Node) -> YamlError:
    return YamlError(node.start_mark.line, node.start_mark.column, "merge keys ('<<') are not supported")


def _not_a_word(node: yaml.Node) -> YamlError:
    return YamlError(node.start_mark.line, node.start_mark.column, "a key must be a plain word")


def _scalar(node: yaml.ScalarNode) -> Any:
    """The value of a scalar node with an allowed tag (YamlError for any other tag)."""
    tag = node.tag
    if tag == _STR:
        return node.value
    if tag not in _SCALAR_TAGS:
        mark = node.start_mark
        raise YamlError(mark.line, mark.column, f"the tag {tag!r} is not allowed (only plain YAML values)")
    if tag == _TIMESTAMP and len(node.value) == 10:
        try:  # the common YYYY-MM-DD, without PyYAML's regex-driven constructor
            return dt.date.fromisoformat(node.value)
        except ValueError:
            pass
    try:
        return _constructor.yaml_constructors[tag](_constructor, node)
    except (ValueError, OverflowError, yaml.YAMLError) as exc:
        return BadScalar(node.value, _SCALAR_TAGS[tag], str(exc))
    except (KeyError, AttributeError):  # `!!bool maybe`, `!!timestamp nope`: PyYAML's own crash
        return BadScalar(node.value, _SCALAR_TAGS[tag], f"not a valid {_SCALAR_TAGS[tag]}")


class _Builder:
    """Values and the node at every path (the reference; `_build_fast` skips the positions)."""

    def __init__(self) -> None:
        self.info: dict[Path, yaml.Node] = {}
        self.duplicates: list[tuple[Path, str]] = []
        self.visited = 0

    def build(self, node: yaml.Node, path: Path, depth: int) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise _too_many(node)
        if depth > MAX_DEPTH:
            raise _too_deep(node)
        if isinstance(node, yaml.ScalarNode):
            self.info[path] = node
            return _scalar(node)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                raise _bad_tag(node)
            self.info[path] = node
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                raise _bad_tag(node)
            self.info[path] = node
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    raise _merge_key(key_node)
                if not isinstance(key_node, yaml.ScalarNode):
                    raise _not_a_word(key_node)
                self.visited += 1
                key = str(key_node.value)
                key_path = (*path, key)
                if key in result:
                    self.duplicates.append((key_path, f"key '{key}' appears twice; the last one is used"))
                result[key] = self.build(value_node, key_path, depth + 1)
                # Remember where the key itself is (for "unknown key" messages).
                self.info[(*key_path, "<key>")] = key_node
            return result
        mark = node.start_mark
        raise YamlError(mark.line, mark.column, "unsupported YAML node")  # pragma: no cover


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
