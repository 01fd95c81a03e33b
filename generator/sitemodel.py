"""The site model: the cross-indexes of one build (contacts by slug, follow-ups, links,
groups, the latest interactions, stamps), as `SiteModels` makes them."""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from .cachefile import Stamp
from .checked import Checked
from .contactcache import ContactCache
from .followups import FollowUpRate, sort_key
from .gitlog import Commit
from .load import Loaded
from .model import Contact, FollowUp, Interaction, Problem
from .slugs import slugify as _slugify


@functools.lru_cache(maxsize=65536)
def slugify(text: str) -> str:
    """Tag and company slugs (memoized: the same few hundred names recur on every build)."""
    return _slugify(text)


Recent = tuple[dt.date, str, str, str, Interaction]  # date, time, contact name, slug, interaction


Profile = tuple[str, tuple[str, ...], str]  # name, tags, company: what other pages show of a contact


RECENT_KEPT = 64  # latest interactions remembered, so an edit rarely needs a scan of every contact


RECENT_LIMIT = 12


UNREAD: Stamp = (-1, -1, -1)  # the stamp of a file that could not be read (as the walk takes it)


def stamp_text(file: str, version: Stamp | None) -> str:
    """A contact file's stamp as page digests use it: `file:(size, mtime, inode)`, written out
    (a tuple's repr takes twice as long, ten thousand times over when a plan is restored)."""
    if version is None:
        return f"{file}:"
    return f"{file}:({version[0]}, {version[1]}, {version[2]})"


class Stamps(dict[str, str]):
    """Slug → its file's stamp as page digests use it (`stamp_text`), each made when first asked
    for, from the last plan's versions: a restored plan has ten thousand and an update asks for a
    few (making them all took 20 ms). Only valid contacts (`slugs`) have one."""

    def __init__(self, versions: dict[str, Stamp], slugs: AbstractSet[str]) -> None:
        super().__init__()
        self._versions = versions
        self._slugs = slugs
        self._files: dict[str, str] | None = None  # slug → file, made if a file is not where expected

    def __missing__(self, slug: str) -> str:
        if slug not in self._slugs:
            raise KeyError(slug)
        file = f"contacts/{slug}.md"
        if file not in self._versions:  # in a folder of its own (a slug names one file: load checks)
            if self._files is None:
                self._files = {path.rsplit("/", 1)[-1][:-3]: path for path in self._versions}
            if slug not in self._files:
                raise KeyError(slug)
            file = self._files[slug]
        text = self[slug] = stamp_text(file, self._versions[file])
        return text

    def get(self, slug: str, default: str | None = None) -> str | None:  # type: ignore[override]
        try:
            return self[slug]
        except KeyError:
            return default

    def copy(self) -> Stamps:
        """A copy to change (an update): the stamps made so far, the others still made when asked."""
        twin = Stamps(self._versions, self._slugs)
        twin._files = self._files
        twin.update(self)
        return twin


class Contacts(Mapping[str, Contact]):
    """Contacts by slug, each decoded from the parse cache only when a page wants it (a rebuild
    after one edit renders a few pages, not ten thousand)."""

    def __init__(self, sources: Mapping[str, Checked]) -> None:
        self._sources = sources

    @property
    def sources(self) -> Mapping[str, Checked]:
        """The checked files by slug (never changed once given here)."""
        return self._sources

    def __getitem__(self, slug: str) -> Contact:
        contact = self._sources[slug].contact
        if contact is None:
            raise KeyError(slug)
        return contact

    def __iter__(self) -> Iterator[str]:
        return iter(self._sources)

    def __len__(self) -> int:
        return len(self._sources)

    def __contains__(self, slug: object) -> bool:
        return slug in self._sources


def recent_key(r: Recent) -> tuple[Any, ...]:
    """Newest first (a later time first on the same day), then by name."""
    return (-r[0].toordinal(), tuple(-ord(ch) for ch in r[1]), r[2].casefold(), r[3])


def latest_interactions(contacts: Iterable[Contact], today: dt.date) -> list[Recent]:
    """The RECENT_KEPT latest interactions up to today (nsmallest is sorted()[:n]), looking
    closely only at the most recent dates."""
    contacts = list(contacts)
    past = heapq.nlargest(RECENT_KEPT, (i.date for c in contacts for i in c.interactions if i.date <= today))
    if not past:
        return []
    cutoff = past[-1]
    return heapq.nsmallest(
        RECENT_KEPT,
        (
            (i.date, i.time or "", c.name, c.slug, i)
            for c in contacts
            for i in c.interactions
            if cutoff <= i.date <= today
        ),
        key=recent_key,
    )


