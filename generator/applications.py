"""Job applications: `applications/<slug>.md` files → `Application`s, or every `Problem` in them.

An application file is YAML front matter and Markdown notes, like a contact file:

    ---
    company: Globex
    role: Staff Engineer
    url: https://globex.example/jobs/42
    via: raj-patel                # who referred you (a contact's slug)
    contacts: [mia-chen]          # recruiter, hiring manager…
    next: 2026-12-10              # when you expect news
    stages:
      - stage: applied
        date: 2026-11-20
      - stage: interview
        date: 2026-12-01
        with: [mia-chen, tom-ross]
        note: system design, 45 minutes
        followed_up: {mia-chen: 2026-12-02}   # notes sent about this stage (crm done)
    ---

Stages come from `crm.yaml` (`applications: stages:`), in the order they happen; a stage may
repeat (two interviews), an outcome (accepted, rejected, withdrawn) ends the list. Reading is pure:
the caller passes the bytes and every contact's slug.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from . import yamlnodes
from .checked import suggest
from .contactfile import read_contact_file
from .frontmatter import FrontMatterError, decode, split
from .model import Application, Problem, Settings, Stage

APPLICATIONS_DIR = "applications"
KEYS = ("company", "role", "url", "via", "contacts", "next", "snooze", "stages")
STAGE_KEYS = ("stage", "date", "with", "note", "followed_up", "checked")
MAX_STAGES = 200

Path_ = tuple[str | int, ...]


class _Reader:
    def __init__(self, file: str, settings: Settings, slugs: Collection[str], yaml_line: int) -> None:
        self.file, self.settings, self.slugs, self.yaml_line = file, settings, slugs, yaml_line
        self.problems: list[Problem] = []
        self.info: yamlnodes.Index = {}

    def report(self, path: Path_, message: str, severity: str = "error") -> None:
        probe = path
        while True:
            found = yamlnodes.position(self.info, probe)
            if found is not None:
                line, column = found[0] + self.yaml_line, found[1] + 1
                break
            if not probe:
                line, column = self.yaml_line, 1
                break
            probe = probe[:-1]
        shown = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path if p != "<key>")
        self.problems.append(Problem(self.file, line, column, severity, shown.replace(".[", "["), message))  # type: ignore[arg-type]

    def text(self, path: Path_, value: Any, required: bool = False) -> str:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.report(path, "is required (expected text)")
            return ""
        if not isinstance(value, str):
            self.report(path, f"expected text, found {yamlnodes.type_name(value)}; put it in quotes")
            return ""
        return value.strip()

    def date(self, path: Path_, value: Any, required: bool = False) -> dt.date | None:
        if value is None:
            if required:
                self.report(path, "is required (expected YYYY-MM-DD)")
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        raw = value.raw if isinstance(value, yamlnodes.BadScalar) else value
        self.report(path, f"{raw!r} is not a date (expected YYYY-MM-DD)")
        return None

    def slug(self, path: Path_, value: Any) -> str:
        """A contact's slug that must exist."""
        slug = self.text(path, value)
        if slug and slug not in self.slugs:
            near = difflib.get_close_matches(slug, sorted(self.slugs), n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]}?" if near else " (the file name of a contact, without .md)"
            self.report(path, f"no contact '{slug}'{hint}")
            return ""
        return slug

    def slugs_of(self, path: Path_, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            found = self.slug(path, value)
            return (found,) if found else ()
        if not isinstance(value, list):
            self.report(path, f"expected a contact's slug or a list of them, found {yamlnodes.type_name(value)}")
            return ()
        found_all = (self.slug((*path, i), item) for i, item in enumerate(value))
        return tuple(dict.fromkeys(s for s in found_all if s))

    def unknown_keys(self, path: Path_, data: Mapping[Any, Any], known: tuple[str, ...]) -> None:
        for key in data:
            if key not in known:
                near = suggest(str(key), known)
                hint = f"did you mean {near}?" if near else f"known: {', '.join(known)}"
                self.report((*path, str(key), "<key>"), f"unknown field '{key}' ({hint})", "warning")

    # -- the file --------------------------------------------------------------------------

    def read(self, slug: str, yaml_text: str, body: str) -> Application | None:
        try:
            data, self.info, duplicates = yamlnodes.load_indexed(yaml_text)
        except yamlnodes.YamlError as exc:
            self.problems.append(
                Problem(self.file, exc.line + self.yaml_line, exc.column + 1, "error", "", exc.message)
            )
            return None
        for path, message in duplicates:
            self.report((*path, "<key>"), message, "warning")
        if not isinstance(data, dict):
            self.report((), "the front matter must be a mapping of fields (company: …, role: …, stages: …)")
            return None
        self.unknown_keys((), data, KEYS)
        company = self.text(("company",), data.get("company"), required=True)
        role = self.text(("role",), data.get("role"), required=True)
        url = self.text(("url",), data.get("url"))
        if url and not url.startswith(("https://", "http://")):
            self.report(("url",), f"{url!r} is not a web address (expected https://…)")
            url = ""
        via = self.slug(("via",), data.get("via")) if data.get("via") is not None else ""
        contacts = self.slugs_of(("contacts",), data.get("contacts"))
        next_day = self.date(("next",), data.get("next"))
        snooze = self.date(("snooze",), data.get("snooze"))
        stages = self.stages(data.get("stages"))
        if any(p.severity == "error" for p in self.problems) or not stages:
            return None
        involved = {via, *contacts, *(w for s in stages for w in s.with_)}
        for stage in stages:
            for who, _ in stage.followed_up:
                if who not in involved:
                    self.report(
                        ("stages", stage.index, "followed_up", who, "<key>"),
                        f"'{who}' is not part of this application (not via, contacts or a stage's with)",
                        "warning",
                    )
        return Application(
            slug=slug, path=self.file, company=company, role=role, stages=tuple(stages), url=url,
            via=via, contacts=contacts, next=next_day, snooze=snooze, body=body,
        )  # fmt: skip

    def stages(self, value: Any) -> list[Stage]:
        if value is None or value == []:
            self.report(("stages",), "is required: a list like [{stage: applied, date: 2026-11-20}]")
            return []
        if not isinstance(value, list):
            self.report(("stages",), f"expected a list of stages, found {yamlnodes.type_name(value)}")
            return []
        if len(value) > MAX_STAGES:
            self.report(("stages",), f"{len(value)} stages; at most {MAX_STAGES} are read")
            return []
        order = {name: i for i, name in enumerate(self.settings.stages)}
        outcomes = self.settings.outcome_stages
        out: list[Stage] = []
        for i, item in enumerate(value):
            path: Path_ = ("stages", i)
            if not isinstance(item, dict):
                self.report(path, f"expected a mapping like {{stage: applied, date: …}}, found {yamlnodes.type_name(item)}")
                continue
            self.unknown_keys(path, item, STAGE_KEYS)
            name = self.text((*path, "stage"), item.get("stage"), required=True)
            if name and name not in order:
                near = suggest(name, self.settings.stages)
                hint = f"did you mean {near}? " if near else ""
                self.report((*path, "stage"), f"unknown stage '{name}' ({hint}stages: {', '.join(self.settings.stages)}; "
                            "more can be added under applications: stages: in crm.yaml)")  # fmt: skip
                name = ""
            day = self.date((*path, "date"), item.get("date"), required=True)
            with_ = self.slugs_of((*path, "with"), item.get("with"))
            note = self.text((*path, "note"), item.get("note"))
            sent = self.followed_up((*path, "followed_up"), item.get("followed_up"))
            checked = self.date((*path, "checked"), item.get("checked"))
            if not name or day is None:
                continue
            for who, when in sent:
                if when < day:
                    self.report((*path, "followed_up", who), f"{when.isoformat()} is before the stage's date {day.isoformat()}")
            if checked is not None and checked < day:
                self.report((*path, "checked"), f"{checked.isoformat()} is before the stage's date {day.isoformat()}")
            if out:
                before = out[-1]
                if before.stage in outcomes:
                    self.report((*path, "stage"), f"'{name}' after '{before.stage}': an outcome ends the application")
                elif name not in outcomes and order[name] < order[before.stage]:
                    self.report((*path, "stage"), f"'{name}' after '{before.stage}': stages go in the order "
                                f"{', '.join(self.settings.stages)}")  # fmt: skip
                if day < before.date:
                    self.report((*path, "date"), f"{day.isoformat()} is before the stage above it "
                                f"({before.stage}, {before.date.isoformat()}): list stages in the order they happened")  # fmt: skip
            line = (yamlnodes.position(self.info, path) or (0, 0))[0] + self.yaml_line
            out.append(Stage(i, line, name, day, with_, note, sent, checked))
        return out

    def followed_up(self, path: Path_, value: Any) -> tuple[tuple[str, dt.date], ...]:
        if value is None:
            return ()
        if not isinstance(value, dict):
            self.report(path, f"expected a mapping of contact slug to the date the note went out, found "
                        f"{yamlnodes.type_name(value)}")  # fmt: skip
            return ()
        out = []
        for who, when in value.items():
            day = self.date((*path, str(who)), when, required=True)
            if day is not None:
                out.append((str(who), day))
        return tuple(out)


def check_application(data: bytes, file: str, slug: str, settings: Settings, slugs: Collection[str]) -> tuple[Application | None, list[Problem]]:
    """Read one application file (`file`: its path relative to the root, for messages)."""
    try:
        parts = split(decode(data))
    except FrontMatterError as exc:
        message = exc.message.replace("a contact file", "an application file").replace("with at least a name", "with company, role and stages")
        return None, [Problem(file, exc.line, 1, "error", "", message)]
    reader = _Reader(file, settings, slugs, parts.yaml_line)
    application = reader.read(slug, parts.yaml_text, parts.body)
    reader.problems.sort(key=lambda p: (p.line, p.column, p.message))
    return application, reader.problems


def application_files(root: Path) -> list[tuple[str, str]]:
    """(absolute path, path relative to root) of every `applications/*.md`, sorted; none when
    there is no such folder."""
    folder = root / APPLICATIONS_DIR
    try:
        names = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [
        (str(folder / name), f"{APPLICATIONS_DIR}/{name}")
        for name in names
        if name.endswith(".md") and not name.startswith((".", "_", "#"))
    ]


def read_applications(root: Path, settings: Settings, slugs: Collection[str]) -> tuple[list[Application], list[Problem]]:
    """Every valid application of the root, by slug, and the problems of all of them."""
    found: list[Application] = []
    problems: list[Problem] = []
    for path, rel in application_files(root):
        data = read_contact_file(path)  # only a regular file, and only so much of it
        if isinstance(data, str):
            problems.append(Problem(rel, 1, 1, "error", "", f"cannot read the file: {data.replace('a contact', 'an application')}"))
            continue
        application, file_problems = check_application(data, rel, rel.rsplit("/", 1)[-1][:-3], settings, slugs)
        problems.extend(file_problems)
        if application is not None:
            found.append(application)
    return found, problems


def involving(applications: list[Application]) -> dict[str, tuple[Application, ...]]:
    """Contact slug → the applications that person is part of."""
    out: dict[str, list[Application]] = {}
    for application in applications:
        for slug in application.people():
            out.setdefault(slug, []).append(application)
    return {slug: tuple(apps) for slug, apps in out.items()}
