"""Find the CRM root, walk `contacts/`, validate every file, resolve cross-references.

This is the only module that reads contact files. Parsed files are cached by their stamp
`(size, mtime_ns)` in a `ContactCache`, so a long-running server re-reads only what changed.
"""

from __future__ import annotations

import difflib
import functools
import marshal
import os
import stat
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from . import cachefile, parallel, quick
from .model import Contact, HasProblems, Problem, Settings
from .paths import CONTACTS_DIR, SUMMARY_LIMIT, contact_entries, contacts_folder_problem
from .settings import load_settings
from .slugs import MAX_SLUG_BYTES, RESERVED, long_name_problem
from .validate import Checked, Reference, check_file

Delta = tuple[str, list[tuple[str, cachefile.Stamp]]]  # see quick.summary_delta


class Before(NamedTuple):
    """The stamps of the load summary a load started from (`_by_summary`), by their digest, and
    the files whose stamp changed since, in walk order."""

    digest: str
    stamps: dict[str, cachefile.Stamp]
    changed: list[str]


class Loaded(HasProblems):
    """Everything read from a CRM root. Contacts are decoded from the cache on first use."""

    def __init__(
        self,
        root: Path,
        settings: Settings,
        checked: list[Checked] | _Summarised,
        problems: list[Problem],
        files: int,
        invalid: dict[str, list[Problem]],
        slugs: list[str] | None = None,
    ) -> None:
        self.root = root
        self.settings = settings
        # One per unique slug, in file order; or, for a load from the last one's summary, what
        # makes them when first wanted (an update after one edit wants a few of them).
        self._checked = checked if isinstance(checked, list) else None
        self._summarised = checked if not isinstance(checked, list) else None
        self.slugs = slugs  # each checked file's slug, in the same order (None: not known)
        self.problems = problems  # every problem, sorted by file, line, column
        self.files = files  # contact files read
        self.invalid = invalid  # slug → errors, for files that could not be read as a contact
        # The caller's stamps (`ContactCache.prime`), when this load took every file's from there
        # and so checked every file it holds against exactly those.
        self.stamps: dict[str, cachefile.Stamp] | None = None
        # (digest, bytes) of `stamps` as the load summary saved them (marshal): the plan keeps the
        # same stamps (site.py), and writes these very bytes.
        self.saved_stamps: tuple[str, bytes] | None = None
        # For a load from the summary: the stamps it was made with, and the files changed since.
        self.before: Before | None = None
        self._contacts: list[Contact] | None = None

    @property
    def checked(self) -> list[Checked]:
        """Each checked file's result, one per unique slug, in file order."""
        if self._checked is None:
            assert self._summarised is not None
            self._checked = self._summarised.checked()
        return self._checked

    @property
    def from_summary(self) -> bool:
        """Made from the last load's summary (`_by_summary`), its unchanged files' results taken
        from the parse cache when wanted."""
        return self._summarised is not None

    @property
    def count(self) -> int:
        """How many files were checked (`len(checked)`, without making them)."""
        if self._checked is None:
            assert self._summarised is not None
            return self._summarised.count()
        return len(self._checked)

    @property
    def contacts(self) -> list[Contact]:
        """Valid contacts, sorted by slug."""
        if self._contacts is None:
            found = [c.contact for c in self.checked if c.valid]
            self._contacts = sorted((c for c in found if c is not None), key=lambda c: c.slug)
        return self._contacts

    @property
    def valid_count(self) -> int:
        return sum(1 for c in self.checked if c.valid)

    def by_slug(self) -> dict[str, Contact]:
        return {c.slug: c for c in self.contacts}

    def sources(self) -> Mapping[str, Checked]:
        """The valid files' results by slug, in file order (a contact's slug is its file's name)."""
        if self._checked is None and self._summarised is not None:
            return self._summarised
        if self.slugs is None or len(self.slugs) != len(self.checked):
            return {item.file.rsplit("/", 1)[-1][:-3]: item for item in self.checked if item.valid}
        # As above, without a call per file: a file is invalid exactly when its slug is in `invalid`.
        found = dict(zip(self.slugs, self.checked, strict=True))
        for slug in self.invalid:
            found.pop(slug, None)
        return found


