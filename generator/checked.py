"""What a contact file may hold and what checking one gives: its fields, the patterns of its
addresses and links, a file's `Checked` result with its `Reference`s, and the helpers that name
fields and values in messages."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from . import yamlnodes
from .model import Contact, Problem

KNOWN_KEYS = (
    "name", "email", "phone", "company", "title", "location", "tags", "links",
    "how_we_met", "keep_in_touch", "reminders", "interactions",
)  # fmt: skip
INTERACTION_KEYS = ("date", "type", "summary", "gained", "with", "followed_up", "snooze")
REMINDER_KEYS = ("date", "note", "done", "snooze")
TEXT_FIELDS = ("company", "title", "location", "how_we_met")

# One address, nothing a mailto: link would read as more recipients or headers (`?bcc=`, `,`).
_ADDRESS_CHAR = r"[^@\s?&,;:<>()\[\]\\\"/%]"  # none of what ends an address or starts a header
PLAIN_ADDRESS = re.compile(rf"{_ADDRESS_CHAR}+@{_ADDRESS_CHAR}+\.(?:(?!\.){_ADDRESS_CHAR})+")
WIKI_LINK = re.compile(r"\[\[([^\[\]\n|`]+?)(?:\|([^\[\]\n`]+?))?\]\]")
SAFE_URL_SCHEMES = ("http://", "https://", "mailto:", "tel:")


class Reference(NamedTuple):
    """A pointer to another contact that must exist: a `with:` slug or a `[[link]]`. A named
    tuple: ten thousand files' worth are read back from the parse cache on every run."""

    target: str
    line: int
    column: int
    field: str
    kind: str  # "with" or "link"


class Checked:
    """What validating one file produced. The contact may be decoded lazily from the parse cache
    (`source`), so a run that only needs problems never rebuilds every contact."""

    __slots__ = ("file", "problems", "_references", "name", "_contact", "_source", "saved")

    def __init__(
        self,
        file: str,
        contact: Contact | None,
        problems: tuple[Problem, ...],
        references: tuple[tuple[Any, ...], ...],  # `Reference`s, or their plain tuples (see below)
        name: str | None = None,
        source: Callable[[], Contact | None] | None = None,
    ) -> None:
        self.file = file  # path relative to the CRM root
        self.problems = problems
        # As the parse cache reads them back: plain 5-tuples, made `Reference`s when first asked
        # for (a run checks every link's target, `targets`, and looks closer at a few).
        self._references = references
        self._contact = contact  # None when the file has errors (or not decoded yet)
        self._source = source
        self.name = contact.name if contact is not None else name  # the contact's name, when valid
        self.saved: bytes | None = None  # the contact as the parse cache saves it, when known

    @property
    def references(self) -> tuple[Reference, ...]:
        references = self._references
        if references and type(references[0]) is not Reference:
            references = self._references = tuple(map(Reference._make, references))
        return references  # type: ignore[return-value]  # made above when they were plain tuples

    @staticmethod
    def all_targets(items: Iterable[Checked]) -> set[str]:
        """The targets of every reference of these files, in one comprehension (a load asks for
        those of ten thousand files: a call per file took twice as long)."""
        return {reference[0] for item in items for reference in item._references}

    @property
    def valid(self) -> bool:
        return self._contact is not None or self._source is not None

    @property
    def contact(self) -> Contact | None:
        if self._contact is None and self._source is not None:
            self._contact = self._source()
            self._source = None
        return self._contact


def field_path(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        if part == "<key>":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def suggest(word: str, choices: tuple[str, ...] | list[str]) -> str | None:
    return _suggest(word, tuple(choices))


@functools.lru_cache(maxsize=4096)
def _suggest(word: str, choices: tuple[str, ...]) -> str | None:  # the same few keys, in every file
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return matches[0] if matches else None


def show(value: Any) -> str:
    if isinstance(value, yamlnodes.BadScalar):
        return repr(value.raw)
    return repr(value)


def as_text(value: Any) -> str:
    """Unknown fields are shown as text on the contact page."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, yamlnodes.BadScalar):
        return value.raw
    if isinstance(value, list):
        return ", ".join(as_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {as_text(v)}" for k, v in value.items())
    return str(value)
