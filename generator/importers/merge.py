"""The one merge step of every importer: records → a plan → (unless a dry run) written files.

Matching (SPEC §7): by e-mail, then LinkedIn URL, then exact name (case-insensitive). A name
match between two records of the same file is refused when their LinkedIn profiles differ
(two connections who share a name); an existing contact matched by name reports a different
LinkedIn URL as a conflict. A matched contact only gets the fields it is missing (new tags and link labels are
added); different values are reported as conflicts and never applied. Records that match
nothing become new files `contacts/<slug>.md`, with slugs unique within the import and against
every existing file. Running the same import twice changes nothing.

File edits go through `generator.edit` (byte-preserving, validated, atomic).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..edit import (
    EditError,
    add_fields,
    edit_contact,
    new_contact_text,
    read_text,
    validate_text,
)
from ..load import Loaded
from ..model import Contact
from ..paths import CONTACTS_DIR
from ..slugs import slugify, unique_slug
from .common import Record, linkedin_key, phone_key, text_key, url_key

SCALARS = ("company", "title", "location")
_UMASK = os.umask(0o022)
os.umask(_UMASK)


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
    texts: dict[str, str] = field(default_factory=dict)  # path → new text (created or changed)
    targets: dict[str, Target] = field(default_factory=dict)  # path → target (touched only)

    def count(self, kind: str) -> int:
        return sum(1 for a in self.actions if a.kind == kind)

    @property
    def created_paths(self) -> list[str]:
        return [p for p, t in self.targets.items() if t.new and p in self.texts]

    @property
    def changed_paths(self) -> list[str]:
        return [p for p, t in self.targets.items() if not t.new and p in self.texts]

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


class Planner:
    def __init__(self, loaded: Loaded) -> None:
        self.root = loaded.root
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
        for candidate in self.by_name.get(text_key(record.name), []):
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
            if slugify(record.name) in self.invalid:
                self.plan.skipped.append(
                    (record.line, f"{record.name}: contacts/{slugify(record.name)}.md has errors, so it "
                     "cannot be matched; fix it first (crm check)")
                )  # fmt: skip
                return
            self._create(record)
            return
        added = self._merge(target, record)
        if target.path not in self.plan.targets:
            self.plan.targets[target.path] = target
        kind = "merge" if added else "unchanged"
        self.plan.actions.append(Action(kind, record.line, target.path, target.name, tuple(added)))

    # -- new contacts ------------------------------------------------------------------------------

    def _create(self, record: Record) -> None:
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
        if text_key(record.name) != text_key(target.name):
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

    def finish(self) -> Plan:
        """Compute every new or changed file's text (and validate it); nothing is written."""
        plan = self.plan
        broken: set[str] = set()
        for path, target in plan.targets.items():
            try:
                if target.new:
                    body = target.body + "\n" if target.body else ""
                    text = new_contact_text(target.fields, body)
                    validate_text(text, path, target.slug, self.settings)
                    plan.texts[path] = text
                elif target.added:
                    old = read_text(self.root / path)
                    text = add_fields(old, target.added)
                    if text != old:
                        validate_text(text, path, target.slug, self.settings)
                        plan.texts[path] = text
            except (EditError, OSError) as exc:
                broken.add(path)
                plan.skipped.append((target.first_line, f"{path}: {exc}"))
        if broken or any(a.kind == "merge" and a.path not in plan.texts for a in plan.actions):
            actions: list[Action] = []
            for action in plan.actions:
                if action.path in broken:
                    continue
                if action.kind == "merge" and action.path not in plan.texts:
                    action = Action("unchanged", action.line, action.path, action.name)
                actions.append(action)
            plan.actions = actions
        return plan


def plan_import(records: list[Record], loaded: Loaded, progress: Callable[[int], None] | None = None) -> Plan:
    planner = Planner(loaded)
    for i, record in enumerate(records, start=1):
        planner.add(record)
        if progress is not None:
            progress(i)
    return planner.finish()


def _adder(added: dict[str, object]) -> Callable[[str], str]:
    return lambda old: add_fields(old, added)


def _create_new(path: Path, text: str) -> None:
    """Create a new contact file: written to a temporary file in the same folder, then hard-linked
    into place (atomic, and fails if the name exists: never overwrites). No fsync per file: a
    bulk import syncs once at the end (per-file fsyncs made 5,000 rows take 50 s instead of a few).
    Already validated by `Planner.finish`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
        os.chmod(tmp, 0o666 & ~_UMASK)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise EditError(f"{path.name} already exists; not overwriting it") from None
    except OSError as exc:
        if exc.filename in (None, tmp):  # a full disk names no file
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def apply_plan(
    plan: Plan, loaded: Loaded, progress: Callable[[int], None] | None = None
) -> tuple[list[str], list[str]]:
    """Write the plan's files. Returns (written paths, error messages)."""
    written: list[str] = []
    errors: list[str] = []
    root: Path = loaded.root
    created = False
    for i, (path, text) in enumerate(plan.texts.items(), start=1):
        target = plan.targets[path]
        try:
            if target.new:
                _create_new(root / path, text)
                created = True
            else:
                edit_contact(root / path, _adder(target.added), loaded.settings, path)
            written.append(path)
        except (EditError, OSError) as exc:
            errors.append(f"{path}: {exc}")
        if progress is not None:
            progress(i)
    if created:
        os.sync()  # one flush for every new file
    return written, errors
