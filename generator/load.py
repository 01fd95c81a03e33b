"""Find the CRM root, walk `contacts/`, validate every file, resolve cross-references.

This is the only module that reads contact files. Parsed files are cached by their stamp
`(size, mtime_ns)` in a `ContactCache`, so a long-running server re-reads only what changed.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .model import Contact, Problem, Settings
from .settings import load_settings
from .validate import Checked, Reference, check_file

CONTACTS_DIR = "contacts"


class RootNotFound(Exception):
    pass


def find_root(start: Path, explicit: Path | None = None) -> Path:
    """`--root` if given, else the nearest folder at or above `start` with crm.yaml or contacts/."""
    if explicit is not None:
        if not explicit.is_dir():
            raise RootNotFound(f"--root {explicit}: no such folder")
        return explicit.resolve()
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / "crm.yaml").is_file() or (folder / CONTACTS_DIR).is_dir():
            return folder
    raise RootNotFound(
        f"no CRM here: neither {start} nor a folder above it holds crm.yaml or contacts/. "
        "Run 'crm init DIR' to make one, or pass --root PATH."
    )


def is_ignored(name: str) -> bool:
    """Hidden and `_` files, editor leftovers (`*~`, `*.swp`, `.#*`, `#*#`)."""
    return (
        name.startswith((".", "_", "#"))
        or name.endswith(("~", ".swp", ".swx", ".swo", ".tmp"))
        or (name.startswith("#") and name.endswith("#"))
    )


def contact_files(root: Path) -> Iterator[Path]:
    """Every contact file under root/contacts, sorted, skipping ignored files and folders."""
    base = root / CONTACTS_DIR
    if not base.is_dir():
        return
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not is_ignored(d))
        for name in sorted(files):
            if name.endswith(".md") and not is_ignored(name):
                yield Path(folder) / name


@dataclass
class Loaded:
    """Everything read from a CRM root."""

    root: Path
    settings: Settings
    contacts: list[Contact]  # valid contacts, sorted by slug
    problems: list[Problem]  # every problem, sorted by file, line, column
    files: int  # contact files read
    invalid: dict[str, list[Problem]] = field(default_factory=dict)  # slug → errors (for banners)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def by_slug(self) -> dict[str, Contact]:
        return {c.slug: c for c in self.contacts}


@dataclass
class ContactCache:
    """Parsed files by path, valid while the file's (size, mtime_ns) and the settings stay the same."""

    entries: dict[str, tuple[tuple[int, int], Checked]] = field(default_factory=dict)
    settings: Settings | None = None

    def get(self, path: Path, rel: str, slug: str, settings: Settings) -> Checked:
        if settings != self.settings:
            self.entries.clear()
            self.settings = settings
        try:
            stat = path.stat()
            stamp = (stat.st_size, stat.st_mtime_ns)
        except OSError:
            stamp = (-1, -1)
        hit = self.entries.get(rel)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        try:
            data = path.read_bytes()
        except OSError as exc:
            checked = Checked(
                rel, None, (Problem(rel, 1, 1, "error", "", f"cannot read the file: {exc.strerror}"),), ()
            )
        else:
            checked = check_file(data, rel, slug, settings)
        self.entries[rel] = (stamp, checked)
        return checked


def load(root: Path, cache: ContactCache | None = None) -> Loaded:
    settings, problems = load_settings(root)
    cache = cache if cache is not None else ContactCache()
    seen: dict[str, str] = {}
    checked: list[Checked] = []
    files = 0
    live: set[str] = set()
    for path in contact_files(root):
        files += 1
        rel = path.relative_to(root).as_posix()
        live.add(rel)
        slug = path.name[:-3]
        if slug in seen:
            problems.append(
                Problem(
                    rel,
                    1,
                    1,
                    "error",
                    "",
                    f"duplicate slug '{slug}': {seen[slug]} has the same file name; rename one",
                )
            )
            continue
        seen[slug] = rel
        checked.append(cache.get(path, rel, slug, settings))
    for rel in [r for r in cache.entries if r not in live]:
        del cache.entries[rel]

    contacts = [c.contact for c in checked if c.contact is not None]
    invalid: dict[str, list[Problem]] = {}
    for item in checked:
        problems.extend(item.problems)
        if item.contact is None:
            invalid[Path(item.file).name[:-3]] = [p for p in item.problems if p.severity == "error"]
    problems.extend(resolve_references(checked, contacts, set(seen)))
    contacts.sort(key=lambda c: c.slug)
    problems.sort(key=lambda p: (p.file, p.line, p.column, p.severity, p.message))
    return Loaded(root, settings, contacts, problems, files, invalid)


def name_index(contacts: list[Contact]) -> dict[str, str]:
    """Lower-cased full name → slug (first one wins), for `[[Full Name]]` links."""
    index: dict[str, str] = {}
    for contact in contacts:
        index.setdefault(contact.name.casefold(), contact.slug)
    return index


def resolve_link(target: str, slugs: set[str], names: dict[str, str]) -> str | None:
    if target in slugs:
        return target
    return names.get(target.casefold())


def resolve_references(checked: list[Checked], contacts: list[Contact], slugs: set[str]) -> list[Problem]:
    """`with:` slugs that do not exist are errors; unresolved `[[links]]` are warnings."""
    names = name_index(contacts)
    known = sorted(slugs)
    problems: list[Problem] = []
    for item in checked:
        for ref in item.references:
            if resolve_link(ref.target, slugs, names) is None:
                problems.append(_reference_problem(ref, item.file, known))
    return problems


def _reference_problem(ref: Reference, file: str, known: list[str]) -> Problem:
    near = difflib.get_close_matches(ref.target, known, n=1, cutoff=0.6)
    hint = f"; did you mean {near[0]}?" if near else ""
    if ref.kind == "with":
        return Problem(file, ref.line, ref.column, "error", ref.field, f"no contact '{ref.target}'{hint}")
    return Problem(
        file, ref.line, ref.column, "warning", ref.field, f"[[{ref.target}]] links to no contact{hint}"
    )
