"""The parse cache between command-line runs, in `<root>/.tipscale/`.

Plain JSON (never pickle): each contact file's stamp and what validating it produced. It is
thrown away whole when its format version, the program version or the settings change, and an
unreadable or corrupt cache is simply ignored: it can only make a run faster, never different.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import __version__
from .model import Contact, Interaction, Period, Problem, Reminder, Settings
from .validate import Checked, Reference

FORMAT = 1
CACHE_DIR = ".tipscale"

Stamp = tuple[int, int, int]


def settings_key(settings: Settings) -> str:
    return hashlib.sha256(repr((FORMAT, __version__, settings)).encode()).hexdigest()


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def contact_to_json(c: Contact) -> dict[str, Any]:
    return {
        "slug": c.slug, "path": c.path, "name": c.name, "emails": c.emails, "phones": c.phones,
        "company": c.company, "title": c.title, "location": c.location, "tags": c.tags, "links": c.links,
        "how_we_met": c.how_we_met, "keep": [c.keep_in_touch.count, c.keep_in_touch.unit] if c.keep_in_touch else None,
        "reminders": [[r.index, r.line, r.date.isoformat(), r.note, r.done, _iso(r.done_on)] for r in c.reminders],
        "interactions": [
            [i.index, i.line, i.date.isoformat(), i.time, i.type, i.summary, i.gained, i.with_, _iso(i.followed_up), i.skip]
            for i in c.interactions
        ],
        "extra": c.extra, "body": c.body,
    }  # fmt: skip


def contact_from_json(d: dict[str, Any]) -> Contact:
    keep = d["keep"]
    return Contact(
        slug=d["slug"], path=d["path"], name=d["name"], emails=tuple(d["emails"]), phones=tuple(d["phones"]),
        company=d["company"], title=d["title"], location=d["location"], tags=tuple(d["tags"]),
        links=tuple((a, b) for a, b in d["links"]), how_we_met=d["how_we_met"],
        keep_in_touch=Period(keep[0], keep[1]) if keep else None,
        reminders=tuple(
            Reminder(r[0], r[1], dt.date.fromisoformat(r[2]), r[3], r[4], _day(r[5])) for r in d["reminders"]
        ),
        interactions=tuple(
            Interaction(i[0], i[1], dt.date.fromisoformat(i[2]), i[3], i[4], i[5], i[6], tuple(i[7]), _day(i[8]), i[9])
            for i in d["interactions"]
        ),
        extra=tuple((a, b) for a, b in d["extra"]), body=d["body"],
    )  # fmt: skip


class Store:
    """The cache on disk: `index.json` (stamps, problems, references, names: all that `crm check`
    needs) and `contacts.json` (the parsed contacts), read only when a contact is wanted."""

    def __init__(self, root: Path, settings: Settings, fallback: Callable[[str], Contact | None]) -> None:
        self.folder = root / CACHE_DIR
        self.fallback = fallback  # re-reads a file whose contact is missing from contacts.json
        self.key = settings_key(settings)
        self._contacts: dict[str, Any] | None = None
        self._from_disk: dict[str, Checked] = {}  # entries as read, to write back unchanged

    def contacts_json(self) -> dict[str, Any]:
        if self._contacts is None:
            try:
                doc = json.loads((self.folder / "contacts.json").read_bytes())
                self._contacts = doc["contacts"] if doc.get("key") == self.key else {}
            except (OSError, ValueError, KeyError, TypeError):
                self._contacts = {}
        return self._contacts

    def _decode(self, rel: str) -> Contact | None:
        data = self.contacts_json().get(rel)
        if data is None:  # the two files disagree (e.g. a run was killed between writes)
            return self.fallback(rel)
        return contact_from_json(data)

    def read(self) -> dict[str, tuple[Stamp, Checked]]:
        """The cached entries, or {} when there is no usable cache."""
        try:
            doc = json.loads((self.folder / "index.json").read_bytes())
            if doc.get("key") != self.key:
                return {}
            entries: dict[str, tuple[Stamp, Checked]] = {}
            for rel, (stamp, name, problems, references) in doc["files"].items():
                checked = Checked(
                    rel,
                    None,
                    tuple(Problem(*p) for p in problems),
                    tuple(Reference(*r) for r in references),
                    name=name,
                    source=functools.partial(self._decode, rel) if name is not None else None,
                )
                entries[rel] = ((stamp[0], stamp[1], stamp[2]), checked)
                self._from_disk[rel] = checked
            return entries
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return {}

    def write(self, entries: dict[str, tuple[Stamp, Checked]]) -> None:
        """Best effort and atomic: a read-only root or a full disk just means no cache."""
        index: dict[str, Any] = {}
        contacts: dict[str, Any] = {}
        for rel, (stamp, checked) in entries.items():
            # An entry read from disk and unchanged since is written back as it was read.
            raw = self.contacts_json().get(rel) if self._from_disk.get(rel) is checked else None
            contact = None if raw is not None else checked.contact
            index[rel] = [
                list(stamp),
                checked.name if raw is not None else contact.name if contact else None,
                [[p.file, p.line, p.column, p.severity, p.field, p.message] for p in checked.problems],
                [[r.target, r.line, r.column, r.field, r.kind] for r in checked.references],
            ]
            if raw is not None:
                contacts[rel] = raw
            elif contact is not None:
                contacts[rel] = contact_to_json(contact)
        try:
            self.folder.mkdir(exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text(
                    "# Tipscale's parse cache: safe to delete, never commit.\n*\n", encoding="utf-8"
                )
            # contacts first: an index never points at contacts that are not there yet
            _dump(self.folder / "contacts.json", {"key": self.key, "contacts": contacts})
            _dump(self.folder / "index.json", {"key": self.key, "files": index})
        except OSError:
            return


def _dump(target: Path, doc: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
    try:
        # json.dumps uses the C encoder; json.dump into a file does not (5x slower here).
        data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