class Sorted(Sequence[FollowUp]):
    """Every follow-up, sorted (`sort_key`); for a restored or updated plan, made from the
    follow-ups by contact when first wanted (an edit of a contact's notes remakes neither the
    dashboard nor the calendar, which list them all)."""

    def __init__(self, items: list[FollowUp] | None, make: Callable[[], list[FollowUp]] | None = None) -> None:
        self._items = items
        self._make = make

    @staticmethod
    def of(by_contact: Mapping[str, list[FollowUp]]) -> Sorted:
        # sort_key tells apart the follow-ups of different contacts, and a stable sort keeps each
        # contact's own in the order given: any order of contacts gives the same list.
        return Sorted(None, lambda: sorted(itertools.chain.from_iterable(by_contact.values()), key=sort_key))

    @property
    def made(self) -> bool:
        return self._items is not None

    def _list(self) -> list[FollowUp]:
        if self._items is None:
            assert self._make is not None
            self._items, self._make = self._make(), None
        return self._items

    def __getitem__(self, index: Any) -> Any:
        return self._list()[index]

    def __len__(self) -> int:
        return len(self._list())

    def __iter__(self) -> Iterator[FollowUp]:
        return iter(self._list())

    def __eq__(self, other: object) -> bool:
        return self._list() == (other._list() if isinstance(other, Sorted) else other)

    __hash__ = None  # type: ignore[assignment]  # a list's equality: not hashable


@dataclass
class Model:
    """The cross-indexes of one build."""

    loaded: Loaded
    today: dt.date
    real_today: dt.date
    contacts: Mapping[str, Contact]  # decoded from the parse cache when wanted (see Contacts)
    stamps: dict[str, str]  # slug → "path:size:mtime" of its file
    followups: Mapping[str, list[FollowUp]]  # slug → pending, sorted
    all_followups: Sorted  # every contact's, sorted
    backlinks: Mapping[str, list[tuple[str, str]]]  # slug → [(from slug, "with" | "link")]
    resolved: Mapping[str, list[tuple[str, str | None]]]  # slug → [(target, resolved slug)]
    tags: dict[str, tuple[str, list[str]]]  # tag slug → (display, slugs sorted by name)
    companies: dict[str, tuple[str, list[str]]]
    order: list[str]  # slugs sorted by name
    histories: Mapping[str, list[Commit]]
    file_problems: dict[str, list[Problem]] = field(default_factory=dict)
    rate: FollowUpRate = field(default_factory=lambda: FollowUpRate(0, 0))
    shares: dict[str, tuple[int, int]] = field(default_factory=dict)  # slug → its part of the rate
    recent: list[Recent] = field(default_factory=list)  # the latest interactions (up to RECENT_KEPT)
    recent_complete: bool = True  # `recent` holds every interaction up to today
    versions: dict[str, Stamp] = field(default_factory=dict)  # file → its stamp when planned
    profiles: Mapping[str, Profile] = field(default_factory=dict)  # slug → what other pages show of it
    slugs: AbstractSet[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)  # casefolded name → slug
    names_signature: int = 0  # in-process only: changes when any contact's name or slug does


def file_versions(loaded: Loaded, cache: ContactCache) -> dict[str, Stamp]:
    """Each checked file's stamp as the load checked it (a file that could not be read has no
    cache entry: `UNREAD`, or the stamp the walk took)."""
    stamps = loaded.stamps
    if stamps is not None and len(stamps) == loaded.count:
        # The load took every stamp from there, and checked every file it holds (the walk's
        # files, of which `checked` is a part, are as many): no loop over ten thousand files.
        return stamps
    entries = cache.entries
    return {item.file: entries[item.file][0] if item.file in entries else UNREAD for item in loaded.checked}


def files_changed(versions: dict[str, Stamp], before: dict[str, Stamp]) -> list[str]:
    """The files of `versions` whose stamp is not the one in `before`, in the order of `versions`."""
    try:
        changed = {file for file, _ in versions.items() - before.items()}  # compared in C, not a call per file
    except TypeError:  # a stamp that is not hashable (never one this program saves)
        return [file for file, version in versions.items() if before.get(file) != version]
    if not changed:
        return []
    return [file for file in versions if file in changed]


def loose_problems(loaded: Loaded, versions: dict[str, Stamp]) -> list[Problem]:
    """The problems of files the load did not check (`versions` holds those it did): a slug a file
    has already, a reserved or non-UTF-8 name; and crm.yaml's. The page of an invalid slug lists
    them, and no stamp of a checked file changes with them: an update compares them."""
    return [p for p in loaded.problems if p.file not in versions]
