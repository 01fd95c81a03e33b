"""The one merge step of every importer: records → a plan → (unless a dry run) written files.

Matching (SPEC §7): by e-mail, then LinkedIn URL, then exact name (case-insensitive). A name
match between two records of the same file is refused when their LinkedIn profiles differ
(two connections who share a name); an existing contact matched by name reports a different
LinkedIn URL as a conflict. In a file that lists each person once (LinkedIn), two records of
one name are two people: each name match takes a contact no earlier record took. A matched
contact only gets the fields it is missing (new tags and link labels are added); different values are reported as conflicts and never applied. Records that match
nothing become new files `contacts/<slug>.md`, with slugs unique within the import and against
every existing file. Running the same import twice changes nothing.

File texts are made and checked, and files written, by `files.py` (byte-preserving, validated,
atomic).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..load import Loaded, from_portable
from ..model import Contact
from ..paths import CONTACTS_DIR
from ..slugs import slugify, unique_slug
from .common import Record, linkedin_key, phone_key, text_key, url_key
from .files import Failed, Outcome, Written, file_texts

if TYPE_CHECKING:
    from ..contactcache import ContactCache

SCALARS = ("company", "title", "location")
Progress = Callable[[str, int], Callable[[int], None]]  # (what, how many) → called with the count done


@dataclass
class Target:
    """A contact the import may change: an existing file or one this import creates."""

    slug: str
    path: str  # relative to the root, POSIX
    new: bool
    name: str
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)  # company, title, location, extras (as text)
    tags: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    body: str = ""
    added: dict[str, object] = field(default_factory=dict)  # existing files: fields to add
    fields: dict[str, object] = field(default_factory=dict)  # new files: all fields
    first_line: int = 0

    def linkedin(self) -> set[str]:
        return {k for k in (linkedin_key(u) for u in self.links.values()) if k}


@dataclass(frozen=True)
class Conflict:
    path: str
    name: str
    field: str
    yours: str
    theirs: str
    line: int

    def format(self) -> str:
        return (
            f"conflict  {self.path}  {self.field}: yours {self.yours!r}, theirs {self.theirs!r} "
            f"(line {self.line}; not changed)"
        )


@dataclass(frozen=True)
class Action:
    kind: str  # "create", "merge", "unchanged"
    line: int
    path: str
    name: str
    added: tuple[str, ...] = ()  # field names this record added


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # paths with a new, valid text (created or changed)
    targets: dict[str, Target] = field(default_factory=dict)  # path → target (touched only)
    written: list[str] = field(default_factory=list)  # of `changed`, those written (not a dry run)
    errors: list[str] = field(default_factory=list)  # why the others of `changed` were not written
    created: int = 0  # new files written: the caller syncs once (per file, 5,000 rows took 50 s)

    def count(self, kind: str) -> int:
        return sum(1 for a in self.actions if a.kind == kind)

    def summary(self) -> str:
        def n(count: int, word: str) -> str:
            return f"{count} {word}{'' if count == 1 or word.endswith('d') else 's'}"

        return ", ".join([
            f"{self.count('create')} created", f"{self.count('merge')} merged",
            f"{self.count('unchanged')} unchanged", n(len(self.conflicts), "conflict"),
            f"{len(self.skipped)} skipped",
        ])  # fmt: skip


def _text(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _target_from(contact: Contact) -> Target:
    values = {key: getattr(contact, key) for key in SCALARS}
    values["how_we_met"] = contact.how_we_met
    for key, value in contact.extra:
        values[key] = value
    return Target(
        slug=contact.slug, path=contact.path, new=False, name=contact.name, emails=list(contact.emails),
        phones=list(contact.phones), values={k: v for k, v in values.items() if v}, tags=list(contact.tags),
        links=dict(contact.links), body=contact.body,
    )  # fmt: skip


def _taken_slugs(root: Path) -> set[str]:
    """The name of every `.md` file under contacts/ (ignored ones too: never reuse a name)."""
    taken: set[str] = set()
    for _, _, files in os.walk(root / CONTACTS_DIR):
        taken.update(name[:-3] for name in files if name.endswith(".md"))
    return taken


def _same_email(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def _same_phone(a: str, b: str) -> bool:
    ka, kb = phone_key(a), phone_key(b)
    if not ka or not kb:
        return a.strip() == b.strip()
    short, long = sorted((ka, kb), key=len)
    return ka == kb or (len(short) >= 7 and long.endswith(short))


def _short(text: str, limit: int = 60) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def _slug_order(slug: str) -> tuple[str, int]:
    """jane-doe → ('jane-doe', 1), jane-doe-2 → ('jane-doe', 2): the order unique_slug made them."""
    match = re.fullmatch(r"(.*?)-(\d+)", slug)
    return (match.group(1), int(match.group(2))) if match else (slug, 1)


class Planner:
    def __init__(self, loaded: Loaded, distinct: bool = False) -> None:
        self.root = loaded.root
        self.distinct = distinct  # each record is another person: one name match per contact
        self.claimed: set[str] = set()  # paths matched or created by this file's records
        self.settings = loaded.settings
        self.plan = Plan()
        self.by_email: dict[str, Target] = {}
        self.by_linkedin: dict[str, Target] = {}
        self.by_name: dict[str, list[Target]] = {}
        self.taken = _taken_slugs(loaded.root)
        self.invalid = set(loaded.invalid)
        self.targets: dict[str, Target] = {}
        for contact in loaded.contacts:
            self._index(_target_from(contact))

    def _index(self, target: Target) -> None:
        self.targets[target.path] = target
        for email in target.emails:
            self.by_email.setdefault(email.casefold(), target)
        for key in target.linkedin():
            self.by_linkedin.setdefault(key, target)
        bucket = self.by_name.setdefault(text_key(target.name), [])
        if target not in bucket:
            bucket.append(target)

    def match(self, record: Record) -> Target | None:
        for email in record.emails:
            found = self.by_email.get(email.casefold())
            if found is not None:
                return found
        theirs = {k for k in (linkedin_key(u) for u in record.links.values()) if k}
        for key in theirs:
            found = self.by_linkedin.get(key)
            if found is not None:
                return found
        candidates = self.by_name.get(text_key(record.name), [])
        if self.distinct:  # two rows of one name are two people: the k-th row gets the k-th contact
            company = text_key(record.company)
            candidates = sorted(
                (c for c in candidates if c.path not in self.claimed),
                key=lambda c: (text_key(c.values.get("company", "")) != company, _slug_order(c.slug)),
            )
        for candidate in candidates:
            mine = candidate.linkedin()
            if candidate.new and theirs and mine and not theirs & mine:
                continue  # two rows of this file, two LinkedIn profiles: two people of one name
            return candidate
        return None

    def add(self, record: Record) -> None:
        if not record.name.strip():
            known = record.emails[:1] or list(record.links.values())[:1] or record.phones[:1]
            self.plan.skipped.append(
                (record.line, "no name" + (f" (has {known[0]})" if known else " (an empty entry)"))
            )
            return
        target = self.match(record)
        if target is None:
            if self.invalid and slugify(record.name) in self.invalid:
                self.plan.skipped.append(
                    (record.line, f"{record.name}: contacts/{slugify(record.name)}.md has errors, so it "
                     "cannot be matched; fix it first (crm check)")
                )  # fmt: skip
                return
            self.claimed.add(self._create(record))
            return
        self.claimed.add(target.path)
        added = self._merge(target, record)
        if target.path not in self.plan.targets:
            self.plan.targets[target.path] = target
        kind = "merge" if added else "unchanged"
        self.plan.actions.append(Action(kind, record.line, target.path, target.name, tuple(added)))

    # -- new contacts ------------------------------------------------------------------------------

    def _create(self, record: Record) -> str:
        slug = unique_slug(record.name, self.taken)
        self.taken.add(slug)
        path = f"{CONTACTS_DIR}/{slug}.md"
        name = " ".join(record.name.split())
        target = Target(slug=slug, path=path, new=True, name=name, first_line=record.line)
        fields = target.fields
        fields["name"] = target.name
        if record.emails:
            target.emails = list(record.emails)
            fields["email"] = record.emails[0] if len(record.emails) == 1 else list(record.emails)
        if record.phones:
            target.phones = list(record.phones)
            fields["phone"] = record.phones[0] if len(record.phones) == 1 else list(record.phones)
        for key in SCALARS:
            value = " ".join(getattr(record, key).split())
            if value:
                fields[key] = value
                target.values[key] = value
        if record.tags:
            target.tags = list(record.tags)
            fields["tags"] = list(record.tags)
        if record.links:
            target.links = dict(record.links)
            fields["links"] = dict(record.links)
        for key, extra in record.extra.items():
            if _text(extra).strip():
                fields[key] = extra
                target.values[key] = _text(extra)
        target.body = record.notes.strip()
        self._index(target)
        self.plan.targets[path] = target
        self.plan.actions.append(Action("create", record.line, path, target.name))
        return path

    # -- filling in ----------------------------------------------------------------------------------

    def _set(self, target: Target, key: str, value: object) -> None:
        (target.fields if target.new else target.added)[key] = value

    def _conflict(self, target: Target, record: Record, name: str, yours: str, theirs: str) -> None:
        self.plan.conflicts.append(Conflict(target.path, target.name, name, yours, theirs, record.line))

    def _fill_list(
        self,
        target: Target,
        record: Record,
        key: str,
        mine: list[str],
        theirs: list[str],
        same: Callable[[str, str], bool],
        added: list[str],
    ) -> list[str]:
        """The target's values for `key` after the merge: the record's new ones fill an empty
        list; when the target already has some, new ones are a conflict, not applied."""
        new = [v for v in theirs if not any(same(v, x) for x in mine)]
        if new and not mine:
            self._set(target, key, new[0] if len(new) == 1 else list(new))
            added.append(key)
            return list(new)
        if new:
            self._conflict(target, record, key, ", ".join(mine), ", ".join(new))
        return mine

    def _merge(self, target: Target, record: Record) -> list[str]:
        added: list[str] = []
        if text_key(record.name) != text_key(target.name) and not record.named_from:
            self._conflict(target, record, "name", target.name, record.name)
        # e-mail and phone: a list only filled when empty; other values are conflicts
        target.emails = self._fill_list(
            target, record, "email", target.emails, record.emails, _same_email, added
        )
        for email in target.emails:
            self.by_email.setdefault(email.casefold(), target)
        target.phones = self._fill_list(
            target, record, "phone", target.phones, record.phones, _same_phone, added
        )
        # text values and extras (connected_on, department…)
        values: dict[str, object] = {key: " ".join(getattr(record, key).split()) for key in SCALARS}
        values.update(record.extra)
        for key, value in values.items():
            theirs = _text(value).strip()
            if not theirs:
                continue
            yours = target.values.get(key, "")
            if not yours.strip():
                target.values[key] = theirs
                self._set(target, key, value)
                added.append(key)
            elif text_key(yours) != text_key(theirs):
                self._conflict(target, record, key, yours, theirs)
        # tags: add the missing ones
        have = {t.casefold() for t in target.tags}
        new_tags = [t for t in record.tags if t.casefold() not in have]
        if new_tags:
            target.tags.extend(new_tags)
            if target.new:
                target.fields["tags"] = list(target.tags)
            else:
                listed = target.added.setdefault("tags", [])
                assert isinstance(listed, list)
                listed.extend(new_tags)
            added.append("tags")
        # links: add missing labels; a label with another URL is a conflict
        have_urls = {url_key(u) for u in target.links.values()}
        for label, url in record.links.items():
            if url_key(url) in have_urls:
                continue
            if label in target.links:
                self._conflict(target, record, f"links.{label}", target.links[label], url)
                continue
            target.links[label] = url
            have_urls.add(url_key(url))
            if target.new:
                target.fields["links"] = dict(target.links)
            else:
                links = target.added.setdefault("links", {})
                assert isinstance(links, dict)
                links[label] = url
            added.append(f"links.{label}")
            profile = linkedin_key(url)
            if profile:
                self.by_linkedin.setdefault(profile, target)
        # notes: the body of a new file; never merged into an existing one
        notes = record.notes.strip()
        if notes and text_key(notes) not in text_key(target.body):
            if target.new and not target.body.strip():
                target.body = notes
                added.append("notes")
            else:
                yours = _short(target.body) if target.body.strip() else "(no notes)"
                self._conflict(target, record, "notes", yours, _short(notes))
        return added

    # -- texts -------------------------------------------------------------------------------------

    def finish(
        self, progress: Callable[[int], None] | None = None, write: bool = False, cache: ContactCache | None = None
    ) -> Plan:
        """Compute every new or changed file's text and validate it; with `write`, write each
        valid one where it was made (nothing is synced: see `Plan.created`). Each file created goes into
        `cache` as its check found it (the caller saves it), so the next command, a re-import
        too, parses none of them."""
        plan = self.plan
        broken: set[str] = set()

        def take(path: str, result: Outcome) -> None:
            outcome, parsed = result
            if isinstance(outcome, Failed):
                broken.add(path)
                plan.skipped.append((plan.targets[path].first_line, f"{path}: {outcome.message}"))
            elif outcome is not None:
                plan.changed.append(path)
                if isinstance(outcome, Written):
                    if outcome.error is not None:
                        plan.errors.append(outcome.error)
                        return
                    plan.written.append(path)
                    if outcome.stamp is not None:  # a new file
                        plan.created += 1
                        if cache is not None and parsed is not None:
                            cache.put(path, outcome.stamp, from_portable(path, parsed))

        file_texts(self.root, self.settings, list(plan.targets.items()), take, progress, write)
        changed = set(plan.changed)
        if broken or any(a.kind == "merge" and a.path not in changed for a in plan.actions):
            actions: list[Action] = []
            for action in plan.actions:
                if action.path in broken:
                    continue
                if action.kind == "merge" and action.path not in changed:
                    action = Action("unchanged", action.line, action.path, action.name)
                actions.append(action)
            plan.actions = actions
        return plan


def plan_import(
    records: list[Record],
    loaded: Loaded,
    progress: Progress | None = None,
    distinct: bool = False,
    write: bool = False,
    cache: ContactCache | None = None,
) -> Plan:
    """The plan for an export's records; `distinct` when each record is another person. With
    `write`, files are written as their texts are made (`Plan.written`, `Plan.errors`), and
    the new ones put in `cache` (see `Planner.finish`)."""
    planner = Planner(loaded, distinct)
    matching = progress("matching", len(records)) if progress is not None else None
    for i, record in enumerate(records, start=1):
        planner.add(record)
        if matching is not None:
            matching(i)
    label = "writing" if write else "checking"
    checking = progress(label, len(planner.plan.targets)) if progress is not None else None
    return planner.finish(checking, write, cache)
