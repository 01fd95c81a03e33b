"""What a site builder keeps between builds: its state (`BuilderState`), the shelves of
fragments named by their inputs (`Shelf`), and what an update takes from the last build."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import marshal
import zlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from . import plan
from .cachefile import Stamp
from .checked import Checked
from .contactcache import ContactCache
from .drafts import Draft, DraftError, NoteRenderer
from .followup_pages import Listing, Shown
from .gitlog import Commit, PendingHistories
from .load import Loaded
from .model import Contact, FollowUp, Problem, Settings
from .pages import Page
from .render import Renderer
from .sitemodel import Model
from .write import STATE_DIR, Writer


class DraftCache(NoteRenderer):
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


class Tokens(dict[str, str]):
    """Row tokens computed when first wanted (a cold build renders the rows with the list page,
    while the workers render contact pages, not before)."""

    def __init__(self, compute: Callable[[str], str]) -> None:
        super().__init__()
        self.compute = compute

    def __missing__(self, slug: str) -> str:
        value = self[slug] = self.compute(slug)
        return value


SHELF_SHARDS = 16


SEARCH_PAGES = SHELF_SHARDS  # the list's search index is split so that an edit rewrites a sixteenth of it


LEGACY_STATE = ("fragments.json", "cards.json", "events.json")  # single files of earlier versions


LEGACY_SHELVES = ("rows", "search", "cards", "events")  # kept as NAME-NN.json before


def legacy_state(name: str) -> bool:
    """A file of `.tipscale/` that only earlier versions wrote (removed when a plan is saved)."""
    return name in LEGACY_STATE or (name.endswith(".json") and name.rpartition("-")[0] in LEGACY_SHELVES)


def shard_number(key: str, count: int) -> int:
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % count


def search_key(slug: str, row_key: str) -> str:
    return f"{slug}\0{row_key}"


def search_part_of_key(key: str) -> int:
    return shard_number(key.partition("\0")[0], SEARCH_PAGES)


class Shelf:
    """Fragments (list rows, search entries, dashboard cards, calendar events) named by everything
    they depend on, so an old one is never wrong. Kept in memory and, between command-line runs,
    in `.tipscale/NAME-NN.bin` in the output folder (`marshal`, like the plan's parts: a shard of
    half a megabyte took 4 ms to write as JSON): sixteen files by key, each read when one of its
    keys is wanted and written when it changed (a long-lived builder writes them on flush)."""

    def __init__(self, name: str, shard_of: Callable[[str], int] | None = None) -> None:
        self.name = name
        self.shard_of = shard_of if shard_of is not None else (lambda key: shard_number(key, SHELF_SHARDS))
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

    def use(self, writer: Writer, key: str, make: Callable[[], tuple[str, bool]]) -> str:
        """The fragment under `key`, in use by this build: the one kept, else `make()`'s
        (text, keep?), kept when it says so (a fragment showing an error is made again)."""
        self.live.add(key)
        value = self.get(writer, key)
        if value is None:
            value, keep = make()
            if keep:
                self.put(writer, key, value)
        return value

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


class ShelfView:
    """A shelf seen as the dict `ics.calendar` keeps its events in."""

    def __init__(self, shelf: Shelf, writer: Writer) -> None:
        self.shelf, self.writer = shelf, writer

    def get(self, key: str) -> str | None:
        return self.shelf.get(self.writer, key)

    def __setitem__(self, key: str, value: str) -> None:
        self.shelf.put(self.writer, key, value)


@dataclass
class Previous:
    """What the last build of this process planned, for updating instead of planning again."""

    model: Model
    pages: Mapping[str, Page]  # by path
    key: tuple[Any, ...]  # (base digest, today, the real date, git HEAD)
    invalid: dict[str, list[Problem]]
    loose: list[Problem]  # see loose_problems
    row_keys: dict[str, str]
    row_tokens: dict[str, str]
    shown: Shown | None  # what the dashboard showed (None: not known, list every follow-up again)
    event_tokens: dict[str, str]  # follow-up → hash of its calendar event
    event_sum: int | None = None  # the sum of the calendar's events' parts (see Fragments)


@dataclass
class Update:
    """What an update of the dashboard or the calendar takes from the last build: its plan, and
    the contacts planned again."""

    previous: Previous
    changed: set[str]
    rows_same: bool = False  # the changed contacts' follow-ups show as before in every list (same_rows)


FRAGMENT_SUM = 1 << 128  # fragment parts are summed modulo this


def fragment_part(item: FollowUp, token: str) -> int:
    data = f"{item.uid_key}\x1f{item.status}\x1f{item.days}\x1f{token}".encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=16).digest(), "big")


class Fragments:
    """The fragments a page joins, one per follow-up (dashboard cards, calendar events): each
    one's token (a hash of its bytes) and the sum of their parts (`fragment_part`: the
    follow-up's key, status, days and token), which stands in the page's digest. The order they
    show in follows from what they are (sort_key), so their sum is all a digest needs; and an
    update adds the parts of the contacts it planned again and takes their old ones away,
    instead of hashing every follow-up."""

    def __init__(self, tokens: Callable[[], dict[str, str]], total: Callable[[], int]) -> None:
        self.all_tokens = tokens  # every follow-up's token, made when asked
        self.total = functools.cache(total)

    @staticmethod
    def empty() -> Fragments:
        return Fragments(dict, int)

    @staticmethod
    def of(
        model: Model,
        keep: Callable[[FollowUp], bool],
        token: Callable[[FollowUp], str],
        update: Update | None,
        reuse: tuple[dict[str, str], int | None] | None,
        key_of: Callable[[FollowUp, str], str],
        shelf: Shelf,
    ) -> Fragments:
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
                    total -= fragment_part(f, tokens.pop(f.uid_key))
                shelf.dead = {key_of(f, old_model.stamps[f.contact]) for f in old}
                new = [f for slug in changed for f in model.followups.get(slug, ()) if keep(f)]
                made = {f.uid_key: token(f) for f in new}
                tokens.update(made)
                total = (total + sum(fragment_part(f, made[f.uid_key]) for f in new)) % FRAGMENT_SUM
                return Fragments(lambda: tokens, lambda: total)
        items = [f for f in model.all_followups if keep(f)]  # a full plan (or a last plan without a sum)
        by_uid = {f.uid_key: f for f in items}
        computed = Tokens(lambda uid: token(by_uid[uid]))
        return Fragments(
            lambda: {uid: computed[uid] for uid in by_uid},
            lambda: sum(fragment_part(f, computed[f.uid_key]) for f in items) % FRAGMENT_SUM,
        )


def bytes_token(text: str) -> str:
    """A fragment named by its bytes, for the digest of a page that joins fragments."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class BuilderState:
    """Everything a site builder keeps between builds, in one place: the output folder's
    manifest, the parse cache, memos of what was derived from unchanged inputs, the fragment
    shelves and the last build's plan. The layers above (ContactPages, ListPages, SiteModels,
    PlanStore, SiteBuilder) only add methods."""

    def __init__(self, root: Path, out: Path, today: dt.date | None = None) -> None:
        self.root = root
        self.out = out
        self.today = today
        self.cache = ContactCache()
        self.writer = Writer(out)
        self.manifest: dict[str, str] | None = None
        self.meta: dict[str, Any] = {}  # the last build's site key and the problems only a build finds
        self._rows = Shelf("rows")  # list rows, by row key
        # Search entries, by slug and row key, kept with the other entries of their search part
        # (remaking one part of the search index reads one file of them).
        self._search = Shelf("search", search_part_of_key)
        self.notes_html: dict[str, Markup] = {}
        self.head: str | None = None
        self.histories: Mapping[str, list[Commit]] = {}
        self.renderer: Renderer | None = None
        self.drafts: DraftCache | None = None
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
        self._base = ""  # the base digest of the build in progress (`_base_digest`)
        self._apps_key = ""  # a digest of every job application (sitejobs.digests)
        self._app_stamps: dict[str, str] = {}  # contact slug → a digest of its applications
        # In-process memos for rebuilds while serving: what was derived from unchanged inputs.
        self._followups_for: tuple[Settings, dt.date] | None = None
        self._followups_memo: dict[str, tuple[str, list[FollowUp]]] = {}
        self._rate_memo: dict[str, tuple[str, int, int]] = {}
        self._page_memo: dict[str, tuple[tuple[Any, ...], str]] = {}
        self._row_memo: dict[str, tuple[tuple[str, str], str]] = {}
        self._row_keys_now: dict[str, str] = {}  # slug → the key its list row is kept under
        self._row_tokens_now: dict[str, str] = {}  # slug → what list-page digests use for its row
        self._shown_now: Callable[[], Shown | None] = lambda: None  # the dashboard's cards in this build
        self._events_now = Fragments.empty()  # the calendar's events in this build
        self._listing_of: tuple[Model, Listing] | None = None  # this build's follow-ups by section
        self._key_memo: dict[str, tuple[Checked, int]] = {}  # file → (check result, its part of the site key)
        self._written = self._skipped = 0  # counters of the build in progress
        self._head_now: str | None = None  # git's HEAD as this build found it
        self._histories_partial = False  # self.histories came from a saved plan
        self._pending_histories: PendingHistories | None = None  # git log started early (a cold build)
        # Dashboard cards and calendar events of unchanged follow-ups (in-process only).
        self._cards = Shelf("cards")
        self._events = Shelf("events")
        self._previous: Previous | None = None  # the last build's model and plan
        self._plan_files: dict[str, tuple[str, Any]] = {}  # part of the saved plan → (file, value as read)
        # The live server's builder: its first build plans every page (so the first save only
        # updates the plan), and the manifest is saved by `flush()` instead of after every build.
        self.long_lived = False
        # The live server's rebuilds: what to hold its readers off with while a build's files
        # move into place (`LiveState.swapping`). Set, a build writes aside and publishes at its
        # end, so the server serves the last complete build while the next one runs.
        self.swap: Callable[[], AbstractContextManager[object]] | None = None
        self._manifest_saved: set[str] | None = None  # pages of the manifest as last saved (long-lived)
        self._manifest_unsaved = False
