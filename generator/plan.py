"""The last build's plan, kept between command-line runs in `site/.tipscale/plan.json`.

A rebuild after one edit then updates the plan for the files that changed (as the live server
does in memory) instead of decoding and planning ten thousand contacts again. It is only a
shortcut: it names the build it belongs to (the manifest's site key), and one that does not
match, or does not decode, is ignored and the site is planned in full.

plan.json is JSON; its large parts are kept with `marshal` (never pickle: it makes only plain
values, str, int, None, bool, tuple, list and dict, and runs nothing), in the very shapes the plan
uses, so reading them back builds no second copy (JSON has no tuples: decoding 7 MB of it into
the plan's shapes took twice as long as reading it). A part's file is named by a hash of its
bytes, checked when it is read: a part that was damaged or written by anything but this
program (whose version plan.json names) means a full plan, like a missing one.
"""

from __future__ import annotations

import datetime as dt
import marshal
import re
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from .cachefile import (
    Stamp,
    digest_of,
    interaction_from_plain,
    interaction_to_plain,
    reminder_from_plain,
    reminder_to_plain,
)
from .followups import FollowUpRate
from .gitlog import Commit
from .model import AppNote, FollowUp, Interaction, Problem
from .write import STATE_DIR, Writer

VERSION = 12  # 12: the key holds the job applications' digest; follow-ups their application
HEAD = f"{STATE_DIR}/plan.json"
PART_FILE = re.compile(r"plan-([a-z_]+)-([0-9a-f]{32})\.bin")

Profile = tuple[str, tuple[str, ...], str]  # name, tags, company


@dataclass
class Plan:
    """What a build planned, beyond the page digests (those are in the manifest)."""

    key: tuple[str, dt.date, dt.date, str | None, str]  # base digest, today, the real date, git HEAD, applications
    versions: dict[str, Stamp]  # file → stamp
    profiles: Mapping[str, Profile]  # `Packed` as read, `Changed` by an update
    followups: Mapping[str, list[FollowUp]]  # slug → its follow-ups, sorted (`Packed` as read)
    shares: dict[str, tuple[int, int]]  # slug → its part of the follow-up rate (non-zero ones)
    rate: FollowUpRate
    recent: list[tuple[str, Interaction]]  # (slug, interaction), latest first
    recent_complete: bool
    resolved: Mapping[str, list[tuple[str, str | None]]]  # `Packed` as read, `Changed` by an update
    backlinks: Mapping[str, list[tuple[str, str]]]
    tags: dict[str, tuple[str, list[str]]]
    companies: dict[str, tuple[str, list[str]]]
    order: list[str]
    histories: Mapping[str, list[Commit]]  # `Histories` as read
    invalid: dict[str, list[Problem]]
    loose: list[Problem]  # problems of files the load did not check (see site.py's _loose)
    row_keys: dict[str, str]
    row_tokens: dict[str, str]
    shown: Any  # the dashboard's counts and cards (followup_pages.Shown.to_plain), or None
    event_tokens: dict[str, str]
    names: dict[str, str]  # lower-cased full name → slug (the model's)
    event_sum: int | None = None  # the sum of the calendar events' parts (site.py's _Fragments)


class Packed(Mapping[str, Any]):
    """A part by contact (those named in PACKED) as its file keeps it: each contact's value in
    marshal bytes of its own. Reading the part makes ten thousand bytes objects instead of the
    quarter of a million lists, tuples and strings inside them (12 ms each part at 10,000
    contacts); a value is unpacked when asked for (`decode`), and an update asks for a few."""

    __slots__ = ("raw", "_made", "_decode")

    def __init__(self, raw: dict[str, bytes], decode: Callable[[bytes], Any] = marshal.loads) -> None:
        self.raw = raw
        self._made: dict[str, Any] = {}
        self._decode = decode

    def __getitem__(self, key: str) -> Any:
        try:
            return self._made[key]
        except KeyError:
            value = self._made[key] = self._decode(self.raw[key])
            return value

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def __contains__(self, key: object) -> bool:
        return key in self.raw


