"""The static site (SPEC §8): site model, page plan, incremental build.

    builder = SiteBuilder(root, root / "site")
    report = builder.build()          # incremental; call again after files change

Every planned page carries a digest of its inputs (the contact file's stamp, the cross-links it
shows, its follow-ups, its git history, the settings, the template sources and this code). The
manifest in the output folder remembers the digests of the last build, so an unchanged page is
neither rendered nor written. Pages that summarise everything (dashboard, contact list, tags,
companies, search index, calendar) are joins of per-contact fragments kept by their inputs, so a
change to one contact re-renders one row, not ten thousand. A rebuild updates the last build's
plan for the files that changed (in memory in the server, from `.tipscale/plan.json` between
command-line runs) instead of planning every page again. State is JSON, or marshal for the plan's
large parts (plan.py); never pickle.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import functools
import hashlib
import heapq
import itertools
import json
import marshal
import os
import time
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, MutableMapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from . import collector, followup_pages, gitlog, paging, parallel, plan, quick
from .cachefile import Stamp
from .checked import PLAIN_ADDRESS, Checked
from .contactcache import ContactCache
from .dates import relative_days
from .drafts import MISSING_GAINED_FLAG, Draft, DraftError, NoteRenderer
from .followup_pages import KIND_LABEL, Listing, Shown, card_id, same_rows
from .followups import LISTED, FollowUpRate, contact_followups, describe, followup_rate, sort_key
from .gitlog import Commit, PendingHistories, file_histories
from .links import name_index, resolve_link
from .load import Before, Loaded, load
from .model import Contact, FollowUp, HasProblems, Interaction, Problem, Settings
from .pages import Page
from .pages import digest as _hash
from .paths import code_digest
from .render import Renderer, external_url, url_path
from .settings import resolve_today
from .slugs import slugify as _slugify
from .write import STATE_DIR, Writer

PLAN = plan.HEAD

RECENT_LIMIT = 12
PAGE_TEMPLATES = ("contact.html.j2", "contacts.html.j2", "dashboard.html.j2", "group.html.j2", "_row.html.j2",
                  "followups.html.j2")  # fmt: skip


@dataclass
class BuildReport(HasProblems):
    pages: int  # pages (and assets) in the plan
    written: int  # files written because their bytes changed
    skipped: int  # planned files left as they were
    removed: int  # stale files removed
    problems: list[Problem]  # every problem found in the files (errors and warnings)
    seconds: float


class _Tokens(dict[str, str]):
    """Row tokens computed when first wanted (a cold build renders the rows with the list page,
    while the workers render contact pages, not before)."""

    def __init__(self, compute: Callable[[str], str]) -> None:
        super().__init__()
        self.compute = compute

    def __missing__(self, slug: str) -> str:
        value = self[slug] = self.compute(slug)
        return value


@functools.lru_cache(maxsize=65536)
def slugify(text: str) -> str:
    """Tag and company slugs (memoized: the same few hundred names recur on every build)."""
    return _slugify(text)


def _address(email: str) -> str:
    """One plain address, percent-encoded for a URL; "" for anything else (it would add
    recipients or headers to a mailto: link)."""
    return quote(email, safe="@+.") if PLAIN_ADDRESS.fullmatch(email) else ""


def email_href(email: str) -> str:
    address = _address(email)
    return "mailto:" + address if address else ""


def mailto(emails: tuple[str, ...], draft: Draft) -> str:
    """`mailto:` with subject and body filled in (RFC 6068: UTF-8, percent-encoded, CRLF), to the
    first plain address."""
    to = next(filter(None, map(_address, emails)), "")
    body = draft.body.rstrip("\n").replace("\r\n", "\n").replace("\n", "\r\n")
    return f"mailto:{to}?subject={quote(draft.subject, safe='')}&body={quote(body, safe='')}"


class _DraftCache(NoteRenderer):
    """NoteRenderer that remembers drafts by (contact stamp, follow-up, today)."""

    def __init__(self, root: Path, stamps: dict[str, str]) -> None:
        super().__init__(root)
        self.stamps = stamps
        self.memo: dict[tuple[str, str, str, dt.date], Draft | None | DraftError] = {}

    def draft(self, contact: Contact, followup: FollowUp, settings: Settings, today: dt.date) -> Draft | None:
        key = (self.stamps.get(contact.slug, ""), followup.uid_key, followup.kind, today)
        if key not in self.memo:
            try:
                self.memo[key] = super().draft(contact, followup, settings, today)
            except DraftError as exc:
                self.memo[key] = exc
        value = self.memo[key]
        if isinstance(value, DraftError):
            raise value
        return value


Recent = tuple[dt.date, str, str, str, Interaction]  # date, time, contact name, slug, interaction
Profile = tuple[str, tuple[str, ...], str]  # name, tags, company: what other pages show of a contact
RECENT_KEPT = 64  # latest interactions remembered, so an edit rarely needs a scan of every contact


class _Stamps(dict[str, str]):
    """Slug → its file's stamp as page digests use it (`_stamp_text`), each made when first asked
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
        text = self[slug] = _stamp_text(file, self._versions[file])
        return text

    def get(self, slug: str, default: str | None = None) -> str | None:  # type: ignore[override]
        try:
            return self[slug]
        except KeyError:
            return default

    def copy(self) -> _Stamps:
        """A copy to change (an update): the stamps made so far, the others still made when asked."""
        twin = _Stamps(self._versions, self._slugs)
        twin._files = self._files
        twin.update(self)
        return twin


class _Contacts(Mapping[str, Contact]):
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


def _recent_key(r: Recent) -> tuple[Any, ...]:
    """Newest first (a later time first on the same day), then by name."""
    return (-r[0].toordinal(), tuple(-ord(ch) for ch in r[1]), r[2].casefold(), r[3])


def _recent(contacts: Iterable[Contact], today: dt.date) -> list[Recent]:
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
        key=_recent_key,
    )


class _Sorted(Sequence[FollowUp]):
    """Every follow-up, sorted (`sort_key`); for a restored or updated plan, made from the
    follow-ups by contact when first wanted (an edit of a contact's notes remakes neither the
    dashboard nor the calendar, which list them all)."""

    def __init__(self, items: list[FollowUp] | None, make: Callable[[], list[FollowUp]] | None = None) -> None:
        self._items = items
        self._make = make

    @staticmethod
    def of(by_contact: Mapping[str, list[FollowUp]]) -> _Sorted:
        # sort_key tells apart the follow-ups of different contacts, and a stable sort keeps each
        # contact's own in the order given: any order of contacts gives the same list.
        return _Sorted(None, lambda: sorted(itertools.chain.from_iterable(by_contact.values()), key=sort_key))

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
        return self._list() == (other._list() if isinstance(other, _Sorted) else other)

    __hash__ = None  # type: ignore[assignment]  # a list's equality: not hashable


@dataclass
class Model:
    """The cross-indexes of one build."""

    loaded: Loaded
    today: dt.date
    real_today: dt.date
    contacts: Mapping[str, Contact]  # decoded from the parse cache when wanted (see _Contacts)
    stamps: dict[str, str]  # slug → "path:size:mtime" of its file
    followups: Mapping[str, list[FollowUp]]  # slug → pending, sorted
    all_followups: _Sorted  # every contact's, sorted
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


SHELF_SHARDS = 16
SEARCH_PAGES = SHELF_SHARDS  # the list's search index is split so that an edit rewrites a sixteenth of it
LEGACY_STATE = ("fragments.json", "cards.json", "events.json")  # single files of earlier versions
LEGACY_SHELVES = ("rows", "search", "cards", "events")  # kept as NAME-NN.json before


def _legacy_state(name: str) -> bool:
    """A file of `.tipscale/` that only earlier versions wrote (removed when a plan is saved)."""
    return name in LEGACY_STATE or (name.endswith(".json") and name.rpartition("-")[0] in LEGACY_SHELVES)


def _shard(key: str, count: int) -> int:
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % count


def _search_key(slug: str, row_key: str) -> str:
    return f"{slug}\0{row_key}"


def _search_part_of_key(key: str) -> int:
    return _shard(key.partition("\0")[0], SEARCH_PAGES)


class _Shelf:
    """Fragments (list rows, search entries, dashboard cards, calendar events) named by everything
    they depend on, so an old one is never wrong. Kept in memory and, between command-line runs,
    in `.tipscale/NAME-NN.bin` in the output folder (`marshal`, like the plan's parts: a shard of
    half a megabyte took 4 ms to write as JSON): sixteen files by key, each read when one of its
    keys is wanted and written when it changed (a long-lived builder writes them on flush)."""

    def __init__(self, name: str, shard_of: Callable[[str], int] | None = None) -> None:
        self.name = name
        self.shard_of = shard_of if shard_of is not None else (lambda key: _shard(key, SHELF_SHARDS))
        self.shards: dict[int, dict[str, str]] = {}
        self.dirty: set[int] = set()
        self.live: set[str] = set()  # keys the build in progress uses
        # An update sets `dead` to the keys it made old (those of the contacts it planned again):
        # `finish` then forgets those alone, not every key outside `live`.
        self.dead: set[str] | None = None

    def _load(self, writer: Writer, number: int) -> dict[str, str]:
        items = self.shards.get(number)
        if items is None:
            items = {}
            raw = writer.read_bytes(f"{STATE_DIR}/{self.name}-{number:02d}.bin")
            try:
                data = marshal.loads(raw) if raw is not None else None
            except (ValueError, EOFError, TypeError):
                data = None  # damaged: its fragments are made again
            if type(data) is dict and data.get("version") == 1 and type(data.get("items")) is dict:
                found = data["items"]
                if set(map(type, found)) | set(map(type, found.values())) <= {str}:
                    items = found
            self.shards[number] = items
        return items

    def get(self, writer: Writer, key: str, read: bool = True) -> str | None:
        """The fragment kept under `key`; `read=False`: only if its shard is in memory already."""
        number = self.shard_of(key)
        items = self.shards.get(number)
        if items is None:
            if not read:
                return None
            items = self._load(writer, number)
        return items.get(key)

    def put(self, writer: Writer, key: str, value: str) -> None:
        number = self.shard_of(key)
        self._load(writer, number)[key] = value
        self.dirty.add(number)

    def finish(self, writer: Writer, save: bool) -> None:
        """Forget what this build did not use (in the shards in memory); with `save`, write the
        shards that changed."""
        for number, items in self.shards.items():
            if self.dead is None:
                dead = [key for key in items if key not in self.live]
            else:
                dead = [key for key in self.dead if key in items and key not in self.live]
            for key in dead:
                del items[key]
            if dead:
                self.dirty.add(number)
        self.live.clear()
        self.dead = None
        if save:
            for number in sorted(self.dirty):
                data = marshal.dumps({"version": 1, "items": self.shards[number]})
                writer.write(f"{STATE_DIR}/{self.name}-{number:02d}.bin", data)
            self.dirty.clear()

    def clear(self) -> None:
        """A clean build starts from nothing (and writes every shard)."""
        self.shards = {number: {} for number in range(SHELF_SHARDS)}
        self.dirty = set(self.shards)
        self.live.clear()


