"""The load summary: what a full load found, saved for the next command-line build (`Summary`),
and the checked files of a load made from it (`Summarised`; load.py's `_by_summary` makes one)."""

from __future__ import annotations

import marshal
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import cachefile, quick
from .checked import Checked
from .contactcache import ContactCache, Delta
from .contactfile import check_path
from .model import Problem, Settings
from .paths import CONTACTS_DIR

if TYPE_CHECKING:  # load.py imports this module
    from .load import Loaded

PlainProblem = tuple[str, int, int, str, str, str]


def _plain(problems: list[Problem]) -> list[PlainProblem]:
    return [(p.file, p.line, p.column, p.severity, p.field, p.message) for p in problems]


class Summary:
    """What a full load found, saved for the next command-line build (cachefile's SUMMARY): the
    stamp of every contact file walked, the checked ones' slugs, the problems, names and invalid
    files. A build after a few edits (load.py's `_by_summary`) starts from it."""

    def __init__(
        self,
        stamps: dict[str, cachefile.Stamp] | bytes,  # every file walked (those not checked too); as saved
        order: list[str],  # the checked files' slugs, in order
        moved: dict[str, str],  # slug → file, for the few not at contacts/<slug>.md
        count: int,  # contact files read (Loaded.files)
        walk: list[Problem],  # reserved names, duplicate slugs
        items: list[Problem],  # the checked files' own problems
        refs: list[Problem],  # references that lead nowhere
        names: dict[str, str],
        invalid: dict[str, list[Problem]],
        digest: str = "",  # of the stamps as saved (`save`)
    ) -> None:
        self._stamps = stamps
        self.order, self.moved, self.count = order, moved, count
        self.walk, self.items, self.refs, self.names, self.invalid = walk, items, refs, names, invalid
        self.digest = digest

    @property
    def stamps(self) -> dict[str, cachefile.Stamp]:
        """The stamps, decoded when first wanted (a load told what changed by `crm build`'s child
        process never wants them); ValueError when they do not decode as saved."""
        if isinstance(self._stamps, bytes):
            try:
                stamps = marshal.loads(self._stamps)
            except (ValueError, EOFError, TypeError):
                stamps = None
            if type(stamps) is not dict:
                raise ValueError("stamps")
            self._stamps = stamps
        return self._stamps

    @staticmethod
    def of(stamps: dict[str, cachefile.Stamp], checked: list[Checked], order: list[str], count: int,
           problems: tuple[list[Problem], list[Problem], list[Problem]], names: dict[str, str],
           invalid: dict[str, list[Problem]]) -> Summary:  # fmt: skip
        moved = {slug: item.file for slug, item in zip(order, checked, strict=True) if item.file != f"{CONTACTS_DIR}/{slug}.md"}
        return Summary(stamps, order, moved, count, *problems, names, invalid)

    def file_of(self, slug: str) -> str:
        return self.moved.get(slug) or f"{CONTACTS_DIR}/{slug}.md"

    def save(self, store: cachefile.Store, loaded: Loaded) -> None:
        """Save it; `loaded` keeps its stamps' bytes and digest, for the plan (site.py)."""
        data = marshal.dumps(self.stamps)
        loaded.saved_stamps = (cachefile.digest_of(data), data)
        store.write_summary(loaded.saved_stamps[0], data, {
            "order": self.order, "moved": self.moved, "count": self.count, "walk": _plain(self.walk),
            "items": _plain(self.items), "refs": _plain(self.refs), "names": self.names,
            "invalid": {slug: _plain(errors) for slug, errors in self.invalid.items()},
        })  # fmt: skip

    @staticmethod
    def decode(saved: tuple[Any, Any, Any] | None) -> Summary | None:
        """The summary as `save` saved it with this program's key (checked for its kinds, as
        the plan's parts are: marshal makes only plain values), or None."""
        if saved is None:
            return None
        digest, data, doc = saved
        try:
            parts = [digest, data, *(doc[name] for name in ("order", "moved", "count", "walk", "items", "refs", "names"))]
            kinds = (str, bytes, list, dict, int, list, list, list, dict)
            if any(type(part) is not kind for part, kind in zip(parts, kinds, strict=True)):
                return None
            _, _, order, moved, count, walk, items, refs, names = parts
            invalid = {str(slug): [Problem(*p) for p in errors] for slug, errors in doc["invalid"].items()}
            return Summary(
                data, order, moved, count, [Problem(*p) for p in walk], [Problem(*p) for p in items],
                [Problem(*p) for p in refs], names, invalid, digest,
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


class Summarised(Mapping[str, Checked]):
    """The checked files of a load made from the last load's summary (load.py's `_by_summary`):
    the valid ones by slug, each taken from its parse-cache entry when first asked for (which
    reads only its shard), and every one (`checked`) when a caller wants them all."""

    def __init__(self, root: Path, cache: ContactCache, settings: Settings, summary: Summary,
                 stamps: dict[str, cachefile.Stamp]) -> None:  # fmt: skip
        self._root, self._cache, self._settings, self._stamps = root, cache, settings, stamps
        self._summary, self._order, self._invalid = summary, summary.order, summary.invalid
        self.slugs = frozenset(summary.order)  # every checked file's
        self.made: dict[str, Checked] = {}  # slug → its result, as given out (the changed files')

    def _of(self, slug: str, entries: Mapping[str, tuple[cachefile.Stamp, Checked]] | None = None) -> Checked:
        made = self.made.get(slug)
        if made is not None:
            return made
        rel = self._summary.file_of(slug)
        entry = self._cache.entry(rel) if entries is None else entries.get(rel)
        stamp = self._stamps[rel]
        if entry is not None and entry[0] == stamp and stamp[0] >= 0:
            made = entry[1]
        else:  # not in the parse cache (a file that cannot be read; a shard lost since)
            made = check_path(os.path.join(str(self._root), *rel.split("/")), rel, slug, self._settings)
        self.made[slug] = made
        return made

    def __getitem__(self, slug: str) -> Checked:
        if slug in self._invalid or slug not in self.slugs:
            raise KeyError(slug)
        return self._of(slug)

    def __iter__(self) -> Iterator[str]:
        invalid = self._invalid
        return (slug for slug in self._order if slug not in invalid)

    def __len__(self) -> int:
        return len(self._order) - len(self._invalid)

    def __contains__(self, slug: object) -> bool:
        return slug in self.slugs and slug not in self._invalid

    def count(self) -> int:
        """How many files were checked."""
        return len(self._order)

    def checked(self) -> list[Checked]:
        entries = self._cache.entries  # all of them, read once
        return [self._of(slug, entries) for slug in self._order]


def changed_since(summary: Summary, stamps: dict[str, cachefile.Stamp],
                   delta: Delta | None) -> tuple[dict[str, cachefile.Stamp], list[str]] | None:  # fmt: skip
    """(the summary's stamps, the files whose stamp changed since, in walk order), or None when
    the files are not the same or more than SUMMARY_LIMIT changed. `delta`: what `crm build`'s
    child process found comparing them (quick.summary_delta), used when it compared these very
    stamps: then the summary's ten thousand stamps are not decoded here."""
    if delta is not None and delta[0] == summary.digest:
        then = dict(stamps)
        then.update(delta[1])  # the stamps of the files changed since, as the summary has them
        return then, [rel for rel, _ in delta[1]]
    try:
        then = summary.stamps
    except ValueError:  # not as saved
        return None
    changed = quick.changed_since(then, stamps)
    return None if changed is None else (then, changed)
