"""YAML values as an edit writes them: plain where YAML reads them back unchanged, else
double-quoted; flow lists and mappings; and the values an edit expects to read back."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from typing import Any

import yaml

from . import yamlnodes
from .userfiles import EditError

_PLAIN_OK = re.compile(r"^[^\s\-?:,\[\]{}#&*!|>'\"%@`][^\n]*$")


def _loads(text: str, loader: Any = yamlnodes._Loader) -> Any:
    try:
        return yaml.load(text, Loader=loader)
    except (yaml.YAMLError, ValueError):
        return _Fail


class _Fail:
    pass


_PLAIN: dict[str, bool] = {}  # value → can it be written plain (memoized: imports repeat values)


_PLAIN_KEPT = 200_000


_PLAIN_BATCH = 1000


def _remember(value: str, plain: bool) -> bool:
    if len(_PLAIN) >= _PLAIN_KEPT:
        _PLAIN.clear()
    _PLAIN[value] = plain
    return plain


def _plain_is_safe(value: str) -> bool:
    """Can `value` be written without quotes? (Pure.)"""
    known = _PLAIN.get(value)
    return _remember(value, _plain_check(value)) if known is None else known


def _may_be_plain(value: str) -> bool:
    """False for what can never be a plain scalar; True means: ask YAML."""
    if not _PLAIN_OK.match(value) or value != value.strip():
        return False
    if ": " in value or " #" in value or value.endswith(":") or "\t" in value:
        return False
    return all(ch.isprintable() or ch == " " for ch in value)


# Text made only of these (a letter or digit first, no indicator anywhere, ':' only before one of
# them, no space at the end) is one plain scalar in block and flow context alike; whether YAML
# then reads it as text or as a bool, number, date or sexagesimal is its resolver's call.
# Anything else is read back by YAML.
_SIMPLE = re.compile(r"[^\W_](?:[\w .'()/@+-]|:(?=[\w.'()/@+-]))*(?<! )")


def prepare_plain(values: Iterable[str]) -> None:
    """Decide `_plain_is_safe` for many values in a few YAML parses instead of three each (a bulk
    import writes tens of thousands of names). Each value is read in the same three contexts
    inside one document; a batch that does not parse is halved until the culprit is alone, and
    that one is left to `_plain_is_safe`."""
    todo = [
        v for v in dict.fromkeys(values)
        if v and v not in _PLAIN and "?" not in v and not _SIMPLE.fullmatch(v) and _may_be_plain(v)
    ]  # fmt: skip
    for start in range(0, len(todo), _PLAIN_BATCH):
        _check_batch(todo[start : start + _PLAIN_BATCH])


def _check_batch(batch: list[str]) -> None:
    read = _loads("".join(f"- k: {v}\n- [{v}]\n- {{k: {v}}}\n" for v in batch))
    if isinstance(read, list) and len(read) == 3 * len(batch):
        for index, value in enumerate(batch):
            _remember(value, read[3 * index : 3 * index + 3] == [{"k": value}, [value], {"k": value}])
    elif len(batch) > 1:
        middle = len(batch) // 2
        _check_batch(batch[:middle])
        _check_batch(batch[middle:])


def _plain_check(value: str) -> bool:
    if not _may_be_plain(value):
        return False
    if _SIMPLE.fullmatch(value):
        return yamlnodes.is_plain_text(value)
    # It must read back as the same string in block context and inside flow collections.
    if not (
        _loads(f"k: {value}\n") == {"k": value}
        and _loads(f"[{value}]\n") == [value]
        and _loads(f"{{k: {value}}}\n") == {"k": value}
    ):
        return False
    # libyaml reads `summary: 0?` inside a flow mapping as the text "0?"; PyYAML's own scanner
    # (what other tools may read the file with) ends a plain scalar at "?" in flow collections
    # and fails. Such values are checked with that scanner too (rare: it is slow).
    return "?" not in value or _loads(f"[{{k: {value}}}, {value}]\n", yaml.SafeLoader) == [{"k": value}, value]


def _double_quoted(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def scalar(value: object) -> str:
    """A YAML scalar that reads back as `value` (dates as YYYY-MM-DD, strings quoted if needed)."""
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise EditError(f"cannot write a value of type {type(value).__name__} ({value!r})")
    if value and _plain_is_safe(value):
        return value
    return _double_quoted(value)


def flow(value: object) -> str:
    """A value written on one line: scalars, [a, b] lists and {k: v} mappings."""
    if isinstance(value, list | tuple):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{yaml_key(k)}: {flow(v)}" for k, v in value.items()) + "}"
    return scalar(value)


_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def yaml_key(key: object) -> str:
    if isinstance(key, str):
        return _key_text(key)
    raise EditError(f"a field name must be non-empty text, not {key!r}")


@functools.lru_cache(maxsize=4096)
def _key_text(key: str) -> str:
    if not isinstance(key, str) or not key:
        raise EditError(f"a field name must be non-empty text, not {key!r}")
    return key if _KEY.match(key) and _loads(f"{key}: 1") == {key: 1} else _double_quoted(key)


def expected_value(value: object) -> Any:
    """What YAML reads back from `flow(value)` (used to check an edit did what it meant)."""
    return normal_value(yamlnodes.load(f"k: {flow(value)}\n")[0]["k"])


class _NotPlain(Exception):
    pass


def _as_read(value: object) -> Any:
    """What YAML reads back from `flow(value)` for text, dates and lists and mappings of them:
    the same value, since `scalar` quotes every string that would read back as anything else."""
    if isinstance(value, str) or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, list | tuple):
        return [_as_read(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _as_read(v) for k, v in value.items()}
    raise _NotPlain


def expected_values(values: dict[str, object]) -> dict[str, Any]:
    """`expected_value` of every value, in one YAML parse (a bulk import writes thousands of files);
    without one when every value is text or a date (what imports write)."""
    try:
        return {k: _as_read(v) for k, v in values.items()}
    except _NotPlain:
        pass
    keys = list(values)
    parsed = yamlnodes.load("".join(f"k{i}: {flow(values[k])}\n" for i, k in enumerate(keys)))[0] or {}
    return {k: normal_value(parsed[f"k{i}"]) for i, k in enumerate(keys)}


def normal_value(value: Any) -> Any:
    if isinstance(value, yamlnodes.BadScalar):
        return ("<bad>", value.kind, value.raw)
    if isinstance(value, list):
        return [normal_value(v) for v in value]
    if isinstance(value, dict):
        return {k: normal_value(v) for k, v in value.items()}
    return value