class ContactCache:
    """Parsed files by path, valid while the file's (size, mtime_ns, inode) and the settings stay
    the same. With `persist` set to a CRM root, it is read from and saved to that root's
    `.tipscale/` (cachefile.py), so a second command-line run re-reads only what changed. The
    saved entries are read when first wanted, and only the shards wanted (`entry`, `put`) until
    `entries` is asked for whole."""

    def __init__(self, persist: Path | None = None) -> None:
        self._entries: dict[str, tuple[cachefile.Stamp, Checked]] = {}
        self._read: set[int] | None = None  # the shards read so far, while not all of them are
        self.settings: Settings | None = None
        self.persist = persist
        self.touched: set[str] = set()  # files put or forgotten since the last save
        self.autosave = True  # save after every load; the server turns it off and saves when it stops
        self.store: cachefile.Store | None = None
        # The last full walk of contacts/ (absolute path, relative path), so a caller that knows
        # which files changed (the live server's watcher) can skip stat-ing the other ten thousand.
        self.walk: Sequence[tuple[str, str]] | None = None
        # Reference problems of each file's last result, valid while the names and slugs are the same.
        self.ref_names: dict[str, str] = {}
        self.ref_slugs: frozenset[str] = frozenset()
        self.ref_problems: dict[str, tuple[Checked, list[Problem]]] = {}
        self.last: _Last | None = None  # the last load's result, for a load told which files changed
        # A walk of contacts/ with every file's stamp that the caller made just before (`crm build`
        # fingerprints its inputs first): the next full load uses them instead of asking again.
        self.primed: tuple[Sequence[tuple[str, str]], dict[str, cachefile.Stamp]] | None = None
        self.primed_delta: Delta | None = None

    @property
    def entries(self) -> dict[str, tuple[cachefile.Stamp, Checked]]:
        """Every entry: rel → (stamp, check result)."""
        if self._read is not None and self.store is not None:
            found = self.store.read([n for n in range(cachefile.SHARDS) if n not in self._read])
            found.update(self._entries)  # those read or put already (a put one is newer)
            self._entries = found
        self._read = None
        return self._entries

    def _read_shards_of(self, rels: Collection[str]) -> None:
        store, done = self.store, self._read
        if done is None or store is None:
            return
        numbers = {store.number_of(rel) for rel in rels} - done
        if numbers:
            for rel, entry in store.read(sorted(numbers)).items():
                self._entries.setdefault(rel, entry)
            done.update(numbers)

    def entry(self, rel: str) -> tuple[cachefile.Stamp, Checked] | None:
        """File `rel`'s entry (reading only its shard, while not all are read)."""
        self._read_shards_of((rel,))
        return self._entries.get(rel)

    def prime(self, walk: Sequence[tuple[str, str]], stamps: dict[str, cachefile.Stamp],
              delta: Delta | None = None) -> None:  # fmt: skip
        """The next full load uses this walk and these stamps (and `delta`, see `_by_summary`)."""
        self.primed = (walk, stamps)
        self.primed_delta = delta

    def use_settings(self, settings: Settings) -> None:
        if settings == self.settings:
            return
        self.settings = settings
        root = self.persist
        if root is None:
            self.store = None
        else:

            def reread(rel: str) -> Contact | None:
                try:
                    data = (root / rel).read_bytes()
                except OSError:
                    return None
                return check_file(data, rel, rel.rsplit("/", 1)[-1][:-3], settings).contact

            self.store = cachefile.Store(root, settings, reread)
        self._entries = {}
        self._read = set() if self.store is not None else None  # read when wanted
        self.walk = None  # entries read from disk must be checked against their files
        self.touched = set()

    def get(self, path: Path, rel: str, slug: str, settings: Settings) -> Checked:
        self.use_settings(settings)
        stamp, hit = self.lookup(str(path), rel)
        if hit is not None:
            return hit
        checked = check_path(str(path), rel, slug, settings)
        if not _unreadable(checked):
            self.put(rel, stamp, checked)
        return checked

    def lookup(
        self, path: str, rel: str, known: dict[str, cachefile.Stamp] | None = None
    ) -> tuple[cachefile.Stamp, Checked | None]:
        """The file's current stamp (from `known` if there), and its cached result if that is
        still valid."""
        stamp = known.get(rel) if known is not None else None
        if stamp is None:
            try:
                stat = os.stat(path)
                stamp = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
            except OSError:
                stamp = (-1, -1, -1)
        hit = self.entry(rel)
        if hit is not None and hit[0] == stamp and stamp[0] >= 0:
            return stamp, hit[1]
        return stamp, None

    def put(self, rel: str, stamp: cachefile.Stamp, checked: Checked) -> None:
        self._read_shards_of((rel,))  # its shard is saved again whole: read it first
        self._entries[rel] = (stamp, checked)
        self.touched.add(rel)

    def forget_except(self, live: set[str]) -> None:
        for rel in [r for r in self.entries if r not in live]:
            del self.entries[rel]
            self.touched.add(rel)

    def save(self) -> None:
        """Write the shards in which a file changed. (Here, not in a child process: after one
        edit that takes a few ms, and a child alive while this process goes on would make it
        copy every memory page it touches, which cost as much.)"""
        # Every file put or forgotten had its shard read (put, forget_except): those written.
        if self.store is not None and self.touched and self.store.write(self._entries, self.touched):
            self.touched = set()


