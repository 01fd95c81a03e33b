"""The parse cache of contact files (`ContactCache`): each file's check result by its stamp, in
memory and in the CRM root's `.tipscale/`, with what the last load found (`Last`)."""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import cachefile
from .checked import Checked
from .contactfile import check_path, unreadable
from .model import Contact, Problem, Settings
from .validate import check_file

Delta = tuple[str, list[tuple[str, cachefile.Stamp]]]  # see quick.summary_delta


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
        self.last: Last | None = None  # the last load's result, for a load told which files changed
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
        """The next full load uses this walk and these stamps (and `delta`, see load.py's
        `_by_summary`)."""
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
        if not unreadable(checked):
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


@dataclass
class Last:
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
