"""The parse cache between command-line runs, in `<root>/.tipscale/`.

Each contact file's stamp and what validating it produced, kept with `marshal`, which reads
plain values (str, int, None, tuple, dict) back in the shapes used here twice as fast as JSON
and never runs anything (never pickle): the index (stamps, names, problems, references: read on
every run) and each parsed contact as a marshal record of its own, bytes (decoded only when the
contact is wanted; a shard is written again without decoding the others). It is thrown away
whole when its format version, the program version or the settings change, and an unreadable,
corrupt or unexpected cache is simply ignored: it can only make a run faster, never different.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import marshal
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .checked import Checked
from .model import Contact, Interaction, Period, Problem, Reminder, Settings
from .paths import CACHE_DIR, SUMMARY, code_digest
from .write import replace_with

FORMAT = 7  # 7: interactions and reminders with `snooze`

Stamp = tuple[int, int, int]


def digest_of(data: bytes) -> str:
    """What names saved bytes by their content (the plan's part files; the load summary's stamps)."""
    return hashlib.sha256(data).hexdigest()[:32]


def settings_key(settings: Settings) -> str:
    return hashlib.sha256(repr((FORMAT, code_digest(), settings)).encode()).hexdigest()


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def interaction_to_plain(i: Interaction) -> list[Any]:
    return [i.index, i.line, i.date.isoformat(), i.time, i.type, i.summary, i.gained, list(i.with_), _iso(i.followed_up), i.skip, _iso(i.snooze)]


# Decoding makes the frozen dataclasses without their __init__, which sets each field through
# object.__setattr__: two thirds of the time decoding ten thousand contacts took (150,000
# interactions). Every field is set, as __init__ would.
_new = object.__new__
_from_iso = dt.date.fromisoformat


def interaction_from_plain(i: list[Any]) -> Interaction:
    made = _new(Interaction)
    d = made.__dict__
    d["index"], d["line"], d["date"], d["time"], d["type"] = i[0], i[1], _from_iso(i[2]), i[3], i[4]
    d["summary"], d["gained"], d["with_"], d["followed_up"] = i[5], i[6], tuple(i[7]), _day(i[8])
    d["skip"], d["snooze"] = i[9], _day(i[10])
    return made


def reminder_to_plain(r: Reminder) -> list[Any]:
    return [r.index, r.line, r.date.isoformat(), r.note, r.done, _iso(r.done_on), _iso(r.snooze)]


def reminder_from_plain(r: list[Any]) -> Reminder:
    made = _new(Reminder)
    d = made.__dict__
    d["index"], d["line"], d["date"], d["note"], d["done"], d["done_on"] = r[0], r[1], _from_iso(r[2]), r[3], r[4], _day(r[5])
    d["snooze"] = _day(r[6])
    return made


def contact_to_plain(c: Contact) -> tuple[Any, ...]:
    """The contact as plain values, in a fixed order (`contact_from_plain` reads them back)."""
    return (
        c.slug, c.path, c.name, c.emails, c.phones, c.company, c.title, c.location, c.tags, c.links,
        c.how_we_met, (c.keep_in_touch.count, c.keep_in_touch.unit) if c.keep_in_touch else None,
        [reminder_to_plain(r) for r in c.reminders], [interaction_to_plain(i) for i in c.interactions],
        c.extra, c.body,
    )  # fmt: skip


def contact_from_plain(d: tuple[Any, ...] | list[Any]) -> Contact:
    keep = d[11]
    made = _new(Contact)
    m = made.__dict__
    m["slug"], m["path"], m["name"], m["emails"], m["phones"] = d[0], d[1], d[2], tuple(d[3]), tuple(d[4])
    m["company"], m["title"], m["location"], m["tags"] = d[5], d[6], d[7], tuple(d[8])
    m["links"], m["how_we_met"] = tuple([(a, b) for a, b in d[9]]), d[10]
    m["keep_in_touch"] = Period(keep[0], keep[1]) if keep else None
    m["reminders"] = tuple([reminder_from_plain(r) for r in d[12]])
    m["interactions"] = tuple([interaction_from_plain(i) for i in d[13]])
    m["extra"], m["body"] = tuple([(a, b) for a, b in d[14]]), d[15]
    return made


def encode_contact(c: Contact) -> bytes:
    """The contact as the parse cache keeps it (and a worker sends it): one marshal record,
    several times quicker to make and to read than JSON."""
    return marshal.dumps(contact_to_plain(c))


def decode_contact(record: bytes) -> Contact:
    """`encode_contact` undone (marshal never runs anything it reads)."""
    return contact_from_plain(marshal.loads(record))


SHARDS = 32  # contacts are kept in this many files, so one saved contact rewrites 1/32 of them


def shard_of(rel: str) -> int:
    return zlib.crc32(rel.encode("utf-8", "surrogatepass")) % SHARDS


class Store:
    """The cache on disk, in 32 shards by a hash of the file's path: `index-NN.bin` (stamps,
    problems, references, names: all that `crm check` needs) and the parsed contacts in
    `contacts-NN.bin`, each read only when one of its contacts is wanted. A shard pair is
    written only when one of its files changed (index after contacts: an index never points at
    contacts that are not there yet)."""

    def __init__(self, root: Path, settings: Settings, fallback: Callable[[str], Contact | None]) -> None:
        self.folder = root / CACHE_DIR
        self.fallback = fallback  # re-reads a file whose contact is missing from its shard
        self.key = settings_key(settings)
        self._shards: dict[int, dict[str, Any]] = {}
        self._from_disk: dict[str, Checked] = {}  # entries as on disk, to write back unchanged
        self._index_rows: dict[str, Any] = {}  # their rows of the index, as read (the same objects)
        self._numbers: dict[str, int] = {}  # file → its shard, as known (spares hashing every path)
        self._members: dict[int, set[str]] = {}  # shard → the files it holds on disk

    def shard(self, number: int) -> dict[str, Any]:
        """rel → (stamp, the contact's record) of one shard ({} when missing or not ours)."""
        found = self._shards.get(number)
        if found is None:
            try:
                doc = marshal.loads((self.folder / f"contacts-{number:02d}.bin").read_bytes())
                ours = type(doc) is dict and doc.get("key") == self.key and type(doc.get("contacts")) is dict
                found = doc["contacts"] if ours else {}
            except (OSError, ValueError, EOFError, TypeError):
                found = {}
            self._shards[number] = found
        return found

    def _raw(self, rel: str, stamp: Stamp) -> bytes | None:
        """The contact's record as saved with this stamp, or None."""
        entry = self.shard(self.number_of(rel)).get(rel)
        if type(entry) is not tuple or len(entry) != 2 or entry[0] != stamp or type(entry[1]) is not bytes:
            return None  # the shard and the index disagree (a run was killed between writes), or not ours
        return entry[1]

    def number_of(self, rel: str) -> int:
        """The shard that keeps file `rel`."""
        number = self._numbers.get(rel)
        if number is None:
            number = self._numbers[rel] = shard_of(rel)
        return number

    def _decode(self, rel: str, stamp: Stamp) -> Contact | None:
        record = self._raw(rel, stamp)
        if record is None:
            return self.fallback(rel)
        try:
            return decode_contact(record)
        except (KeyError, TypeError, ValueError, EOFError, IndexError, RecursionError):
            return self.fallback(rel)

    def read(self, numbers: Iterable[int] = range(SHARDS)) -> dict[str, tuple[Stamp, Checked]]:
        """The cached entries of these shards (all of them unless told; {} when there is no
        usable cache; a part of the index that is missing or not ours is only files to read
        again)."""
        entries: dict[str, tuple[Stamp, Checked]] = {}
        for number in numbers:
            try:
                doc = marshal.loads((self.folder / f"index-{number:02d}.bin").read_bytes())
                if type(doc) is not dict or doc.get("key") != self.key or type(doc.get("files")) is not dict:
                    continue
                self._read_rows(doc["files"], entries)
                self._numbers.update(dict.fromkeys(doc["files"], number))
                self._members[number] = set(doc["files"])
            except (OSError, ValueError, EOFError, KeyError, TypeError, IndexError):
                continue
        return entries

    def read_summary(self) -> tuple[Any, Any, Any] | None:
        """The last load's summary (see load.py's `_by_summary`) as saved with this key: (the
        stamps' digest, the stamps as marshal bytes, the rest); None when missing, unreadable or
        not ours."""
        try:
            data = (self.folder / SUMMARY).read_bytes()
            size = int.from_bytes(data[:8], "big")  # marshal.load from a file reads a few bytes at a time
            head, doc = marshal.loads(data[8 : 8 + size]), marshal.loads(data[8 + size :])
        except (OSError, ValueError, EOFError, TypeError):
            return None
        if type(head) is not tuple or len(head) != 2 or type(doc) is not dict or doc.get("key") != self.key:
            return None
        return head[0], head[1], doc.get("summary")

    def _folder(self) -> None:
        self.folder.mkdir(exist_ok=True)
        ignore = self.folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Tipscale's parse cache: safe to delete, never commit.\n*\n", encoding="utf-8")

    def write_summary(self, digest: str, stamps: bytes, summary: Any) -> None:
        """Save a load's summary (after the index shards it describes: best effort, atomic): the
        stamps first, alone in a record of their own after its size (paths.py's SUMMARY), then
        the rest."""
        try:
            self._folder()
            head = marshal.dumps((digest, stamps))
            data = len(head).to_bytes(8, "big") + head + marshal.dumps({"key": self.key, "summary": summary})
            replace_with(str(self.folder / SUMMARY), data)
        except (OSError, ValueError):  # ValueError: a value marshal does not keep (never made here)
            return

    def _read_rows(self, rows: dict[str, Any], entries: dict[str, tuple[Stamp, Checked]]) -> None:
        """One index shard's rows into `entries` (all or none of them)."""
        found: dict[str, tuple[Stamp, Checked]] = {}
        decode, partial = self._decode, functools.partial
        # Not what we write (all or none: the shard is then read again from the files), checked
        # a column at a time: a check per row cost as much as making the rows' objects.
        values = rows.values()
        if not set(map(type, values)) <= {tuple} or not set(map(len, values)) <= {4}:
            raise TypeError("rows")
        stamps, names, problems, references = zip(*values, strict=True) if values else ((), (), (), ())
        if not (
            set(map(type, rows)) <= {str}
            and set(map(type, stamps)) <= {tuple}
            and set(map(len, stamps)) <= {3}
            and set(map(type, names)) <= {str, type(None)}
            and set(map(type, problems)) <= {tuple}
            and set(map(type, references)) <= {tuple}
            and set(map(type, itertools.chain.from_iterable(references))) <= {tuple}
            and set(map(len, itertools.chain.from_iterable(references))) <= {5}
        ):
            raise TypeError("rows")
        disk: dict[str, Checked] = {}
        for rel, (stamp, name, problems_of, references_of) in rows.items():
            # Positional arguments, and one loop: this runs for every file of the cache.
            checked = disk[rel] = Checked(
                rel,
                None,
                () if not problems_of else tuple([Problem(*p) for p in problems_of]),
                references_of,  # plain tuples: made `Reference`s when wanted
                name,
                partial(decode, rel, stamp) if name is not None else None,
            )
            found[rel] = (stamp, checked)
        entries.update(found)
        self._from_disk.update(disk)
        self._index_rows.update(rows)

    def write(self, entries: dict[str, tuple[Stamp, Checked]], touched: set[str]) -> bool:
        """Write the shards of the files in `touched` (put or forgotten since the last write).
        Best effort and atomic per file: a read-only root or a full disk just means no cache
        (False)."""
        on_disk, rows = self._from_disk, self._index_rows
        gone = [rel for rel in touched if rel not in entries and rel in on_disk]
        by_shard: dict[int, set[str]] = {}
        for rel in touched:
            by_shard.setdefault(self.number_of(rel), set()).add(rel)
        changed = set(by_shard)
        members = {
            number: sorted(rel for rel in self._members.get(number, set()) | new if rel in entries)
            for number, new in by_shard.items()
        }
        try:
            self._folder()
            for number in sorted(changed):
                shard_rows, records = self._shard_of(entries, members[number])
                # contacts first: an index never points at contacts that are not there yet
                replace_with(str(self.folder / f"contacts-{number:02d}.bin"), marshal.dumps({"key": self.key, "contacts": records}))
                self._shards[number] = records
                replace_with(str(self.folder / f"index-{number:02d}.bin"), marshal.dumps({"key": self.key, "files": shard_rows}))
                rows.update(shard_rows)
                on_disk.update((rel, entries[rel][1]) for rel in shard_rows)
                self._members[number] = set(shard_rows)
            for old in ("contacts.json", "index.json", *(f"{kind}-{n:02d}.json" for n in changed for kind in ("contacts", "index"))):
                if (self.folder / old).exists():  # of earlier versions
                    (self.folder / old).unlink()
        except (OSError, ValueError):  # ValueError: a value marshal does not keep (never made here)
            return False
        for rel in gone:
            del on_disk[rel], rows[rel]
        return True

    def _shard_of(
        self, entries: dict[str, tuple[Stamp, Checked]], members: list[str]
    ) -> tuple[dict[str, Any], dict[str, tuple[Stamp, bytes]]]:
        """The index rows and contact records of one shard's files."""
        on_disk, rows = self._from_disk, self._index_rows
        shard_rows: dict[str, Any] = {}
        records: dict[str, tuple[Stamp, bytes]] = {}
        for rel in members:
            stamp, checked = entries[rel]
            kept = on_disk.get(rel) is checked and rows[rel][0] == stamp
            if kept:
                shard_rows[rel] = rows[rel]  # as read (or last written)
            else:
                shard_rows[rel] = (
                    (stamp[0], stamp[1], stamp[2]),
                    checked.name,
                    tuple([(p.file, p.line, p.column, p.severity, p.field, p.message) for p in checked.problems]),
                    tuple([(r.target, r.line, r.column, r.field, r.kind) for r in checked.references]),
                )
            record = checked.saved  # as a worker made it: no need to build it again
            if record is None and kept:
                record = self._raw(rel, stamp)
            if record is None and checked.valid:
                contact = checked.contact
                if contact is not None:
                    record = encode_contact(contact)
            if record is not None:
                records[rel] = (shard_rows[rel][0], record)
        return shard_rows, records