class Changed(MutableMapping[str, Any]):
    """A part as an update changes it: the part as it was (`base`, never changed) and what the
    update set or removed. A change to a changed part starts from the same base (the server's
    rebuilds never stack them)."""

    def __init__(self, base: Mapping[str, Any]) -> None:
        if isinstance(base, Changed):
            self.base: Mapping[str, Any] = base.base
            self.changes: dict[str, Any] = dict(base.changes)
            self.removed: set[str] = set(base.removed)
        else:
            self.base, self.changes, self.removed = base, {}, set()

    def __getitem__(self, key: str) -> Any:
        if key in self.changes:
            return self.changes[key]
        if key in self.removed:
            raise KeyError(key)
        return self.base[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.changes[key] = value
        self.removed.discard(key)

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self.changes.pop(key, None)
        if key in self.base:
            self.removed.add(key)

    def __contains__(self, key: object) -> bool:
        return key in self.changes or (key not in self.removed and key in self.base)

    def __iter__(self) -> Iterator[str]:
        for key in self.base:
            if key not in self.removed:
                yield key
        for key in self.changes:
            if key not in self.base:
                yield key

    def __len__(self) -> int:
        base = self.base  # `removed` holds only keys of the base, none of them in `changes`
        return len(base) - len(self.removed) + sum(1 for key in self.changes if key not in base)

    def same_as(self, other: Any) -> bool:
        """Equal to `other` (without unpacking the rest) when `other` is this part's base."""
        if other is not self.base:
            return self == other
        return not self.removed and all(key in self.base and self.base[key] == v for key, v in self.changes.items())


class Histories(Mapping[str, list[Commit]]):
    """File → its commits, as part "histories" keeps them: the commits once, and each file's as
    their numbers, made into a list when asked for (an update wants a few of ten thousand)."""

    __slots__ = ("_commits", "_files", "_made")

    def __init__(self, commits: list[Commit], files: dict[str, list[int]]) -> None:
        if type(files) is not dict:
            raise TypeError("files")
        self._commits = commits
        self._files = files
        self._made: dict[str, list[Commit]] = {}

    def __getitem__(self, path: str) -> list[Commit]:
        made = self._made.get(path)
        if made is None:
            commits = self._commits
            made = self._made[path] = [commits[n] for n in self._files[path]]
        return made

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def __contains__(self, path: object) -> bool:
        return path in self._files


def same_part(value: Any, kept: Any) -> bool:
    """Is part `value` equal to `kept` (the part as read)? Cheap for an update's `Changed`."""
    if value is kept:
        return True
    if isinstance(value, Changed):
        return value.same_as(kept)
    return bool(value == kept)


PACKED = ("resolved", "backlinks", "profiles", "followups")  # the parts kept a value by contact at a time (Packed)


def _packed(value: Mapping[str, Any], encode: Callable[[Any], bytes] = marshal.dumps) -> dict[str, bytes]:
    """A by-contact part as its file keeps it (see Packed), packing only what is not yet."""
    if isinstance(value, Packed):
        return value.raw
    if isinstance(value, Changed) and isinstance(value.base, Packed):
        raw = dict(value.base.raw)
        for key in value.removed:
            raw.pop(key, None)
        for key, item in value.changes.items():
            raw[key] = encode(item)
        return raw
    return {key: encode(item) for key, item in value.items()}


def _followup_to_value(f: FollowUp) -> tuple[Any, ...]:
    return (
        f.contact, f.name, f.kind, f.due.toordinal(), f.status, f.days,
        interaction_to_plain(f.interaction) if f.interaction is not None else None,
        reminder_to_plain(f.reminder) if f.reminder is not None else None,
        f.note_missing_gained, f.uid_key,
        _app_to_value(f.application) if f.application is not None else None,
    )  # fmt: skip


def _app_to_value(a: AppNote) -> tuple[Any, ...]:
    return (a.slug, a.company, a.role, a.stage, a.stage_index, a.stage_date.toordinal(), a.to, a.url, a.stage_note)


def _app_from_value(v: Any) -> AppNote:
    return AppNote(v[0], v[1], v[2], v[3], v[4], dt.date.fromordinal(v[5]), v[6], v[7], v[8])


def _encode_followups(items: list[FollowUp]) -> bytes:
    """One contact's follow-ups as part "followups" keeps them (`_decode_followups`)."""
    return marshal.dumps([_followup_to_value(f) for f in items])


def _decode_followups(data: bytes) -> list[FollowUp]:
    return _followups_from_values(marshal.loads(data))


def _followups_from_values(rows: list[Any]) -> list[FollowUp]:
    """One contact's follow-ups in part "followups", as `_followup_to_value` saved them (the
    part's hash was checked). The frozen dataclasses are made without their __init__ (which sets each field
    through object.__setattr__: most of the time it took), their key set as saved (it spares the
    cached property's first call, which takes a lock)."""
    new, day, made = object.__new__, dt.date.fromordinal, []
    for v in rows:
        followup = new(FollowUp)
        d = followup.__dict__
        d["contact"], d["name"], d["kind"], d["due"], d["status"] = v[0], v[1], v[2], day(v[3]), v[4]
        d["days"], d["note_missing_gained"], d["uid_key"] = v[5], v[8], v[9]
        d["interaction"] = interaction_from_plain(v[6]) if v[6] is not None else None
        d["reminder"] = reminder_from_plain(v[7]) if v[7] is not None else None
        d["application"] = _app_from_value(v[10]) if v[10] is not None else None
        made.append(followup)
    return made


def _problem(p: Problem) -> list[Any]:
    return [p.file, p.line, p.column, p.severity, p.field, p.message]


# The large parts, each in a file of its own (`plan-NAME-HASH.bin`), so that a rebuild after
# one edit writes again only the parts that edit changed (the file stamps and the row keys, most
# often), not six megabytes of JSON. plan.json names the files of the parts it goes with.
SECTIONS = (
    "versions", "profiles", "followups", "resolved", "backlinks", "tags", "companies", "order",
    "histories", "row_keys", "row_tokens", "event_tokens", "names",
)  # fmt: skip


def section_value(plan: Plan, name: str) -> Any:
    """The value behind part `name` of SECTIONS."""
    return getattr(plan, name)


def _histories(plan: Plan) -> dict[str, Any]:
    commits: list[list[Any]] = []
    numbers: dict[str, int] = {}
    histories: dict[str, list[int]] = {}
    for path, items in plan.histories.items():
        refs = []
        for commit in items:
            number = numbers.get(commit.sha)
            if number is None:
                number = numbers[commit.sha] = len(commits)
                commits.append([commit.sha, int(commit.when.timestamp()), commit.author, commit.message])
            refs.append(number)
        histories[path] = refs
    return {"commits": commits, "files": histories}


def part_file(name: str, data: bytes) -> str:
    """The file that holds part `name` with these bytes: named by their hash."""
    return part_name(name, digest_of(data))


def part_name(name: str, digest: str) -> str:
    return f"plan-{name}-{digest}.bin"


def encode_section(plan: Plan, name: str) -> bytes:
    """One part of the plan, as its file holds it (`read_part` reads it back). Raises
    ValueError when a value is not one marshal keeps (never so for what a build makes)."""
    if name == "histories":
        value: Any = _histories(plan)
    elif name == "followups":
        value = _packed(plan.followups, _encode_followups)
    elif name in PACKED:
        value = _packed(section_value(plan, name))
    else:
        value = section_value(plan, name)  # plain values already, in the shapes marshal keeps
    return marshal.dumps(value)


def _checked(name: str, value: Any) -> Any:
    """Part `name` as read. Its bytes matched the hash its file is named by, and plan.json named
    this program's version: so it has the shapes `encode_section` writes, only its kind is
    checked here (a deep check of every value took longer than making the plan's objects)."""
    if type(value) is not (list if name == "order" else dict):
        raise TypeError(name)
    if name in PACKED:
        return _unpacked(value, _decode_followups if name == "followups" else marshal.loads)
    return value


def _unpacked(raw: Any, decode: Callable[[bytes], Any] = marshal.loads) -> Packed:
    if type(raw) is not dict or not set(map(type, raw.values())) <= {bytes}:
        raise TypeError("packed")
    return Packed(raw, decode)


def encode_head(plan: Plan, build_id: str, files: dict[str, str]) -> dict[str, Any]:
    """plan.json: the small parts, and the file of each large one."""
    base, today, real_today, head, jobs = plan.key
    return {
        "version": VERSION,
        "build": build_id,
        "key": [base, today.isoformat(), real_today.isoformat(), head, jobs],
        "shares": plan.shares,
        "rate": [plan.rate.on_time, plan.rate.counted],
        "recent": [[slug, interaction_to_plain(i)] for slug, i in plan.recent],
        "recent_complete": plan.recent_complete,
        "invalid": {slug: [_problem(p) for p in problems] for slug, problems in plan.invalid.items()},
        "loose": [_problem(p) for p in plan.loose],
        "shown": plan.shown,
        "event_sum": plan.event_sum,
        "files": files,
    }


def _optional_int(value: Any) -> int | None:
    if value is not None and type(value) is not int:
        raise TypeError(value)
    return value


def decode(doc: Any, build_id: str, sections: dict[str, Any]) -> Plan | None:
    """The plan of head `doc` and its large parts (`sections`, as `read_part` read them from
    their files), or None when it is not the plan of build `build_id` or is malformed."""
    if not isinstance(doc, dict) or doc.get("version") != VERSION or doc.get("build") != build_id:
        return None
    try:
        base, today, real_today, head, jobs = doc["key"]
        parts = {name: _checked(name, sections[name]) for name in SECTIONS}
        histories = parts["histories"]
        commits = [
            Commit(dt.datetime.fromtimestamp(int(c[1]), dt.UTC), str(c[2]), str(c[3]), str(c[0]))
            for c in histories["commits"]
        ]
        return Plan(
            key=(str(base), dt.date.fromisoformat(today), dt.date.fromisoformat(real_today), head, str(jobs)),
            versions=parts["versions"],
            profiles=parts["profiles"],
            followups=parts["followups"],
            shares={str(k): (int(v[0]), int(v[1])) for k, v in doc["shares"].items()},
            rate=FollowUpRate(int(doc["rate"][0]), int(doc["rate"][1])),
            recent=[(str(slug), interaction_from_plain(i)) for slug, i in doc["recent"]],
            recent_complete=bool(doc["recent_complete"]),
            resolved=parts["resolved"],
            backlinks=parts["backlinks"],
            tags=parts["tags"],
            companies=parts["companies"],
            order=parts["order"],
            histories=Histories(commits, histories["files"]),
            invalid={slug: [Problem(*p) for p in problems] for slug, problems in doc["invalid"].items()},
            loose=[Problem(*p) for p in doc["loose"]],
            row_keys=parts["row_keys"],
            row_tokens=parts["row_tokens"],
            shown=doc["shown"],
            event_tokens=parts["event_tokens"],
            names=parts["names"],
            event_sum=_optional_int(doc["event_sum"]),
        )
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError):
        return None