INCREMENTAL_LIMIT = 200  # more changed contacts than this: plan everything again


class _Unplanned(Mapping[str, Page]):
    """The pages of a restored plan, by path: what its manifest says of each (made into a `Page`
    when asked for: an update asks for none of ten thousand)."""

    def __init__(self, manifest: dict[str, str]) -> None:
        self.manifest = manifest  # never changed (a build replaces the builder's, never edits it)

    def __getitem__(self, path: str) -> Page:
        return Page(path, self.manifest[path], _not_planned)

    def __iter__(self) -> Iterator[str]:
        return iter(self.manifest)

    def __len__(self) -> int:
        return len(self.manifest)

    def __contains__(self, path: object) -> bool:
        return path in self.manifest


def _manifest_of(pages: Mapping[str, Page]) -> dict[str, str]:
    """Path → digest of every planned page; for an update of a restored plan, its manifest
    with the pages the update planned again or dropped (without a `Page` for every other)."""
    if isinstance(pages, plan.Changed) and isinstance(pages.base, _Unplanned):
        manifest = dict(pages.base.manifest)
        for path in pages.removed:
            del manifest[path]
        for path, page in pages.changes.items():
            manifest[path] = page.digest
        return manifest
    return {path: page.digest for path, page in pages.items()}


@dataclass
class _Previous:
    """What the last build of this process planned, for updating instead of planning again."""

    model: Model
    pages: Mapping[str, Page]  # by path
    key: tuple[Any, ...]  # (base digest, today, the real date, git HEAD)
    invalid: dict[str, list[Problem]]
    loose: list[Problem]  # see _loose
    row_keys: dict[str, str]
    row_tokens: dict[str, str]
    shown: Shown | None  # what the dashboard showed (None: not known, list every follow-up again)
    event_tokens: dict[str, str]  # follow-up → hash of its calendar event
    event_sum: int | None = None  # the sum of the calendar's events' parts (see _Fragments)


@dataclass
class _Update:
    """What an update of the dashboard or the calendar takes from the last build: its plan, and
    the contacts planned again."""

    previous: _Previous
    changed: set[str]
    rows_same: bool = False  # the changed contacts' follow-ups show as before in every list (same_rows)


FRAGMENT_SUM = 1 << 128  # fragment parts are summed modulo this


def _fragment_part(item: FollowUp, token: str) -> int:
    data = f"{item.uid_key}\x1f{item.status}\x1f{item.days}\x1f{token}".encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=16).digest(), "big")


class _Fragments:
    """The fragments a page joins, one per follow-up (dashboard cards, calendar events): each
    one's token (a hash of its bytes) and the sum of their parts (`_fragment_part`: the
    follow-up's key, status, days and token), which stands in the page's digest. The order they
    show in follows from what they are (sort_key), so their sum is all a digest needs; and an
    update adds the parts of the contacts it planned again and takes their old ones away,
    instead of hashing every follow-up."""

    def __init__(self, tokens: Callable[[], dict[str, str]], total: Callable[[], int]) -> None:
        self.all_tokens = tokens  # every follow-up's token, made when asked
        self.total = functools.cache(total)

    @staticmethod
    def empty() -> _Fragments:
        return _Fragments(dict, int)

    @staticmethod
    def of(
        model: Model,
        keep: Callable[[FollowUp], bool],
        token: Callable[[FollowUp], str],
        update: _Update | None,
        reuse: tuple[dict[str, str], int | None] | None,
        key_of: Callable[[FollowUp, str], str],
        shelf: _Shelf,
    ) -> _Fragments:
        """The fragments of the model's follow-ups that `keep` says show, `token(item)` making
        one's token. With `update` and the last build's (tokens, sum) as `reuse`, those of the
        contacts it planned again replace theirs, and their old fragments, `key_of(item, stamp)`,
        are `shelf`'s dead keys."""
        if update is not None and reuse is not None and reuse[1] is not None:
            old_model, changed = update.previous.model, sorted(update.changed)
            old = [f for slug in changed for f in old_model.followups.get(slug, ()) if keep(f)]
            tokens, total = dict(reuse[0]), reuse[1]
            if all(f.uid_key in tokens for f in old):
                for f in old:
                    total -= _fragment_part(f, tokens.pop(f.uid_key))
                shelf.dead = {key_of(f, old_model.stamps[f.contact]) for f in old}
                new = [f for slug in changed for f in model.followups.get(slug, ()) if keep(f)]
                made = {f.uid_key: token(f) for f in new}
                tokens.update(made)
                total = (total + sum(_fragment_part(f, made[f.uid_key]) for f in new)) % FRAGMENT_SUM
                return _Fragments(lambda: tokens, lambda: total)
        items = [f for f in model.all_followups if keep(f)]  # a full plan (or a last plan without a sum)
        by_uid = {f.uid_key: f for f in items}
        computed = _Tokens(lambda uid: token(by_uid[uid]))
        return _Fragments(
            lambda: {uid: computed[uid] for uid in by_uid},
            lambda: sum(_fragment_part(f, computed[f.uid_key]) for f in items) % FRAGMENT_SUM,
        )