UNREADABLE = "cannot read the file"


MAX_FILE_BYTES = 5 * 1024 * 1024  # a contact file beyond this is an error, never read whole


def read_contact_file(path: str) -> bytes | str:
    """The bytes of a contact file, or why they cannot be had: only a regular file is read (a
    FIFO would wait for a writer forever, a link to /dev/zero never end), and only up to
    MAX_FILE_BYTES."""
    try:
        # O_NONBLOCK: a FIFO opens at once instead of waiting for a writer (no effect on files).
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                return "not a regular file (a FIFO, device or socket); a contact must be a plain .md file"
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return str(exc.strerror)
    if len(data) > MAX_FILE_BYTES:
        return f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; a contact file is a page of text: split or trim it"
    return data


def check_path(path: str, rel: str, slug: str, settings: Settings) -> Checked:
    data = read_contact_file(path)
    if isinstance(data, str):
        return Checked(rel, None, (Problem(rel, 1, 1, "error", "", f"{UNREADABLE}: {data}"),), ())
    return check_file(data, rel, slug, settings)


def _utf8(name: str) -> bool:
    """Whether a path from the file system is valid UTF-8 (else it holds surrogate escapes,
    which no page, link or JSON file can carry)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unreadable(checked: Checked) -> bool:
    """A result that says only that the file could not be read: never kept in the cache (the
    file may be readable, or back, with the same stamp next time)."""
    problems = checked.problems
    return len(problems) == 1 and not checked.valid and problems[0].message.startswith(UNREADABLE + ":")


def _check_in_worker(item: tuple[str, str, str]) -> Checked | tuple[Any, ...]:
    """In a forked worker, what the parent needs, small: the contact travels back as the record
    the parse cache saves (one bytes object, not thousands of objects to pickle and rebuild),
    and is decoded in the parent only if a command wants it."""
    settings, parent = parallel.shared()
    checked = check_path(item[0], item[1], item[2], settings)
    if os.getpid() == parent:
        return checked
    contact = checked.contact
    record = None if contact is None else cachefile.encode_contact(contact)
    return (checked.problems, checked.references, checked.name, record)


def _from_worker(rel: str, result: Checked | tuple[Any, ...]) -> Checked:
    if isinstance(result, Checked):
        return result
    problems, references, name, record = result
    if record is None:
        return Checked(rel, None, problems, references, name=name)
    checked = Checked(rel, None, problems, references, name=name, source=functools.partial(cachefile.decode_contact, record))
    checked.saved = record
    return checked


def _walk(
    root: Path, cache: ContactCache, changed: Collection[str] | None
) -> tuple[Sequence[tuple[str, str]], set[str] | None]:
    """The contact files, and which of them to stat (None: all). With `changed` (paths relative
    to the root that a file watcher saw change) and an earlier walk, the earlier walk is reused
    when no contact file was added or removed, and only the changed files are looked at again."""
    previous = cache.walk
    if cache.primed is not None and changed is None:
        cache.walk = cache.primed[0]
        return cache.walk, None
    if changed is not None and previous is not None and cache.entries:
        known = {rel for _, rel in previous}
        recheck: set[str] = set()
        for rel in changed:
            if rel == CONTACTS_DIR:
                break  # the folder itself was made, moved or replaced: walk again
            if not rel.startswith(CONTACTS_DIR + "/"):
                continue  # crm.yaml, templates: not contact files
            exists = os.path.isfile(root / rel)
            if not rel.endswith(".md") or exists != (rel in known):
                break  # a folder, or a file added or removed: walk again
            recheck.add(rel)
        else:
            return previous, recheck
    cache.walk = list(contact_entries(root))
    return cache.walk, None


@dataclass
class _Last:
    """What the last load found, in pieces a load told which files changed can patch."""

    entries: Sequence[tuple[str, str]]  # the walk it used (by identity)
    settings: Settings
    checked: list[Checked]
    position: dict[str, int]  # file → its index in `checked`
    walk_problems: list[Problem]  # reserved names, duplicate slugs
    files: int
    slugs: frozenset[str]
    names: dict[str, str]
    invalid: dict[str, list[Problem]]
    item_problems: list[Problem]
    ref_problems: list[Problem]
    order: list[str]  # the slug of each of `checked`, in its order


def _update(root: Path, cache: ContactCache, last: _Last, recheck: set[str], settings: Settings,
            problems: list[Problem]) -> Loaded | None:  # fmt: skip
    """The last load patched for the files in `recheck` (the server's rebuild after a save),
    without a loop over every file; None when a change reaches further (a name, a file that
    is or was invalid, a duplicate): then the caller loads in full."""
    checked = list(last.checked)
    changes: list[Checked] = []
    for rel in sorted(recheck):
        index = last.position.get(rel)
        if index is None:
            return None
        old = checked[index]
        path = os.path.join(str(root), *rel.split("/"))
        stamp, hit = cache.lookup(path, rel)
        if hit is None:
            hit = check_path(path, rel, rel.rsplit("/", 1)[-1][:-3], settings)
            if _unreadable(hit):
                return None  # gone or unreadable: a full load sees what is there
            cache.put(rel, stamp, hit)
        if not (old.valid and hit.valid) or hit.name != old.name:
            return None
        checked[index] = hit
        changes.append(hit)
    if cache.autosave:
        cache.save()
    item_problems = [p for p in last.item_problems if p.file not in recheck]
    ref_problems = [p for p in last.ref_problems if p.file not in recheck]
    known = functools.cache(lambda: sorted(last.slugs))
    nowhere = _nowhere(changes, last.slugs, last.names)
    for item in changes:
        item_problems.extend(item.problems)
        found = _unresolved(item, nowhere, known)
        cache.ref_problems[item.file] = (item, found)
        ref_problems.extend(found)
    cache.last = _Last(
        last.entries, settings, checked, last.position, last.walk_problems, last.files, last.slugs,
        last.names, last.invalid, item_problems, ref_problems, last.order,
    )  # fmt: skip
    problems.extend(last.walk_problems + item_problems + ref_problems)
    problems.sort(key=lambda p: (p.file, p.line, p.column, p.severity, p.message))
    return Loaded(root, settings, checked, problems, last.files, last.invalid, last.order)


PlainProblem = tuple[str, int, int, str, str, str]


def _plain(problems: list[Problem]) -> list[PlainProblem]:
    return [(p.file, p.line, p.column, p.severity, p.field, p.message) for p in problems]


class _Summary:
    """What a full load found, saved for the next command-line build (cachefile's SUMMARY): the
    stamp of every contact file walked, the checked ones' slugs, the problems, names and invalid
    files. A build after a few edits (`_by_summary`) starts from it."""

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
           invalid: dict[str, list[Problem]]) -> _Summary:  # fmt: skip
        moved = {slug: item.file for slug, item in zip(order, checked, strict=True) if item.file != f"{CONTACTS_DIR}/{slug}.md"}
        return _Summary(stamps, order, moved, count, *problems, names, invalid)

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
    def decode(saved: tuple[Any, Any, Any] | None) -> _Summary | None:
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
            return _Summary(
                data, order, moved, count, [Problem(*p) for p in walk], [Problem(*p) for p in items],
                [Problem(*p) for p in refs], names, invalid, digest,
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


class _Summarised(Mapping[str, Checked]):
    """The checked files of a load made from the last load's summary (`_by_summary`): the valid
    ones by slug, each taken from its parse-cache entry when first asked for (which reads only its
    shard), and every one (`checked`) when a caller wants them all."""

    def __init__(self, root: Path, cache: ContactCache, settings: Settings, summary: _Summary,
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


def _changed_since(summary: _Summary, stamps: dict[str, cachefile.Stamp],
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


def _by_summary(root: Path, cache: ContactCache, settings: Settings, problems: list[Problem],
                stamps: dict[str, cachefile.Stamp], delta: Delta | None = None) -> Loaded | None:  # fmt: skip
    """A command-line load after a few edits, from the summary of the last full load: only the
    files whose stamp changed are read, checked and resolved (as the server's `_update` does),
    and the others' results are taken from the parse cache when wanted. `stamps` are every
    walked file's, just taken. None when there is no summary of these settings, a file came or
    went, many changed, or a change reaches further (a name, a file that is or was invalid, a
    parse cache that is not the one summarised): then the caller loads in full."""
    store = cache.store
    summary = _Summary.decode(store.read_summary()) if store is not None else None
    found = _changed_since(summary, stamps, delta) if summary is not None else None
    if summary is None or found is None or len(found[1]) > SUMMARY_LIMIT:
        return None
    then, changed = found
    sources = _Summarised(root, cache, settings, summary, stamps)
    changes: list[Checked] = []
    for rel in changed:
        slug = rel.rsplit("/", 1)[-1][:-3]
        if slug not in sources.slugs or summary.file_of(slug) != rel or slug in summary.invalid:
            return None  # a file the load did not check (a duplicate slug), or an invalid one
        old = cache.entry(rel)
        if old is None or old[0] != then[rel]:
            return None  # the parse cache's entry is not the one summarised (a run in between)
        hit = check_path(os.path.join(str(root), *rel.split("/")), rel, slug, settings)
        if _unreadable(hit) or not (old[1].valid and hit.valid) or hit.name != old[1].name:
            return None
        cache.put(rel, stamps[rel], hit)
        sources.made[slug] = hit
        changes.append(hit)
    if cache.autosave:
        cache.save()
    gone = set(changed)
    items = [p for p in summary.items if p.file not in gone]
    refs = [p for p in summary.refs if p.file not in gone]
    slugs = sources.slugs
    known = functools.cache(lambda: sorted(slugs))
    nowhere = _nowhere(changes, slugs, summary.names)
    for item in changes:
        items.extend(item.problems)
        refs.extend(_unresolved(item, nowhere, known))
    problems.extend(summary.walk + items + refs)
    problems.sort(key=lambda p: (p.file, p.line, p.column, p.severity, p.message))
    loaded = Loaded(root, settings, sources, problems, summary.count, summary.invalid, summary.order)
    loaded.stamps = stamps
    loaded.before = Before(summary.digest, then, changed)
    if changed and store is not None and cache.autosave:
        _Summary(stamps, summary.order, summary.moved, summary.count, summary.walk, items, refs,
                 summary.names, summary.invalid).save(store, loaded)  # fmt: skip
    return loaded


def load(
    root: Path,
    cache: ContactCache | None = None,
    changed: Collection[str] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> Loaded:
    """Read and check every contact file (through `cache`). `changed`, when given, lists the
    only paths (relative to root) that may have changed since the last load with this cache.
    `meanwhile`, if given, may run in this process while workers parse (optional work: a load
    that parses nothing may skip it)."""
    settings, problems = load_settings(root)
    folder_problem = contacts_folder_problem(root)
    if folder_problem is not None:
        problems = [*problems, Problem(CONTACTS_DIR, 1, 1, "error", "", folder_problem)]
    cache = cache if cache is not None else ContactCache()
    seen: dict[str, str] = {}
    cache.use_settings(settings)
    slots: list[Checked | None] = []
    misses: list[tuple[int, cachefile.Stamp, tuple[str, str, str]]] = []
    entries, recheck = _walk(root, cache, changed)
    known = cache.primed[1] if cache.primed is not None and cache.walk is cache.primed[0] else None
    delta, cache.primed, cache.primed_delta = cache.primed_delta, None, None
    last = cache.last
    if known is not None and recheck is None and last is None and cache.store is not None:
        summarised = _by_summary(root, cache, settings, list(problems), known, delta)
        if summarised is not None:
            return summarised
    if recheck is not None and last is not None and last.entries is entries and last.settings == settings:
        quick = _update(root, cache, last, recheck, settings, list(problems))
        if quick is not None:
            return quick
    settings_problems = list(problems)
    cached = cache.entries
    live = {rel for _, rel in entries}
    files = len(live)
    all_utf8 = _utf8("".join(live))  # one check for all names (nearly always so)
    stamps = known if known is not None else {}
    for path, rel in entries:
        slug = rel.rsplit("/", 1)[-1][:-3]
        if not all_utf8 and not _utf8(rel):
            shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            problems.append(Problem(shown, 1, 1, "error", "", "the file name is not valid UTF-8; rename the file"))
            continue
        if len(slug) > MAX_SLUG_BYTES // 4 and (too_long := long_name_problem(slug)):
            problems.append(Problem(rel, 1, 1, "error", "", too_long))
            continue
        if slug in RESERVED:
            message = f"'{slug}' is the name of the contact list's page; rename the file (e.g. {slug}-1.md)"
            problems.append(Problem(rel, 1, 1, "error", "", message))
            continue
        if slug in seen:
            message = f"duplicate slug '{slug}': {seen[slug]} has the same file name; rename one"
            problems.append(Problem(rel, 1, 1, "error", "", message))
            continue
        seen[slug] = rel
        if recheck is not None and rel not in recheck and rel in cached:
            slots.append(cached[rel][1])
            continue
        # The stamp taken by the caller's walk, when it matches the cached one (as `lookup`,
        # without a call per file: this loop runs for every file).
        stamp = stamps.get(rel)
        entry = cached.get(rel)
        if stamp is not None and entry is not None and entry[0] == stamp and stamp[0] >= 0:
            slots.append(entry[1])
            continue
        stamp, hit = cache.lookup(path, rel, known)
        if hit is None:
            misses.append((len(slots), stamp, (path, rel, slug)))
        slots.append(hit)
    # A cold run parses thousands of files: use both cores for that.
    parallel.share((settings, os.getpid()))
    results = parallel.fork_map(_check_in_worker, [m[2] for m in misses], chunksize=128, meanwhile=meanwhile)
    for (index, stamp, (path, rel, slug)), result in zip(misses, results, strict=True):
        checked_file = _from_worker(rel, result)
        if _unreadable(checked_file):
            if not os.path.lexists(path):  # removed since the walk (an editor's save, say): not there
                known = None  # so the stamps taken then are not all this load's
                files -= 1
                live.discard(rel)
                del seen[slug]
                continue
        else:
            cache.put(rel, stamp, checked_file)
        slots[index] = checked_file
    checked = [c for c in slots if c is not None]
    if len(cached) != len(live):
        cache.forget_except(live)
    if cache.autosave:
        cache.save()

    walk_problems = problems[len(settings_problems):]
    invalid: dict[str, list[Problem]] = {}
    item_problems: list[Problem] = []
    for item in checked:
        item_problems.extend(item.problems)
        if not item.valid:
            invalid[item.file.rsplit("/", 1)[-1][:-3]] = [p for p in item.problems if p.severity == "error"]
    order = list(seen)  # each checked file's slug: `seen` lost the files `checked` lost
    names: dict[str, str] = {}
    for slug, item in zip(order, checked, strict=True):
        if item.name is not None:
            names.setdefault(item.name.casefold(), slug)
    slugs = frozenset(seen)
    ref_problems = _resolve_cached(cache, checked, names, slugs)
    position = {item.file: index for index, item in enumerate(checked)}
    cache.last = _Last(
        entries, settings, checked, position, walk_problems, files, slugs, names, invalid, item_problems,
        ref_problems, order,
    )  # fmt: skip
    problems.extend(item_problems + ref_problems)
    problems.sort(key=lambda p: (p.file, p.line, p.column, p.severity, p.message))
    loaded = Loaded(root, settings, checked, problems, files, invalid, order)
    if known is not None and recheck is None:
        loaded.stamps = known  # every stamp looked up above came from there
        if cache.store is not None and cache.autosave:  # for the next command-line build
            summary = _Summary.of(known, checked, order, files, (walk_problems, item_problems, ref_problems), names, invalid)
            summary.save(cache.store, loaded)
    return loaded


def name_index(contacts: list[Contact]) -> dict[str, str]:
    """Lower-cased full name → slug (first one wins), for `[[Full Name]]` links."""
    index: dict[str, str] = {}
    for contact in contacts:
        index.setdefault(contact.name.casefold(), contact.slug)
    return index


def resolve_link(target: str, slugs: AbstractSet[str], names: dict[str, str]) -> str | None:
    if target in slugs:
        return target
    return names.get(target.casefold())


def _resolve_cached(
    cache: ContactCache, checked: list[Checked], names: dict[str, str], slugs: frozenset[str]
) -> list[Problem]:
    """`with:` slugs that do not exist are errors; unresolved `[[links]]` are warnings. Each
    file's answer is remembered while names and slugs stay the same (a rebuild in the server
    resolves only the files that changed). `names` maps lower-cased full names to slugs."""
    if names != cache.ref_names or slugs != cache.ref_slugs:
        cache.ref_names, cache.ref_slugs, cache.ref_problems = names, slugs, {}
    memo = cache.ref_problems
    known = functools.cache(lambda: sorted(slugs))
    fresh = not memo  # a new cache, or new names: every file (one command-line run)
    stale = checked if fresh else [item for item in checked if (hit := memo.get(item.file)) is None or hit[0] is not item]
    nowhere = _nowhere(stale, slugs, names)
    if nowhere:
        for item in stale:
            memo[item.file] = (item, _unresolved(item, nowhere, known) if item.references else [])
    else:  # nearly always: every link leads somewhere
        memo.update({item.file: (item, []) for item in stale})
        if fresh:
            return []
    problems = [problem for item in checked for problem in memo[item.file][1]]
    if len(memo) > len(checked):
        live = {item.file for item in checked}
        for file in [f for f in memo if f not in live]:
            del memo[file]
    return problems


def _nowhere(items: list[Checked], slugs: AbstractSet[str], names: dict[str, str]) -> set[str]:
    """The targets of these files' references that lead to no contact (each target looked up
    once: ten thousand files share most of theirs)."""
    targets = Checked.all_targets(items)
    return {target for target in targets.difference(slugs) if target.casefold() not in names}  # as resolve_link


def _unresolved(item: Checked, nowhere: AbstractSet[str], known: Callable[[], list[str]]) -> list[Problem]:
    """Problems for the file's references that lead to no contact (`nowhere`: such targets;
    `known`: every slug, sorted, for "did you mean", made only when one is needed)."""
    if not nowhere:
        return []
    return [_reference_problem(ref, item.file, known()) for ref in item.references if ref.target in nowhere]


def _reference_problem(ref: Reference, file: str, known: list[str]) -> Problem:
    near = difflib.get_close_matches(ref.target, known, n=1, cutoff=0.6)
    hint = f"; did you mean {near[0]}?" if near else ""
    if ref.kind == "with":
        return Problem(file, ref.line, ref.column, "error", ref.field, f"no contact '{ref.target}'{hint}")
    return Problem(
        file, ref.line, ref.column, "warning", ref.field, f"[[{ref.target}]] links to no contact{hint}"
    )