class Prefetch:
    """The files of a saved plan read ahead, one at a time (`crm build` reads them while a child
    process takes its fingerprint, until that answers), for the build that may follow. Parts are
    kept by file name, which is a hash of the file's bytes."""

    def __init__(self, writer: Writer, build_id: str) -> None:
        self.writer = writer
        self.build_id = build_id
        self.head: Any = None
        self.parts: dict[str, Any] = {}  # file name → its values (None: unreadable)
        self._todo: list[str] | None = None

    def step(self) -> bool:
        """Read one more file; False once there is none left to read."""
        if self._todo is None:
            head = self.head = self.writer.read_json(HEAD)
            ours = isinstance(head, dict) and head.get("version") == VERSION and head.get("build") == self.build_id
            files = head.get("files") if ours else None
            self._todo = [f for f in files.values() if isinstance(f, str)] if isinstance(files, dict) else []
        elif self._todo:
            file = self._todo.pop()
            self.parts[file] = read_part(self.writer, file)
        return bool(self._todo)


def read_part(writer: Writer, file: str) -> Any:
    """The values in part file `file` (None: not a part's name, missing, unreadable, or its bytes
    are not those its name was made from)."""
    named = PART_FILE.fullmatch(file)
    if named is None:
        return None
    data = writer.read_bytes(f"{STATE_DIR}/{file}")
    if data is None or part_file(named.group(1), data) != file:
        return None
    try:
        return marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return None