class SiteBuilder:
    """Builds `out` from the CRM at `root`; keeps caches between calls (for `crm serve`)."""

    def __init__(self, root: Path, out: Path, today: dt.date | None = None) -> None:
        self.root = root
        self.out = out
        self.today = today
        self.cache = ContactCache()
        self.writer = Writer(out)
        self.manifest: dict[str, str] | None = None
        self.meta: dict[str, Any] = {}  # the last build's site key and the problems only a build finds
        self._rows = _Shelf("rows")  # list rows, by row key
        # Search entries, by slug and row key, kept with the other entries of their search part
        # (remaking one part of the search index reads one file of them).
        self._search = _Shelf("search", _search_part_of_key)
        self.notes_html: dict[str, Markup] = {}
        self.head: str | None = None
        self.histories: Mapping[str, list[Commit]] = {}
        self.renderer: Renderer | None = None
        self.drafts: _DraftCache | None = None
        self._notes_digest = ""  # of the note templates `drafts` was made with
        self.stamps: dict[str, str] = {}
        self.loaded: Loaded | None = None
        self.preloaded: Loaded | None = None  # a Loaded the caller already has, used by the next build
        self.prefetched: plan.Prefetch | None = None  # the saved plan's files, read ahead by the caller
        # (stamps, the sum of their file_key): the files' part of the site key, as the caller
        # found it (`crm build`'s child process), for a load that used those very stamps
        self.preloaded_files_key: tuple[dict[str, Stamp], int] | None = None
        # The manifest the caller read just before (pages, metadata, every page there?), used by
        # the first build instead of reading it again.
        self.preloaded_manifest: tuple[dict[str, str], dict[str, Any], bool | None] | None = None
        self._pages_complete: bool | None = None
        self._draft_errors: dict[str, Problem] = {}
        # In-process memos for rebuilds while serving: what was derived from unchanged inputs.
        self._followups_for: tuple[Settings, dt.date] | None = None
        self._followups_memo: dict[str, tuple[str, list[FollowUp]]] = {}
        self._rate_memo: dict[str, tuple[str, int, int]] = {}
        self._page_memo: dict[str, tuple[tuple[Any, ...], str]] = {}
        self._row_memo: dict[str, tuple[tuple[str, str], str]] = {}
        self._row_keys_now: dict[str, str] = {}  # slug → the key its list row is kept under
        self._row_tokens_now: dict[str, str] = {}  # slug → what list-page digests use for its row
        self._shown_now: Callable[[], Shown | None] = lambda: None  # the dashboard's cards in this build
        self._events_now = _Fragments.empty()  # the calendar's events in this build
        self._listing_of: tuple[Model, Listing] | None = None  # this build's follow-ups by section
        self._key_memo: dict[str, tuple[Checked, int]] = {}  # file → (check result, its part of the site key)
        self._written = self._skipped = 0  # counters of the build in progress
        self._head_now: str | None = None  # git's HEAD as this build found it
        self._histories_partial = False  # self.histories came from a saved plan
        self._pending_histories: PendingHistories | None = None  # git log started early (a cold build)
        # Dashboard cards and calendar events of unchanged follow-ups (in-process only).
        self._cards = _Shelf("cards")
        self._events = _Shelf("events")
        self._previous: _Previous | None = None  # the last build's model and plan
        self._plan_files: dict[str, tuple[str, Any]] = {}  # part of the saved plan → (file, value as read)
        # The live server's builder: its first build plans every page (so the first save only
        # updates the plan), and the manifest is saved by `flush()` instead of after every build.
        self.long_lived = False
        self._manifest_saved: set[str] | None = None  # pages of the manifest as last saved (long-lived)
        self._manifest_unsaved = False

    # --- the build, as a table of contents -------------------------------------------------

    def build(self, clean: bool = False, changed: Collection[str] | None = None) -> BuildReport:
        """Build the site. `changed`, when given, lists the only paths (relative to the root)
        that may have changed since this builder's last build (the server's file watcher)."""
        try:
            return self._build(clean, changed)
        finally:
            if self._pending_histories is not None:  # started for a full plan that was not made
                self._pending_histories.cancel()
                self._pending_histories = None

    def _build(self, clean: bool, changed: Collection[str] | None) -> BuildReport:
        started = time.perf_counter()
        self.out.mkdir(parents=True, exist_ok=True)
        quick.forget(self.out)  # whatever this build does, the last command-line run's record is old
        self.writer = Writer(self.out)
        # A clean build renders everything again, but still removes what the last build wrote.
        previous_pages = set(self.writer.load_manifest()) if clean else set()
        if clean:
            self._reset()
        if self.manifest is None:
            if self.preloaded_manifest is not None:  # as the caller just read it
                self.manifest, self.meta, self._pages_complete = self.preloaded_manifest
                self.preloaded_manifest = None
            else:
                self.manifest, self.meta = self.writer.load_manifest_all()
            if self.meta.get("unsaved"):
                # A server stopped without saving it: which pages exist is known, their inputs not.
                self.manifest, self.meta = dict.fromkeys(self.manifest, ""), {}
        if self.preloaded is not None:
            loaded, self.preloaded = self.preloaded, None
        else:
            loaded = load(self.root, self.cache, None if clean else changed)
        self.loaded = loaded
        self._head_now = gitlog.head(self.root)  # asked once a build
        renderer = self._renderer()
        self._base = self._base_digest(loaded.settings, renderer)  # once a build: it reads every template
        # Nothing that shapes any page changed since the last build: done, without building the
        # model or a single digest (a no-change rebuild of 10,000 contacts stays instant).
        site_key = self._site_key(loaded)
        if self.long_lived and self._previous is None and not clean:
            self._previous = self._restore_plan(loaded)  # the server's first build: the last plan
        fast = not (self.long_lived and self._previous is None)
        if fast and not clean and site_key is not None and site_key == self.meta.get("site_key"):
            if self._all_pages_there():
                problems = list(loaded.problems) + [Problem(*p) for p in self.meta.get("build_problems", [])]
                problems.sort(key=lambda p: (p.file, p.line, p.column, p.severity, p.message))
                count = len(self.manifest)
                return BuildReport(count, 0, count, 0, problems, time.perf_counter() - started)
        problems = list(loaded.problems)
        self._draft_errors = {}
        self._written = self._skipped = 0
        if not clean and self._previous is None:
            self._previous = self._restore_plan(loaded)  # a command-line run: the last run's plan
        self._pages_complete = None  # the caller's answer is this build's alone
        # A command-line update makes objects that live until it ends, and hardly any garbage
        # with cycles: the collector would only scan them (collector.py).
        with contextlib.nullcontext() if self.long_lived or clean else collector.held():
            update = None if clean else self._incremental(loaded, renderer)
            if update is not None:
                # The pages of the contacts that changed first (the one being edited is usually
                # the one open in the browser), then the summary pages that show them.
                model, pages, first, rest = update
                self._make_pages(first)
                summaries = rest()
                self._make_pages(summaries)
                self._remember(model, pages, loaded, site_key)
                self._skipped += len(pages) - self._written - self._skipped
                # A broken note template met by pages not made again this time is still broken
                # (a change to it changes every page's digest, so this build would not be an
                # update).
                for kept in self.meta.get("build_problems", []):
                    problem = Problem(*kept)
                    self._draft_errors.setdefault(problem.message, problem)
        if update is None:
            model = self._model(loaded)
            planned = self._plan(model, renderer, problems)
            self._make_pages(planned)
            pages = {page.path: page for page in planned}
            # After the pages: the tokens it keeps are those of cards and events just rendered.
            self._remember(model, pages, loaded, site_key)
        new_manifest = _manifest_of(pages)
        # A broken note template shows on the pages that render a draft, and is reported here.
        problems.extend(self._draft_errors.values())
        removed = 0
        for stale in sorted((set(self.manifest) | previous_pages) - set(new_manifest)):
            if self.writer.remove(stale):
                removed += 1
        build_problems = [
            [p.file, p.line, p.column, p.severity, p.field, p.message] for p in self._draft_errors.values()
        ]
        meta = {"site_key": site_key, "build_problems": build_problems}
        if new_manifest != self.manifest or meta != self.meta:
            self._save_manifest(new_manifest, meta)
        self.manifest = new_manifest
        self.meta = meta
        if self._rows.dead is None:  # a full plan: every row in use (an update named its dead ones)
            self._rows.live = set(self._row_keys_now.values())
            self._search.live = {_search_key(slug, key) for slug, key in self._row_keys_now.items()}
        for shelf in (self._rows, self._search, self._cards, self._events):
            shelf.finish(self.writer, save=not self.long_lived)
        problems.sort(key=lambda p: (p.file, p.line, p.column, p.severity, p.message))
        count = len(new_manifest)
        return BuildReport(
            count, self._written, self._skipped, removed, problems, time.perf_counter() - started
        )

    def _all_pages_there(self) -> bool:
        """Does every page of the last build's manifest exist? (Asked once a build: the answer
        a caller gave with the manifest it read counts once.)"""
        known, self._pages_complete = self._pages_complete, None
        if known is not None:
            return known
        assert self.manifest is not None
        return not self.writer.missing(self.manifest)

    def _remember(self, model: Model, pages: Mapping[str, Page], loaded: Loaded, site_key: str | None) -> None:
        """Keep this build's model and plan for the next build, and save the plan for the next
        command-line run (before the manifest that names it). Here, not in a child process: a
        child alive while this one goes on makes it copy every memory page it touches, which
        cost more than the few ms of writing the parts an edit changed."""
        self._previous = _Previous(
            model=model,
            pages=pages,
            key=(self._base, model.today, dt.date.today(), self.head),
            invalid=loaded.invalid,
            loose=_loose(loaded, model.versions),
            row_keys=dict(self._row_keys_now),
            row_tokens={slug: self._row_tokens_now[slug] for slug in model.order},
            shown=self._shown_now(),
            event_tokens=self._events_now.all_tokens(),
            event_sum=self._events_now.total(),
        )
        if not self.long_lived and site_key is not None:
            self._save_plan(site_key)

    def prepare(self) -> None:
        """What a cold build can do before the contacts are loaded (the caller runs it while
        workers parse them): read git's histories, compile the page templates."""
        if self._pending_histories is not None:
            self._pending_histories.result()
        renderer = self._renderer()
        renderer.refresh()
        for name in PAGE_TEMPLATES:
            try:
                renderer.env.get_template(name)
            except Exception:  # noqa: BLE001 - a broken template is reported by the build itself
                continue

    def prefetch_histories(self) -> None:
        """Start reading every file's git history now, so that git works while the caller
        loads the contacts (a cold build wants them all; `_model` takes the result)."""
        if self._pending_histories is None:
            self._pending_histories = PendingHistories(self.root)

    def _save_manifest(self, manifest: dict[str, str], meta: dict[str, Any]) -> None:
        """Save the manifest; a long-lived builder saves it marked "unsaved" only when the set of
        pages changes (rewriting it after every save costs tens of ms at 10,000 contacts), and
        for good in `flush()`. Were the server killed, the next run trusts no digest of it."""
        if not self.long_lived:
            self.writer.save_manifest(manifest, meta)
            return
        self._manifest_unsaved = True
        if self._manifest_saved != set(manifest):
            self.writer.save_manifest(manifest, {**meta, "unsaved": True})
            self._manifest_saved = set(manifest)

    def flush(self) -> None:
        """Save what a long-lived builder keeps in memory (its plan, the manifest); call when
        stopping."""
        if self._manifest_unsaved and self.manifest is not None:
            site_key = self.meta.get("site_key")
            if isinstance(site_key, str):
                self._save_plan(site_key)
            self.writer.save_manifest(self.manifest, self.meta)
            self._manifest_unsaved = False
            self._manifest_saved = set(self.manifest)
        for shelf in (self._rows, self._search, self._cards, self._events):
            live, shelf.live = shelf.live, {key for items in shelf.shards.values() for key in items}
            shelf.finish(self.writer, save=True)
            shelf.live = live

    def _save_plan(self, build_id: str) -> None:
        """Keep this build's plan for the next command-line run (see plan.py)."""
        prev = self._previous
        if prev is None:
            return
        model = prev.model
        shares = {slug: share for slug, share in model.shares.items() if share != (0, 0)}
        snapshot = plan.Plan(
            key=prev.key, versions=model.versions, profiles=model.profiles,
            followups=model.followups, shares=shares, rate=model.rate,
            recent=[(r[3], r[4]) for r in model.recent], recent_complete=model.recent_complete,
            resolved=model.resolved, backlinks=model.backlinks, tags=model.tags, companies=model.companies,
            order=model.order, histories=model.histories if model.histories.keys() <= model.versions.keys()
            else {p: h for p, h in model.histories.items() if p in model.versions},
            invalid=prev.invalid, loose=prev.loose, row_keys=prev.row_keys, row_tokens=prev.row_tokens,
            shown=prev.shown.to_plain() if prev.shown is not None else None, event_tokens=prev.event_tokens,
            event_sum=prev.event_sum, names=model.names,
        )  # fmt: skip
        # Each large part is written only when it changed since it was read (see plan.py). The
        # parts as read are never changed in place (an update copies what it changes), so equal
        # values mean an equal file.
        files: dict[str, str] = {}
        loaded = self.loaded
        for name in plan.SECTIONS:
            kept = self._plan_files.get(name)
            saved = loaded.saved_stamps if loaded is not None and snapshot.versions is loaded.stamps else None
            if name == "versions" and saved is not None:
                # The stamps the load summary saved: the same bytes (and no 10,000 to compare).
                files[name] = plan.part_name(name, saved[0])
                if kept is None or kept[0] != files[name]:
                    self.writer.write(f"{STATE_DIR}/{files[name]}", saved[1])
                continue
            if kept is not None:
                value = plan.section_value(snapshot, name)
                if plan.same_part(value, kept[1]):
                    files[name] = kept[0]
                    continue
            try:
                data = plan.encode_section(snapshot, name)
            except ValueError:  # not a plain value: no plan is kept, the next run plans in full
                return
            files[name] = plan.part_file(name, data)
            self.writer.write(f"{STATE_DIR}/{files[name]}", data)
        head = plan.encode_head(snapshot, build_id, files)
        self.writer.write(PLAN, json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        self._plan_files = {}
        live = set(files.values())
        try:
            with os.scandir(self.out / STATE_DIR) as entries:
                old = [
                    e.name
                    for e in entries
                    if (e.name.startswith("plan-") and e.name not in live) or _legacy_state(e.name)
                ]
        except OSError:
            old = []
        for name in old:
            self.writer.remove(f"{STATE_DIR}/{name}")

    def _read_plan(self, build_id: str, before: Before | None = None) -> plan.Plan | None:
        """The saved plan of build `build_id`: plan.json and the files of its large parts (those
        `prefetched` already, from there). Its file stamps are most often those of the load
        summary the load started from (`before`; the same bytes): then they are not read again."""
        ahead, self.prefetched = self.prefetched, None
        if ahead is not None and ahead.build_id == build_id and ahead.head is not None:
            head, parts = ahead.head, ahead.parts
        else:
            head, parts = self.writer.read_json(PLAN), {}
        if not isinstance(head, dict) or head.get("version") != plan.VERSION or head.get("build") != build_id:
            return None
        files = head.get("files")
        if not isinstance(files, dict) or set(files) != set(plan.SECTIONS):
            return None
        sections: dict[str, Any] = {}
        for name, file in files.items():
            if not isinstance(file, str):
                return None
            if name == "versions" and before is not None and file == plan.part_name(name, before.digest):
                value = before.stamps
            else:
                value = parts[file] if file in parts else plan.read_part(self.writer, file)
            if value is None:
                return None
            sections[name] = value
        snapshot = plan.decode(head, build_id, sections)
        if snapshot is not None and not self.long_lived:  # what the next save compares against
            self._plan_files = {name: (files[name], plan.section_value(snapshot, name)) for name in plan.SECTIONS}
        return snapshot

    def _restore_plan(self, loaded: Loaded) -> _Previous | None:
        """The last build's plan as saved by `_save_plan`, when it belongs to the build the
        manifest describes and every page of that build is still there; else None."""
        with collector.held():  # what it makes lives until the next build's plan replaces it
            return self._restored_plan(loaded)

    def _restored_plan(self, loaded: Loaded) -> _Previous | None:
        build_id = self.meta.get("site_key")
        if not isinstance(build_id, str) or not self.manifest:
            return None
        snapshot = self._read_plan(build_id, loaded.before)
        if snapshot is None or not self._all_pages_there():
            return None
        sources = loaded.sources()
        followups = snapshot.followups
        profiles = snapshot.profiles
        stamps = _Stamps(snapshot.versions, profiles.keys())
        names = snapshot.names  # as the plan's model had them (making them unpacks every profile)
        slugs = profiles.keys()
        model = Model(
            loaded=loaded, today=snapshot.key[1], real_today=snapshot.key[2], contacts=_Contacts(sources),
            stamps=stamps, followups=followups, all_followups=_Sorted.of(followups),
            backlinks=snapshot.backlinks, resolved=snapshot.resolved, tags=snapshot.tags,
            companies=snapshot.companies, order=snapshot.order, histories=snapshot.histories,
            rate=snapshot.rate, recent=[(i.date, i.time or "", profiles[slug][0], slug, i) for slug, i in snapshot.recent],
            recent_complete=snapshot.recent_complete, versions=snapshot.versions, profiles=profiles,
            # The names and slugs of build `build_id` (hashing them all took 3 ms): the in-process
            # memos it keys only need it to change with them.
            slugs=slugs, names=names, names_signature=hash(("plan", build_id)),
        )  # fmt: skip
        model.shares = dict(snapshot.shares)  # the non-zero ones (a contact not there has (0, 0))
        self.head, self.histories, self.stamps = snapshot.key[3], snapshot.histories, stamps
        self._histories_partial = True  # only the files planned then: a full plan asks git again
        return _Previous(
            model=model,
            pages=_Unplanned(self.manifest),
            key=snapshot.key,
            invalid=snapshot.invalid,
            loose=snapshot.loose,
            row_keys=snapshot.row_keys,
            row_tokens=snapshot.row_tokens,
            shown=Shown.from_plain(snapshot.shown),
            event_tokens=snapshot.event_tokens,
            event_sum=snapshot.event_sum,
        )

    def _make_pages(self, pages: list[Page]) -> None:
        """Render and write the pages whose inputs changed since the last build, or whose file
        is missing. A cold build renders thousands of pages: forked workers share the contact
        pages (see parallel.py) while this process makes the pages joined from kept fragments
        (so the fragments it makes are kept)."""
        manifest = self.manifest or {}
        todo: list[Page] = []
        for page in pages:
            if page.path in manifest and manifest[page.path] == page.digest and self.writer.exists(page.path):
                self._skipped += 1
            else:
                todo.append(page)
        summaries = [p for p in todo if _joins_fragments(p.path)]
        others = [p for p in todo if not _joins_fragments(p.path)]
        parallel.share((self, others))
        made: list[tuple[bool, list[Problem]]] = []

        def meanwhile() -> None:
            made.extend(self.make_page(page) for page in summaries)
            for page in others:
                page.digest  # noqa: B018 - hashed now, not alone after the workers (see _contact_page)

        results = parallel.fork_map(_make_in_worker, range(len(others)), chunksize=32, meanwhile=meanwhile)
        results += made
        if len(others) >= parallel.MIN_ITEMS:  # workers may have staged their files (Writer.stage)
            self.writer.clear_staging()
        for changed, draft_errors in results:
            if changed:
                self._written += 1
            else:
                self._skipped += 1
            for problem in draft_errors:
                self._draft_errors.setdefault(problem.message, problem)

    # --- rebuilds of one process (the server): update what changed -----------------------

    def _incremental(
        self, loaded: Loaded, renderer: Renderer
    ) -> tuple[Model, MutableMapping[str, Page], list[Page], Callable[[], list[Page]]] | None:
        """The model and page plan of the last build, updated for the few contacts whose files
        changed: (model, every planned page by path, the changed contacts' pages, a function
        that plans the summary pages). None when a full plan is needed (first build, settings,
        templates, the day or git's HEAD changed, contacts added, removed or renamed, or many
        files changed)."""
        prev = self._previous
        if prev is None:
            return None
        settings = loaded.settings
        today = self.today if self.today is not None else resolve_today(None, settings)
        if self._head_now != self.head or (self._base, today, dt.date.today(), self.head) != prev.key:
            return None
        if loaded.invalid != prev.invalid:
            return None  # an invalid file changed (its page shows its problems)
        old = prev.model
        versions = _versions(loaded, self.cache)
        if old.loaded is loaded and isinstance(old.contacts, _Contacts):
            sources = old.contacts.sources  # the plan was restored for this very load
        else:
            sources = loaded.sources()
        if len(versions) != len(old.versions) or _loose(loaded, versions) != prev.loose:
            return None  # a file came or went, or one the load did not check (a duplicate slug) did
        start = loaded.before
        if start is not None and old.versions is start.stamps and versions is loaded.stamps:
            changed_files = start.changed  # the load found them (the plan's stamps are the summary's)
        else:
            changed_files = _changed_files(versions, old.versions)
        if not changed_files or len(changed_files) > INCREMENTAL_LIMIT:
            return None
        contacts = _Contacts(sources)
        profiles = plan.Changed(old.profiles)
        stamps = old.stamps.copy()
        changed: list[str] = []
        for file in changed_files:
            slug = file.rsplit("/", 1)[-1][:-3]
            if file not in old.versions or slug not in sources or slug not in old.profiles:
                return None  # a file moved, is new, or was invalid
            contact = contacts[slug]
            if contact.name != old.profiles[slug][0]:
                return None  # names show on other pages, and [[Full Name]] links resolve by them
            profiles[slug] = (contact.name, contact.tags, contact.company)
            stamps[slug] = self._stamp(contact)
            changed.append(slug)
        self.stamps = stamps
        assert self.drafts is not None
        self.drafts.stamps = stamps
        changed_set = set(changed)

        # Follow-ups of the changed contacts, and their share of the follow-up rate.
        followups = plan.Changed(old.followups)  # a few change (a restored plan's are Packed)
        everything = [f for f in old.all_followups if f.contact not in changed_set] if old.all_followups.made else None
        on_time, counted = old.rate.on_time, old.rate.counted
        shares = dict(old.shares)  # the model's, not the memo's: a failed build may have updated that
        rows_same = True
        for slug in changed:
            items = contact_followups(contacts[slug], settings, today)
            items.sort(key=sort_key)
            rows_same = rows_same and same_rows(old.followups.get(slug, ()), items)
            self._followups_memo[slug] = (stamps[slug], items)
            if items:
                followups[slug] = items
                if everything is not None:
                    for followup in items:
                        bisect.insort(everything, followup, key=sort_key)
            else:
                followups.pop(slug, None)
            old_share = shares.get(slug, (0, 0))  # a restored plan keeps only the non-zero ones
            share = followup_rate([contacts[slug]], settings, today)
            self._rate_memo[slug] = (stamps[slug], share.on_time, share.counted)
            shares[slug] = (share.on_time, share.counted)
            on_time += share.on_time - old_share[0]
            counted += share.counted - old_share[1]

        # The latest interactions: those kept of the unchanged contacts are still the latest of
        # theirs, so while at least RECENT_LIMIT of them are left (or all there were), they and
        # the changed contacts' own are enough.
        kept = [r for r in old.recent if r[3] not in changed_set]
        if not old.recent_complete and len(kept) < RECENT_LIMIT:
            recent = _recent(contacts.values(), today)
            recent_complete = len(recent) < RECENT_KEPT
        else:
            pool = [*kept, *_recent((contacts[slug] for slug in changed), today)]
            recent = heapq.nsmallest(RECENT_KEPT, pool, key=_recent_key)
            recent_complete = old.recent_complete and len(pool) < RECENT_KEPT
            if not old.recent_complete:  # past the last one kept, unchanged contacts may have more
                bound = _recent_key(kept[-1])
                recent = [r for r in recent if _recent_key(r) <= bound]

        # Their links: what they point at, and the back-links of what they pointed at before.
        def by_name(slug: str) -> tuple[str, str]:
            return (profiles[slug][0].casefold(), slug)

        resolved = plan.Changed(old.resolved)  # the parts as they were, and what changes
        backlinks = plan.Changed(old.backlinks)
        touched: set[str] = set()
        for slug in changed:
            for _, found in old.resolved.get(slug, []):
                if found is not None and found != slug:
                    touched.add(found)
                    backlinks[found] = [b for b in backlinks.get(found, []) if b[0] != slug]
        for slug in changed:
            entry = self.cache.entry(contacts[slug].path)
            targets: list[tuple[str, str | None]] = []
            for ref in entry[1].references if entry is not None else ():
                found = resolve_link(ref.target, old.slugs, old.names)
                targets.append((ref.target, found))
                if found is not None and found != slug:
                    touched.add(found)
                    if (slug, ref.kind) not in backlinks.get(found, []):
                        backlinks[found] = [*backlinks.get(found, []), (slug, ref.kind)]
            resolved[slug] = targets
        for target in touched:
            if backlinks.get(target):
                backlinks[target] = sorted(backlinks[target], key=lambda b: (by_name(b[0]), b[1]))
            else:
                backlinks.pop(target, None)

        # Tag and company pages the changed contacts left or joined.
        tags, companies = dict(old.tags), dict(old.companies)
        groups_touched: set[tuple[str, str]] = set()
        for slug in changed:
            before, after = old.profiles[slug], profiles[slug]
            for kind, groups, names_before, names_after in (
                ("tags", tags, before[1], after[1]),
                ("companies", companies, (before[2],) if before[2] else (), (after[2],) if after[2] else ()),
            ):  # fmt: skip
                keys_before = {slugify(n) for n in names_before}
                keys_after = {slugify(n): n for n in names_after}
                for key in keys_before | set(keys_after):
                    groups_touched.add((kind, key))
                    display, members = groups.get(key, (keys_after.get(key, ""), []))
                    members = [m for m in members if m != slug]
                    if key in keys_after:
                        members.append(slug)
                    groups[key] = (display, members)
        # Each group's order and name once every changed contact has left or joined it (a member
        # met earlier in that loop may be one whose own move is still to come).
        for kind, key in groups_touched:
            groups = tags if kind == "tags" else companies
            members = sorted(groups[key][1], key=by_name)
            if members:
                # As a full plan names it: after the first member (by name) who has it.
                first = profiles[members[0]]
                shown = first[1] if kind == "tags" else (first[2],)
                groups[key] = (next(n for n in shown if slugify(n) == key), members)
            else:
                del groups[key]
        if groups_touched:
            tags, companies = dict(sorted(tags.items())), dict(sorted(companies.items()))

        file_problems: dict[str, list[Problem]] = {}
        for problem in loaded.problems:
            file_problems.setdefault(problem.file, []).append(problem)

        model = Model(
            loaded=loaded, today=today, real_today=dt.date.today(), contacts=contacts, stamps=stamps,
            followups=followups, all_followups=_Sorted(everything) if everything is not None else _Sorted.of(followups),
            backlinks=backlinks, resolved=resolved,
            tags=tags, companies=companies, order=old.order, histories=old.histories,
            file_problems=file_problems, rate=FollowUpRate(on_time, counted), shares=shares, recent=recent,
            recent_complete=recent_complete, versions=versions, profiles=profiles, slugs=old.slugs, names=old.names,
            names_signature=old.names_signature,
        )  # fmt: skip

        base = self._base
        pages = plan.Changed(prev.pages)  # a restored plan's are its manifest's (`_Unplanned`)
        first_pages = [
            self._contact_page(model, renderer, slug, base) for slug in sorted(changed_set | touched)
        ]
        for page in first_pages:
            pages[page.path] = page

        def summaries() -> list[Page]:
            row_keys, tokens = dict(prev.row_keys), dict(prev.row_tokens)
            search_parts = {_shard(slug, SEARCH_PAGES) for slug in changed}
            for slug in changed:
                row_keys[slug] = self._row_key(base, slug, stamps[slug])
                tokens[slug] = self._row_token(model, renderer, slug, row_keys[slug], kept=False)
            self._row_keys_now, self._row_tokens_now = row_keys, tokens
            # The rows and search entries this update made old (the others stay in use).
            self._rows.dead = {prev.row_keys[slug] for slug in changed if slug in prev.row_keys}
            self._rows.live.update(row_keys[slug] for slug in changed)
            self._search.dead = {_search_key(slug, prev.row_keys[slug]) for slug in changed if slug in prev.row_keys}
            self._search.live.update(_search_key(slug, row_keys[slug]) for slug in changed)
            update = _Update(prev, changed_set, rows_same)
            fresh = [
                self._dashboard(model, renderer, base, update),
                *self._contact_list(model, renderer, base, row_keys, tokens),
                self._calendar(model, base, update),
                *self._search_pages(model, base, row_keys, only=search_parts),
            ]
            stale: set[str] = set()
            if not rows_same:  # the full follow-up lists changed: all their pages planned again
                stale.update(path for path in pages if path.startswith("followups/"))
                fresh.extend(followup_pages.list_pages(self._listing(model), renderer, base))
            for kind, key in sorted(groups_touched):
                groups = tags if kind == "tags" else companies
                before = old.tags if kind == "tags" else old.companies
                if key in before:
                    stale.update(paging.page_path(f"{kind}/{key}.html", n)
                                 for n in range(1, paging.page_count(len(before[key][1])) + 1))  # fmt: skip
                if key in groups:
                    display, members = groups[key]
                    fresh.extend(
                        self._group_pages(model, renderer, base, row_keys, tokens, kind, key, display, members)
                    )
            for path in stale - {page.path for page in fresh}:
                pages.pop(path, None)
            for page in fresh:
                pages[page.path] = page
            return fresh

        return model, pages, first_pages, summaries

    def _row_key(self, base: str, slug: str, stamp: str) -> str:
        memo = self._row_memo.get(slug)
        if memo is None or memo[0] != (base, stamp):
            memo = self._row_memo[slug] = ((base, stamp), _hash(base, "row", stamp))
        return memo[1]

    def _row_token(self, model: Model, renderer: Renderer, slug: str, key: str, kept: bool = True) -> str:
        """A list row named by its bytes: an edit to the notes leaves the list pages as they are."""
        return _token(self._row(model, renderer, slug, key, kept))

    def _stamp(self, contact: Contact) -> str:
        entry = self.cache.entry(contact.path)
        return _stamp_text(contact.path, entry[0] if entry is not None else None)

    def make_page(self, page: Page) -> tuple[bool, list[Problem]]:
        """Render and write one page: (bytes changed?, note-template problems it met)."""
        before = set(self._draft_errors)
        changed = self.writer.write(page.path, page.make())
        return changed, [p for key, p in self._draft_errors.items() if key not in before]

    def _reset(self) -> None:
        if self.preloaded is None:  # a preloaded result was read through self.cache: keep them together
            self.cache = ContactCache()
        self.manifest = {}
        self.meta = {}
        self._previous = None
        self._plan_files = {}
        for shelf in (self._rows, self._search, self._cards, self._events):
            shelf.clear()
        self.notes_html.clear()
        self.head = None
        self.histories = {}
        self.renderer = None
        self.drafts = None

    def _site_key(self, loaded: Loaded) -> str | None:
        """A digest of everything any page depends on: every file's stamp, the base digest
        (settings, templates, this code), the day (and the real day, for the "as of" banner) and
        git's HEAD. Each file's part is a hash remembered with its check result, and the parts
        are summed, so a rebuild after one save hashes one file, not ten thousand."""
        total = 0
        memo = self._key_memo
        preloaded, self.preloaded_files_key = self.preloaded_files_key, None
        if preloaded is not None and loaded.stamps is preloaded[0] and loaded.count == len(preloaded[0]):
            # Every file the load holds was checked against these very stamps (and it holds them
            # all): the caller's sum is this one.
            total = preloaded[1]
        else:
            entries = self.cache.entries
            for item in loaded.checked:
                hit = memo.get(item.file)
                if hit is None or hit[0] is not item:
                    entry = entries.get(item.file)
                    if entry is None:
                        return None
                    hit = memo[item.file] = (item, quick.file_key(item.file, entry[0]))
                total += hit[1]
        if len(memo) > 2 * loaded.count + 100:
            live = {item.file for item in loaded.checked}
            for file in [f for f in memo if f not in live]:
                del memo[file]
        today = self.today if self.today is not None else resolve_today(None, loaded.settings)
        return _hash(
            self._base, today, dt.date.today(), self._head_now, loaded.count,
            total % (1 << 128), loaded.problems, sorted(loaded.invalid),
        )  # fmt: skip

    def _renderer(self) -> Renderer:
        user_templates = (self.root / "templates").is_dir()
        if self.renderer is None or (len(self.renderer.dirs) == 2) != user_templates:
            self.renderer = Renderer(self.root)
        return self.renderer

    # --- site model ----------------------------------------------------------------------

    def _model(self, loaded: Loaded) -> Model:
        settings = loaded.settings
        today = self.today if self.today is not None else resolve_today(None, settings)
        contacts = loaded.by_slug()
        stamps = {contact.slug: self._stamp(contact) for contact in loaded.contacts}
        self.stamps = stamps

        # Follow-ups depend only on the contact's own file, the settings and the day.
        if (settings, today) != self._followups_for:
            self._followups_memo.clear()
            self._rate_memo.clear()
            self._followups_for = (settings, today)
        followups: dict[str, list[FollowUp]] = {}
        everything: list[FollowUp] = []
        memo = self._followups_memo
        for contact in loaded.contacts:
            stamp = stamps[contact.slug]
            hit = memo.get(contact.slug)
            if hit is not None and hit[0] == stamp:
                items = hit[1]
            else:
                items = contact_followups(contact, settings, today)
                items.sort(key=sort_key)
                memo[contact.slug] = (stamp, items)
            if items:
                followups[contact.slug] = items
                everything.extend(items)
        everything.sort(key=sort_key)

        # The follow-up rate, from each contact's share, remembered while its file is unchanged.
        on_time = counted = 0
        rate_memo = self._rate_memo
        shares: dict[str, tuple[int, int]] = {}
        for slug, contact in contacts.items():
            stamp = stamps[slug]
            share = rate_memo.get(slug)
            if share is None or share[0] != stamp:
                rate = followup_rate([contact], settings, today)
                share = rate_memo[slug] = (stamp, rate.on_time, rate.counted)
            shares[slug] = (share[1], share[2])
            on_time += share[1]
            counted += share[2]

        recent = _recent(loaded.contacts, today)
        slugs = set(contacts)
        names = name_index(loaded.contacts)
        backlinks: dict[str, set[tuple[str, str]]] = {}
        resolved: dict[str, list[tuple[str, str | None]]] = {}
        for contact in loaded.contacts:
            entry = self.cache.entry(contact.path)
            refs = entry[1].references if entry is not None else ()
            targets: list[tuple[str, str | None]] = []
            for ref in refs:
                target = resolve_link(ref.target, slugs, names)
                targets.append((ref.target, target))
                if target is not None and target != contact.slug:
                    backlinks.setdefault(target, set()).add((contact.slug, ref.kind))
            resolved[contact.slug] = targets

        def by_name(slug: str) -> tuple[str, str]:
            return (contacts[slug].name.casefold(), slug)

        order = sorted(contacts, key=by_name)
        tags: dict[str, tuple[str, list[str]]] = {}
        companies: dict[str, tuple[str, list[str]]] = {}
        for slug in order:
            contact = contacts[slug]
            for tag in {slugify(t): t for t in reversed(contact.tags)}.values():  # once a group, first name
                tags.setdefault(slugify(tag), (tag, []))[1].append(slug)
            if contact.company:
                companies.setdefault(slugify(contact.company), (contact.company, []))[1].append(slug)

        head = self._head_now
        if head is None:
            self.histories = {}
        elif head != self.head or self._histories_partial:
            pending, self._pending_histories = self._pending_histories, None
            if pending is not None and pending.head == head:
                self.histories = pending.result()
            else:
                if pending is not None:
                    pending.cancel()
                self.histories = file_histories(self.root)
            self._histories_partial = False
        self.head = head

        file_problems: dict[str, list[Problem]] = {}
        for problem in loaded.problems:
            file_problems.setdefault(problem.file, []).append(problem)

        return Model(
            loaded=loaded,
            today=today,
            real_today=dt.date.today(),
            contacts=contacts,
            stamps=stamps,
            followups=followups,
            all_followups=_Sorted(everything),
            backlinks={k: sorted(v, key=lambda b: (by_name(b[0]), b[1])) for k, v in backlinks.items()},
            resolved=resolved,
            tags=dict(sorted(tags.items())),
            companies=dict(sorted(companies.items())),
            order=order,
            histories=self.histories,
            file_problems=file_problems,
            rate=FollowUpRate(on_time, counted),
            shares=shares,
            recent=recent,
            recent_complete=len(recent) < RECENT_KEPT,
            versions=_versions(loaded, self.cache),
            profiles={slug: (c.name, c.tags, c.company) for slug, c in contacts.items()},
            slugs=slugs,
            names=names,
            # The names as shown too: a rename that changes only letter case keeps `names` (they
            # are lower-cased) but changes every page showing that contact.
            names_signature=hash(
                (frozenset(names.items()), frozenset(slugs), frozenset((c.slug, c.name) for c in contacts.values()))
            ),
        )

    # --- page plan -----------------------------------------------------------------------

    def _base_digest(self, settings: Settings, renderer: Renderer) -> str:
        """What every page depends on: templates, note templates, settings, this code."""
        templates = renderer.sources_digest(extra=(code_digest(),))
        drafts = self.drafts if self.drafts is not None else _DraftCache(self.root, self.stamps)
        notes = drafts.sources_digest()
        if drafts is self.drafts and notes != self._notes_digest:
            # A note template changed, appeared or went away (a server's builder lives on): the
            # compiled templates, the folders searched and the drafts made are all of the old.
            drafts = _DraftCache(self.root, self.stamps)
        self.drafts, self._notes_digest = drafts, notes
        return _hash(templates, repr(settings), notes)

    def _plan(self, model: Model, renderer: Renderer, problems: list[Problem]) -> list[Page]:
        base = self._base
        assert self.drafts is not None
        self.drafts.stamps = self.stamps
        pages: list[Page] = []

        for rel, path in renderer.static_files():
            pages.append(
                Page(rel, _hash(base, rel, path.stat().st_mtime_ns, path.stat().st_size), path.read_bytes)
            )

        row_keys: dict[str, str] = {}
        for slug in model.order:
            row_keys[slug] = self._row_key(base, slug, model.stamps[slug])
        tokens = _Tokens(lambda slug: self._row_token(model, renderer, slug, row_keys[slug]))
        self._row_keys_now, self._row_tokens_now = row_keys, tokens
        for slug in model.order:
            pages.append(self._contact_page(model, renderer, slug, base))
        problems_of: dict[str, list[Problem]] = {}
        for p in model.loaded.problems:  # grouped once: thousands of invalid files are common
            problems_of.setdefault(p.file.rsplit("/", 1)[-1][:-3], []).append(p)
        for slug in sorted(model.loaded.invalid):
            if slug in model.contacts:
                continue
            pages.append(self._invalid_page(renderer, slug, problems_of.get(slug, []), base))

        pages.append(self._dashboard(model, renderer, base))
        pages.extend(followup_pages.list_pages(self._listing(model), renderer, base))
        pages.extend(self._contact_list(model, renderer, base, row_keys, tokens))
        pages.extend(self._search_pages(model, base, row_keys))
        for kind, groups in (("tags", model.tags), ("companies", model.companies)):
            for key, (display, members) in groups.items():
                pages.extend(self._group_pages(model, renderer, base, row_keys, tokens, kind, key, display, members))
        pages.append(self._calendar(model, base))

        # Two groups (e.g. tags "C++" and "c") could slug the same; the first one wins.
        seen: set[str] = set()
        unique: list[Page] = []
        for page in pages:
            if page.path not in seen:
                seen.add(page.path)
                unique.append(page)
        return unique

    # --- pieces shared by several pages --------------------------------------------------

    def _listing(self, model: Model) -> Listing:
        """The model's follow-ups by section (made once a build, from every follow-up sorted)."""
        if self._listing_of is None or self._listing_of[0] is not model:
            self._listing_of = (model, Listing.of(model.all_followups))
        return self._listing_of[1]

    def _followup_view(self, model: Model, item: FollowUp, prefix: str, draft: bool = True) -> dict[str, Any]:
        """A follow-up card's context; `draft=False`: without its note."""
        contact = model.contacts[item.contact]
        assert self.drafts is not None
        note: Draft | None = None
        error = ""
        try:
            note = self.drafts.draft(contact, item, model.loaded.settings, model.today) if draft else None
        except DraftError as exc:
            error = str(exc)
            file = str(exc).split(":", 1)[0].replace("(built-in) ", "")
            self._draft_errors.setdefault(error, Problem(file, 1, 1, "error", "", str(exc)))
        return {
            "id": card_id(item),
            "kind": item.kind,
            "kind_label": KIND_LABEL[item.kind],
            "status": item.status,
            "due": item.due.isoformat(),
            "when": relative_days(item.days),
            "about": describe(item, detailed=True),
            "missing_gained": item.note_missing_gained,
            "missing_flag": MISSING_GAINED_FLAG,
            "draft": note.text.rstrip("\n") if note is not None else "",
            "mailto": mailto(contact.emails, note) if note is not None else "",
            "draft_error": error,
            "name": contact.name,
            "href": prefix + "contacts/" + url_path(contact.slug) + ".html",
            "email": contact.email,
        }

    def _row(self, model: Model, renderer: Renderer, slug: str, key: str, kept: bool = True) -> str:
        """The contact's list row, kept under `key`; `kept=False`: a row just changed, so not
        worth reading the rows kept by an earlier run (tens of MB) to look for it."""
        html = self._rows.get(self.writer, key, read=kept)
        if html is None:
            contact = model.contacts[slug]
            last = contact.last_interaction
            html = renderer.page(
                "_row.html.j2",
                {
                    "contact": contact,
                    "href": "../contacts/" + url_path(slug) + ".html",
                    "company_href": (
                        "../companies/" + url_path(slugify(contact.company)) + ".html"
                        if contact.company
                        else ""
                    ),
                    "tags": [(tag, "../tags/" + url_path(slugify(tag)) + ".html") for tag in contact.tags],
                    "tag_keys": "|".join(slugify(t) for t in contact.tags),
                    "company_key": slugify(contact.company) if contact.company else "",
                    "last": last.date.isoformat() if last is not None else "",
                },
            )
            self._rows.put(self.writer, key, html)
        return html

    # --- pages ---------------------------------------------------------------------------

    def _contact_page(self, model: Model, renderer: Renderer, slug: str, base: str) -> Page:
        contact = model.contacts[slug]
        items = model.followups.get(slug, [])
        history = model.histories.get(contact.path, [])
        problems = model.file_problems.get(contact.path, [])

        def backlinks() -> list[tuple[str, str, str]]:
            return [(b, model.profiles[b][0], kind) for b, kind in model.backlinks.get(slug, [])]

        # Everything the page shows comes from these; names of other contacts through
        # `names_signature`. Equal fingerprints mean an equal digest, without hashing again.
        fingerprint = (
            base, model.stamps[slug], model.names_signature, model.today if items else None,
            tuple(model.backlinks.get(slug, ())), history[0].sha if history else None, len(history),
            tuple(problems), self.head is not None,
        )  # fmt: skip
        memo = self._page_memo.get(slug)
        digest: str | Callable[[], str]
        if memo is not None and memo[0] == fingerprint:
            digest = memo[1]
        else:
            # Hashed when first asked: a cold build asks while the workers render (_make_pages).
            def digest() -> str:
                resolved = [
                    (target, found, model.profiles[found][0] if found else None)
                    for target, found in model.resolved.get(slug, [])
                ]
                made = _hash(
                    base,
                    "contact",
                    model.stamps[slug],
                    resolved,
                    backlinks(),
                    [(f.uid_key, f.kind, f.due, f.status, f.days) for f in items],
                    model.today if items else None,
                    [c.sha for c in history],
                    problems,
                    self.head is not None or bool(model.histories),  # "not committed yet" vs "not in git"
                )
                self._page_memo[slug] = (fingerprint, made)
                return made

        def make() -> bytes:
            return self._render_contact(model, renderer, contact, items, history, backlinks()).encode("utf-8")

        return Page(f"contacts/{slug}.html", digest, make)

    def _render_contact(
        self,
        model: Model,
        renderer: Renderer,
        contact: Contact,
        items: list[FollowUp],
        history: list[Commit],
        backlinks: list[tuple[str, str, str]],
    ) -> str:
        latest_missed = max((f for f in items if f.status == "missed"), key=lambda f: f.due, default=None)

        def resolver(target: str) -> tuple[str, str] | None:
            found = resolve_link(target, model.slugs, model.names)
            if found is None:
                return None
            return (url_path(found) + ".html", model.profiles[found][0])

        notes = renderer.markdown(contact.body, resolver) if contact.body.strip() else Markup("")
        timeline = []
        for interaction in contact.interactions_by_date():
            people = []
            for other in interaction.with_:
                if other in model.profiles:
                    people.append((model.profiles[other][0], url_path(other) + ".html"))
                else:
                    people.append((other, ""))
            if interaction.skip:
                followed = "No follow-up needed"
            elif interaction.followed_up is not None:
                followed = f"Followed up {interaction.followed_up.isoformat()}"
            elif model.loaded.settings.rule(interaction.type).thank_you is not None:
                followed = "Thank-you pending"
            else:
                followed = ""
            timeline.append(
                {
                    "date": interaction.date.isoformat(),
                    "time": interaction.time or "",
                    "type": interaction.type,
                    "type_label": interaction.type.replace("-", " ").capitalize(),
                    "summary": interaction.summary,
                    "gained": interaction.gained,
                    "with": people,
                    "followed": followed,
                }
            )
        context = {
            "base": "../",
            "page_title": contact.name,
            "nav": "contacts",
            "contact": contact,
            "emails": [(email, email_href(email)) for email in contact.emails],
            "company_href": "../companies/" + url_path(slugify(contact.company)) + ".html"
            if contact.company
            else "",
            "tags": [(tag, "../tags/" + url_path(slugify(tag)) + ".html") for tag in contact.tags],
            "links": [(label, url, external_url(url)) for label, url in contact.links],
            "keep_in_touch": contact.keep_in_touch.describe() if contact.keep_in_touch else "",
            "notes": notes,
            "timeline": timeline,
            # One reconnect note covers all a contact's missed notes: drafted on the latest.
            "followups": [
                self._followup_view(model, f, "../", draft=f.status != "missed" or f is latest_missed) for f in items
            ],
            "reminders_done": [r for r in contact.reminders if r.done],
            "backlinks": [
                {
                    "name": name,
                    "href": url_path(b) + ".html",
                    "via": "met together" if kind == "with" else "mentioned",
                }
                for b, name, kind in backlinks
            ],
            "history": [
                {
                    "date": c.when.date().isoformat(),
                    "author": c.author,
                    "message": c.message,
                    "sha": c.sha[:7],
                }
                for c in history
            ],
            "in_git": len(model.histories) > 0 or self.head is not None,
            "warnings": [
                p.format() for p in model.file_problems.get(contact.path, []) if p.severity == "warning"
            ],
        }
        return renderer.page("contact.html.j2", context)

    def _invalid_page(self, renderer: Renderer, slug: str, problems: list[Problem], base: str) -> Page:
        files = sorted({p.file for p in problems})
        digest = _hash(base, "invalid", slug, problems)

        def make() -> bytes:
            context = {
                "base": "../",
                "page_title": f"{slug} (has errors)",
                "nav": "contacts",
                "slug": slug,
                "files": files,
                "problems": [
                    {"where": f"{p.file}:{p.line}:{p.column}", "severity": p.severity, "field": p.field,
                     "message": p.message, "text": p.format()}
                    for p in problems
                ],
            }  # fmt: skip
            return renderer.page("invalid.html.j2", context).encode("utf-8")

        return Page(f"contacts/{slug}.html", digest, make)

    def _dashboard(self, model: Model, renderer: Renderer, base: str, update: _Update | None = None) -> Page:
        """The dashboard: each section's first cards (settings' `dashboard_per_section`), with
        their counts and links to the full lists. Its cards stand in its digest by a hash of their
        bytes, so an edit to a contact's notes leaves the dashboard alone; and when the contacts an
        update (`update`) planned again show in no list otherwise than before (`rows_same`), it
        shows the cards the last build showed, without sorting every follow-up again."""
        loaded = model.loaded
        rate = model.rate
        recent = [
            {
                "date": i.date.isoformat(),
                "name": name,
                "href": "contacts/" + url_path(slug) + ".html",
                "type": i.type.replace("-", " "),
                "summary": i.summary,
            }
            for _, _, name, slug, i in model.recent[:RECENT_LIMIT]
        ]
        invalid_slugs = {loaded_slug for loaded_slug in loaded.invalid if loaded_slug not in model.contacts}
        grouped: dict[str, list[Problem]] = {}
        for problem in loaded.problems:
            grouped.setdefault(problem.file, []).append(problem)
        problem_files = []
        for file, items in grouped.items():
            slug = Path(file).name[:-3] if file.endswith(".md") else ""
            problem_files.append(
                {
                    "file": file,
                    "href": "contacts/" + url_path(slug) + ".html"
                    if slug in invalid_slugs or slug in model.contacts
                    else "",
                    "invalid": any(p.severity == "error" for p in items),
                    "problems": [
                        {
                            "where": f"{p.file}:{p.line}:{p.column}",
                            "severity": p.severity,
                            "field": p.field,
                            "message": p.message,
                        }
                        for p in items
                    ],
                }  # fmt: skip
            )
        problem_files.sort(key=lambda f: (not f["invalid"], f["file"]))
        as_of = model.today if model.today != model.real_today else None
        stamps, today_text = model.stamps, str(model.today)

        def key_of(item: FollowUp, stamp: str) -> str:
            return f"{base}|{stamp}|{item.uid_key}|{item.status}|{item.days}|{today_text}"

        def card(item: FollowUp) -> Markup:
            key = key_of(item, stamps[item.contact])
            self._cards.live.add(key)
            html = self._cards.get(self.writer, key)
            if html is None:
                view = self._followup_view(model, item, "")
                html = renderer.page("_followup.html.j2", {"f": view, "show_name": True, "open": item.status != "upcoming"})
                if not view["draft_error"]:
                    self._cards.put(self.writer, key, html)
            return Markup(html)

        cards = self._dashboard_cards(model, update, card, key_of)

        def digest() -> str:
            shown = cards()[1]
            return _hash(
                base, "dashboard", model.today, as_of, shown.counts, shown.cards, (rate.on_time, rate.counted),
                recent, problem_files, len(model.contacts),
            )  # fmt: skip

        def make() -> bytes:
            items, shown = cards()
            counts = shown.counts
            sections = [
                {**link, "items": [card(f) for f in items if f.status == link["id"]]}
                for link in followup_pages.section_links(counts, "")[: len(LISTED)]
            ]
            context = {
                "base": "",
                "page_title": "Dashboard",
                "nav": "dashboard",
                "today": model.today.isoformat(),
                "as_of": as_of.isoformat() if as_of else "",
                "sections": sections,
                "rate": {"percent": rate.percent, "on_time": rate.on_time, "counted": rate.counted},
                "recent": recent,
                "problem_files": problem_files,
                "error_count": sum(1 for p in loaded.problems if p.severity == "error"),
                "warning_count": sum(1 for p in loaded.problems if p.severity == "warning"),
                "contact_count": len(model.contacts),
                "upcoming_days": loaded.settings.upcoming_days,
                "missed_count": counts["missed"],
                "missed_href": followup_pages.list_href("missed"),
            }
            return renderer.page("dashboard.html.j2", context).encode("utf-8")

        return Page("index.html", digest, make)

    def _dashboard_cards(
        self, model: Model, update: _Update | None, card: Callable[[FollowUp], Markup],
        key_of: Callable[[FollowUp, str], str],
    ) -> Callable[[], tuple[list[FollowUp], Shown]]:  # fmt: skip
        """The dashboard's cards and what stands for them (`Shown`), made when first asked. An
        update whose contacts show as before takes the last build's cards, making again only
        the changed contacts' own; else the first cards of every section's sorted list."""
        previous = update.previous if update is not None else None
        known = previous.shown if previous is not None and update is not None and update.rows_same else None

        @functools.cache
        def made() -> tuple[list[FollowUp], Shown]:
            changed = update.changed if update is not None else set()
            if known is not None:
                items = [followup_pages.find(model.followups, slug, uid) for _, slug, uid, _ in known.cards]
                tokens = [token if f.contact not in changed else _token(card(f))
                          for f, (_, _, _, token) in zip(items, known.cards, strict=True)]  # fmt: skip
                counts = known.counts
            else:
                listing = self._listing(model)
                items = listing.shown(model.loaded.settings.dashboard_per_section)
                tokens = [_token(card(f)) for f in items]
                counts = listing.counts()
            if previous is not None:
                # An update names the cards it made old (the changed contacts' last ones); the
                # others stay kept (see _Shelf).
                old = previous.model
                self._cards.dead = {
                    key_of(followup_pages.find(old.followups, slug, uid), old.stamps[slug])
                    for _, slug, uid, _ in (previous.shown.cards if previous.shown is not None else ())
                    if slug in changed
                }
            shown = Shown(counts, [(f.status, f.contact, f.uid_key, t) for f, t in zip(items, tokens, strict=True)])
            return items, shown

        self._shown_now = lambda: made()[1]
        return made

    def _contact_list(
        self, model: Model, renderer: Renderer, base: str, row_keys: dict[str, str], tokens: dict[str, str]
    ) -> list[Page]:
        """The contact list's pages. `row_keys`: where each row is kept; `tokens`: what stands for
        each row in the digest (its key, or a hash of its bytes). The first page also lists the
        largest tags and companies; the search form on every page looks through all contacts."""
        browse = {"tags": _largest(model.tags, key=lambda kv: kv[0]),
                  "companies": _largest(model.companies, key=lambda kv: (kv[1][0].casefold(), kv[0])),
                  "tag_total": len(model.tags), "company_total": len(model.companies)}  # fmt: skip
        context = {
            "page_title": "Contacts",
            "nav": "contacts",
            "search_scripts": [f"search-{n:02d}.js" for n in range(SEARCH_PAGES)],
            "count": len(model.order),
        }
        return self._row_pages(
            model, renderer, base, row_keys, tokens, "contacts/index.html", model.order, "contacts.html.j2",
            context, browse,
        )  # fmt: skip

    def _row_pages(
        self, model: Model, renderer: Renderer, base: str, row_keys: dict[str, str], tokens: dict[str, str],
        first: str, members: Sequence[str], template: str, context: dict[str, Any], extra: dict[str, Any],
    ) -> list[Page]:  # fmt: skip
        """A list of contact rows (`members`), in pages of paging.PAGE_ROWS; `context` is what
        every page's template gets besides, `extra` what only the first page gets."""
        parts = paging.chunks(members)

        def page(number: int, slugs: Sequence[str]) -> Page:
            shown = {**context, **extra} if number == 1 else {**context, **dict.fromkeys(extra)}

            def digest() -> str:
                return _hash(base, first, number, len(parts), shown, [tokens[s] for s in slugs])

            def make() -> bytes:
                rows = Markup("".join(self._row(model, renderer, s, row_keys[s]) for s in slugs))
                title = shown["page_title"] + (f" (page {number} of {len(parts)})" if len(parts) > 1 else "")
                values = {**shown, "base": "../", "page_title": title, "rows": rows,
                          "pager": paging.pager(first, number, len(parts))}  # fmt: skip
                return renderer.page(template, values).encode("utf-8")

            return Page(paging.page_path(first, number), digest, make)

        return [page(number, slugs) for number, slugs in enumerate(parts, 1)]

    def _search_pages(
        self, model: Model, base: str, row_keys: dict[str, str], only: set[int] | None = None
    ) -> list[Page]:
        """`contacts/search-NN.js`: what the list's search shows and looks in, per contact
        (`_search_entry`), in SEARCH_PAGES parts by slug (`only`: just these parts). The list
        pages load them once loaded themselves, and search all contacts from any page.

        Scripts (not JSON fetched at run time) so search also works from file://."""
        parts: dict[int, list[str]] = {n: [] for n in range(SEARCH_PAGES)} if only is None else {n: [] for n in only}
        for slug in model.order:
            number = _shard(slug, SEARCH_PAGES)
            if number in parts:
                parts[number].append(slug)
        pages = []
        for number, slugs in sorted(parts.items()):
            pages.append(self._search_page(model, base, row_keys, number, slugs))
        return pages

    def _search_page(self, model: Model, base: str, row_keys: dict[str, str], number: int, slugs: list[str]) -> Page:
        digest = _hash(base, "search", number, [row_keys[s] for s in slugs])

        def make() -> bytes:
            entries = []
            for slug in slugs:
                key = _search_key(slug, row_keys[slug])
                entry = self._search.get(self.writer, key)
                if entry is None:
                    entry = json.dumps(slug, ensure_ascii=False) + ":" + json.dumps(
                        _search_entry(model.contacts[slug]), ensure_ascii=False, separators=(",", ":")
                    )
                    self._search.put(self.writer, key, entry)
                entries.append(entry)
            body = ",\n".join(entries)
            return f"window.TIPSCALE_SEARCH=Object.assign(window.TIPSCALE_SEARCH||{{}},{{{body}}});\n".encode()

        return Page(f"contacts/search-{number:02d}.js", digest, make)

    def _group_pages(
        self,
        model: Model,
        renderer: Renderer,
        base: str,
        row_keys: dict[str, str],
        tokens: dict[str, str],
        kind: str,
        key: str,
        display: str,
        members: list[str],
    ) -> list[Page]:
        context = {
            "page_title": ("Tag: " if kind == "tags" else "") + display,
            "nav": "contacts",
            "kind": kind,
            "display": display,
            "count": len(members),
        }
        return self._row_pages(
            model, renderer, base, row_keys, tokens, f"{kind}/{key}.html", members, "group.html.j2", context, {}
        )

    def _calendar(self, model: Model, base: str, update: _Update | None = None) -> Page:
        """The feed; its events stand in its digest by the sum of their parts (see `_dashboard`)."""
        from .ics import calendar, event

        stamps, today_text = model.stamps, str(model.today)
        settings, today = model.loaded.settings, model.today
        assert self.drafts is not None
        drafts = self.drafts

        def key_of(item: FollowUp, stamp: str) -> str:
            return f"{base}|{stamp}|{item.uid_key}|{item.due.isoformat()}|{item.days}|{today_text}"

        def text(item: FollowUp) -> str:
            key = key_of(item, stamps[item.contact])
            self._events.live.add(key)
            made = self._events.get(self.writer, key)
            if made is None:
                made, failed = event(item, model.contacts[item.contact], settings, today, drafts)
                if not failed:
                    self._events.put(self.writer, key, made)
            return made

        previous = update.previous if update is not None else None
        events = self._events_now = _Fragments.of(
            model, lambda item: item.status != "missed", lambda item: _token(text(item)), update,
            (previous.event_tokens, previous.event_sum) if previous is not None else None, key_of, self._events,
        )  # fmt: skip

        def digest() -> str:
            return _hash(base, "ics", model.today, events.total())

        def make() -> bytes:
            items = [item for item in model.all_followups if item.status != "missed"]
            keys = [key_of(item, stamps[item.contact]) for item in items]
            self._events.live.update(keys)
            view = _ShelfView(self._events, self.writer)
            return calendar(items, model.contacts, settings, today, drafts, view, keys).encode("utf-8")

        return Page("followups.ics", digest, make)


def _stamp_text(file: str, version: Stamp | None) -> str:
    """A contact file's stamp as page digests use it: `file:(size, mtime, inode)`, written out
    (a tuple's repr takes twice as long, ten thousand times over when a plan is restored)."""
    if version is None:
        return f"{file}:"
    return f"{file}:({version[0]}, {version[1]}, {version[2]})"


UNREAD: Stamp = (-1, -1, -1)  # the stamp of a file that could not be read (as the walk takes it)


def _versions(loaded: Loaded, cache: ContactCache) -> dict[str, Stamp]:
    """Each checked file's stamp as the load checked it (a file that could not be read has no
    cache entry: `UNREAD`, or the stamp the walk took)."""
    stamps = loaded.stamps
    if stamps is not None and len(stamps) == loaded.count:
        # The load took every stamp from there, and checked every file it holds (the walk's
        # files, of which `checked` is a part, are as many): no loop over ten thousand files.
        return stamps
    entries = cache.entries
    return {item.file: entries[item.file][0] if item.file in entries else UNREAD for item in loaded.checked}


def _changed_files(versions: dict[str, Stamp], before: dict[str, Stamp]) -> list[str]:
    """The files of `versions` whose stamp is not the one in `before`, in the order of `versions`."""
    try:
        changed = {file for file, _ in versions.items() - before.items()}  # compared in C, not a call per file
    except TypeError:  # a stamp that is not hashable (never one this program saves)
        return [file for file, version in versions.items() if before.get(file) != version]
    if not changed:
        return []
    return [file for file in versions if file in changed]


def _loose(loaded: Loaded, versions: dict[str, Stamp]) -> list[Problem]:
    """The problems of files the load did not check (`versions` holds those it did): a slug a file
    has already, a reserved or non-UTF-8 name; and crm.yaml's. The page of an invalid slug lists
    them, and no stamp of a checked file changes with them: an update compares them."""
    return [p for p in loaded.problems if p.file not in versions]


def _token(text: str) -> str:
    """A fragment named by its bytes, for the digest of a page that joins fragments."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _not_planned() -> bytes:
    raise RuntimeError("a page of an earlier run was made again without being planned")


def _joins_fragments(path: str) -> bool:
    """Pages made from kept fragments: made in this process (not a forked worker), so the
    fragments it makes are kept too."""
    return path in ("index.html", "followups.ics", "contacts/index.html") or path.startswith(
        ("tags/", "companies/", "contacts/search-", "contacts/_index-")
    )


class _ShelfView:
    """A shelf seen as the dict `ics.calendar` keeps its events in."""

    def __init__(self, shelf: _Shelf, writer: Writer) -> None:
        self.shelf, self.writer = shelf, writer

    def get(self, key: str) -> str | None:
        return self.shelf.get(self.writer, key)

    def __setitem__(self, key: str, value: str) -> None:
        self.shelf.put(self.writer, key, value)


def _make_in_worker(index: int) -> tuple[bool, list[Problem]]:
    builder, todo = parallel.shared()
    if not builder.writer.staged and parallel.in_worker():
        builder.writer.stage()  # a folder of its own for new files: the other worker's don't wait
    return builder.make_page(todo[index])  # type: ignore[no-any-return]


BROWSE_LIMIT = 100  # tags and companies the contact list's first page links to, the largest first


def _largest(
    groups: dict[str, tuple[str, list[str]]], key: Callable[[tuple[str, tuple[str, list[str]]]], Any]
) -> list[tuple[str, str, int]]:
    """(slug, name, members) of the BROWSE_LIMIT largest groups (ties: by slug), in `key` order."""
    kept = heapq.nsmallest(BROWSE_LIMIT, groups.items(), key=lambda kv: (-len(kv[1][1]), kv[0]))
    return [(slug, display, len(members)) for slug, (display, members) in sorted(kept, key=key)]


SEARCH_EDGES = "\"'`*_~[](){}<>,.;:!?#|"  # cut off the words of the index (app.js cuts them off the query)


def _search_entry(contact: Contact) -> list[Any]:
    """A contact as the list's search shows it and looks for it (app.js reads these places):
    name, title, company, company slug, tags, tag slugs (null: the tags themselves), the last
    interaction's date, and the other words of the file (location, how we met, the notes, the
    interactions' summaries and what was gained), lower-cased. A query matches when each of its
    words is in one of these, so the index keeps a word once, without the punctuation around it,
    and not when it is part of a longer word kept."""
    parts = [contact.location, contact.how_we_met, contact.body]
    for interaction in contact.interactions:
        parts += [interaction.summary, interaction.gained]
    found = dict.fromkeys(word.strip(SEARCH_EDGES) for word in " ".join(parts).lower().split())
    found.pop("", None)
    kept = ""
    for word in sorted(found, key=len, reverse=True):
        if word not in kept:
            kept += " " + word
    last = contact.last_interaction
    tag_keys = [slugify(t) for t in contact.tags]
    return [
        contact.name, contact.title, contact.company, slugify(contact.company) if contact.company else "",
        list(contact.tags), None if tag_keys == list(contact.tags) else tag_keys,
        last.date.isoformat() if last is not None else "", kept[1:],
    ]  # fmt: skip
