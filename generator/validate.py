"""A contact file's bytes → a `Contact`, or every `Problem` found in it (pure; SPEC §2).

Cross-file checks (duplicate slugs, `with:` slugs, `[[links]]`) need all contacts and are done
by load.py and links.py with the `Reference`s collected here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import yamlnodes
from .checked import (
    INTERACTION_KEYS,
    KNOWN_KEYS,
    PLAIN_ADDRESS,
    REMINDER_KEYS,
    SAFE_URL_SCHEMES,
    TEXT_FIELDS,
    WIKI_LINK,
    Checked,
    Reference,
    as_text,
    field_path,
    show,
    suggest,
)
from .dates import parse_period, read_date
from .frontmatter import NOTES_MARKDOWN_LIMIT, FrontMatterError, decode, split
from .model import Contact, Interaction, Period, Problem, Reminder, Settings

_INTERACTION_KEY_SET = frozenset(INTERACTION_KEYS)
_REMINDER_KEY_SET = frozenset(REMINDER_KEYS)
_Date = dt.date


def check_file(data: bytes, file: str, slug: str, settings: Settings) -> Checked:
    """Validate one contact file. `file` is its path relative to the root (for messages)."""
    return check_file_values(data, file, slug, settings)[0]


def check_file_values(data: bytes, file: str, slug: str, settings: Settings) -> tuple[Checked, Any]:
    """`check_file`, and the front matter's values as YAML read them (None when it did not
    parse): a writer compares them with what it meant to write, without parsing the text again."""
    try:
        parts = split(decode(data))
    except FrontMatterError as exc:
        return Checked(file, None, (Problem(file, exc.line, 1, "error", "", exc.message),), ()), None
    validator = _Validator(file, slug, settings, parts.yaml_line)
    return validator.run(parts.yaml_text, parts.body, parts.body_line), validator.values


class _Validator:
    def __init__(self, file: str, slug: str, settings: Settings, yaml_line: int) -> None:
        self.file = file
        self.slug = slug
        self.settings = settings
        self.yaml_line = yaml_line
        self.problems: list[Problem] = []
        self.references: list[Reference] = []
        self.info: yamlnodes.Index = {}
        self.values: Any = None  # the front matter as YAML read it

    # -- reporting -------------------------------------------------------------------------

    def at(self, path: tuple[str | int, ...]) -> tuple[int, int]:
        """File line and column of the node at `path` (or of its nearest parent)."""
        probe = path
        while True:
            found = yamlnodes.position(self.info, probe)
            if found is not None:
                return found[0] + self.yaml_line, found[1] + 1
            if not probe:
                return self.yaml_line, 1
            probe = probe[:-1]

    def report(self, path: tuple[str | int, ...], message: str, severity: str = "error") -> None:
        line, column = self.at(path)
        self.problems.append(Problem(self.file, line, column, severity, field_path(path), message))  # type: ignore[arg-type]

    def wrong_type(self, path: tuple[str | int, ...], value: Any, expected: str) -> None:
        """A value of the wrong type, with a quoting hint when YAML read text as something else."""
        raw = yamlnodes.raw_of(self.info.get(path))
        if (
            raw is not None
            and isinstance(value, bool | int | float | dt.date)
            and expected.startswith("text")
        ):
            shown = "true" if value is True else "false" if value is False else repr(value)
            self.report(
                path,
                f"{raw} is read by YAML as {yamlnodes.type_name(value)} ({shown}), not text; "
                f'put it in quotes: "{raw}"',
            )
        elif isinstance(value, yamlnodes.BadScalar):
            self.report(path, f"{value.raw!r} is {yamlnodes.type_name(value)} (expected {expected})")
        else:
            self.report(path, f"expected {expected}, found {yamlnodes.type_name(value)}")

    # -- typed readers ---------------------------------------------------------------------

    def text(self, path: tuple[str | int, ...], value: Any, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.report(path, "is required and empty")
            return None if required else ""
        if not isinstance(value, str):
            self.wrong_type(path, value, "text")
            return None
        if required and not value.strip():
            self.report(path, "is required and empty")
            return None
        return value

    def text_list(self, path: tuple[str | int, ...], value: Any, what: str) -> tuple[str, ...] | None:
        """A string or a list of strings (email, phone)."""
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,) if value.strip() else ()
        if isinstance(value, list):
            out: list[str] = []
            ok = True
            for i, item in enumerate(value):
                if isinstance(item, str):
                    if item.strip():
                        out.append(item)
                else:
                    self.wrong_type((*path, i), item, f"text ({what})")
                    ok = False
            return tuple(out) if ok else None
        self.wrong_type(path, value, f"text ({what}) or a list of them")
        return None

    def date(
        self, path: tuple[str | int, ...], value: Any, required: bool = True
    ) -> tuple[dt.date, str | None] | None:
        if value is None:
            if required:
                self.report(path, "is required (expected YYYY-MM-DD)")
            return None
        if isinstance(value, dt.datetime):
            return value.date(), value.strftime("%H:%M")
        if isinstance(value, dt.date):
            return value, None
        raw = (
            value.raw if isinstance(value, yamlnodes.BadScalar) else value if isinstance(value, str) else None
        )
        if raw is not None:
            read = read_date(raw)
            if isinstance(read, str):
                self.report(path, read)
                return None
            return read
        shown = yamlnodes.raw_of(self.info.get(path)) or repr(value)
        self.report(path, f"{shown!r} is not a date (expected YYYY-MM-DD)")
        return None

    # -- the file --------------------------------------------------------------------------

    def run(self, yaml_text: str, body: str, body_line: int) -> Checked:
        try:
            data, self.info, duplicates = yamlnodes.load_indexed(yaml_text)
            self.values = data
        except yamlnodes.YamlError as exc:
            problem = Problem(self.file, exc.line + self.yaml_line, exc.column + 1, "error", "", exc.message)
            return Checked(self.file, None, (problem,), ())
        for path, message in duplicates:
            self.report((*path, "<key>"), message, "warning")
        if data is None:
            self.report((), "the front matter is empty (expected at least 'name: …')")
            return self.finish(None)
        if not isinstance(data, dict):
            self.report(
                (),
                f"the front matter must be a mapping of fields (name: …), found {yamlnodes.type_name(data)}",
            )
            return self.finish(None)
        contact = self.contact(data, body)
        self.wiki_links(body, body_line)
        if len(body) > NOTES_MARKDOWN_LIMIT:
            self.problems.append(Problem(
                self.file, body_line, 1, "warning", "",
                f"the notes are {len(body) // 1024:,} KB; notes over {NOTES_MARKDOWN_LIMIT // 1024} KB "
                "are shown as plain text, not Markdown (split them into another file)",
            ))  # fmt: skip
        return self.finish(contact)

    def finish(self, contact: Contact | None) -> Checked:
        if any(p.severity == "error" for p in self.problems):
            contact = None
        return Checked(self.file, contact, tuple(self.problems), tuple(self.references))

    def contact(self, data: dict[str, Any], body: str) -> Contact | None:
        extra: list[tuple[str, str]] = []
        for key, value in data.items():
            if key in KNOWN_KEYS:
                continue
            near = suggest(key, KNOWN_KEYS)
            if near is not None and near not in data:
                self.report((key, "<key>"), f"unknown field '{key}': did you mean {near}?", "warning")
            extra.append((key, as_text(value)))

        name = self.text(("name",), data.get("name"), required=True)
        emails = self.text_list(("email",), data.get("email"), "an email address")
        for i, email in enumerate(emails or ()):
            if PLAIN_ADDRESS.fullmatch(email.strip()) is None:
                path: tuple[str | int, ...] = ("email", i) if isinstance(data.get("email"), list) else ("email",)
                shown = f"{email!r} does not look like one email address (name@example.com); it is shown, not linked"
                self.report(path, shown, "warning")
        phones = self.text_list(("phone",), data.get("phone"), "a phone number")
        texts = {}
        for key in TEXT_FIELDS:
            text = data.get(key)
            texts[key] = text if type(text) is str else self.text((key,), text)
        tags = self.tags(data.get("tags"))
        links = self.links(data.get("links"))
        keep = self.keep_in_touch(data.get("keep_in_touch"))
        reminders = self.reminders(data.get("reminders"))
        interactions = self.interactions(data.get("interactions"))
        if name is None or emails is None or phones is None or tags is None or links is None:
            return None
        if keep is False or reminders is None or interactions is None or None in texts.values():
            return None
        return Contact(  # positional (the fields' order): a frozen dataclass's keywords cost more
            self.slug,  # slug
            self.file,  # path
            name.strip(),  # name
            tuple([e.strip() for e in emails]),  # emails
            tuple([p.strip() for p in phones]),  # phones
            (texts["company"] or "").strip(),  # company
            (texts["title"] or "").strip(),  # title
            (texts["location"] or "").strip(),  # location
            tags,  # tags
            links,  # links
            (texts["how_we_met"] or "").strip(),  # how_we_met
            keep if isinstance(keep, Period) else None,  # keep_in_touch
            reminders,  # reminders
            interactions,  # interactions
            tuple(extra),  # extra
            body,  # body
        )

    def tags(self, value: Any) -> tuple[str, ...] | None:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.wrong_type(("tags",), value, "a list of tags, e.g. [acme, platform]")
            return None
        tags: list[str] = []
        ok = True
        for i, tag in enumerate(value):
            if isinstance(tag, str) and tag.strip():
                if tag.strip() not in tags:
                    tags.append(tag.strip())
            else:
                self.wrong_type(("tags", i), tag, "text (a tag)")
                ok = False
        return tuple(tags) if ok else None

    def links(self, value: Any) -> tuple[tuple[str, str], ...] | None:
        if value is None:
            return ()
        if not isinstance(value, dict):
            self.wrong_type(("links",), value, "a mapping of label to URL, e.g. linkedin: https://…")
            return None
        out: list[tuple[str, str]] = []
        ok = True
        for label, url in value.items():
            if not isinstance(url, str) or not url.strip():
                self.wrong_type(("links", label), url, "text (a URL)")
                ok = False
                continue
            if not url.strip().lower().startswith(SAFE_URL_SCHEMES):
                self.report(
                    ("links", label),
                    f"{url!r} is not a web link (expected http:// or https://); it is shown as text, not a link",
                    "warning",
                )
            out.append((label, url.strip()))
        return tuple(out) if ok else None

    def keep_in_touch(self, value: Any) -> Period | None | bool:
        if value is None:
            return None
        period = parse_period(value)
        if period is None:
            self.report(
                ("keep_in_touch",),
                f"{show(value)} is not a period (expected e.g. 30d, 6w, 3m, 1y or a number of days, at most 100 years)",
            )
            return False
        return period

    def reminders(self, value: Any) -> tuple[Reminder, ...] | None:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.wrong_type(("reminders",), value, "a list of reminders (- date: …, note: …)")
            return None
        out: list[Reminder] = []
        ok = True
        for i, item in enumerate(value):
            path: tuple[str | int, ...] = ("reminders", i)
            if not isinstance(item, dict):
                self.wrong_type(path, item, "a reminder with date and note")
                ok = False
                continue
            if not _REMINDER_KEY_SET.issuperset(item):
                self.unknown_keys(path, item, REMINDER_KEYS)
            when = item.get("date")
            when = (when, None) if type(when) is _Date else self.date((*path, "date"), when)
            note = item.get("note")
            if type(note) is not str:
                note = self.text((*path, "note"), note)
            done_raw = item.get("done", False)
            done, done_on = done_raw is True, None
            if done_raw is not None and not isinstance(done_raw, bool):
                parsed = self.date((*path, "done"), done_raw)
                if parsed is None:
                    ok = False
                else:
                    done, done_on = True, parsed[0]
            snooze = self.snooze((*path, "snooze"), item)
            if when is None or note is None or snooze is False:
                ok = False
                continue
            line, _ = self.at(path)
            out.append(Reminder(i, line, when[0], note.strip(), done, done_on, snooze if isinstance(snooze, dt.date) else None))
        return tuple(out) if ok else None

    def interactions(self, value: Any) -> tuple[Interaction, ...] | None:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.wrong_type(("interactions",), value, "a list of interactions (- date: …, type: …)")
            return None
        out: list[Interaction] = []
        ok = True
        types, known_types = _type_names(self.settings)
        # The common case (a date, a known type, text or nothing, a date or skip) is checked
        # inline; anything else goes through the general readers, which report what is wrong.
        for i, item in enumerate(value):
            path: tuple[str | int, ...] = ("interactions", i)
            if not isinstance(item, dict):
                self.wrong_type(path, item, "an interaction with date and type")
                ok = False
                continue
            if not _INTERACTION_KEY_SET.issuperset(item):
                self.unknown_keys(path, item, INTERACTION_KEYS)
            when = item.get("date")
            when = (when, None) if type(when) is _Date else self.date((*path, "date"), when)
            kind = item.get("type")
            type_ok = False
            if type(kind) is str and kind in known_types:
                type_ok = True
            elif kind is None:
                self.report((*path, "type"), f"is required (one of: {', '.join(types)})")
            elif not isinstance(kind, str):
                self.wrong_type((*path, "type"), kind, "text (an interaction type)")
            elif kind not in types:
                near = suggest(kind, types)
                hint = f"did you mean {near}? " if near else ""
                self.report(
                    (*path, "type"),
                    f"unknown interaction type {kind!r}; {hint}known types: {', '.join(types)} "
                    "(add more under types: in crm.yaml)",
                )
            else:  # pragma: no cover - a str in types is in known_types
                type_ok = True
            summary = item.get("summary")
            if type(summary) is not str:
                summary = self.text((*path, "summary"), summary)
            gained = item.get("gained")
            if type(gained) is not str:
                gained = self.text((*path, "gained"), gained)
            with_ = item.get("with")
            with_ = () if with_ is None else self.with_slugs((*path, "with"), with_)
            followed = item.get("followed_up")
            if type(followed) is _Date:
                skip = False
            elif followed is None and "followed_up" not in item:
                skip = False
            else:
                followed, skip = self.followed_up((*path, "followed_up"), followed, "followed_up" in item)
            if when is not None and isinstance(followed, dt.date) and followed < when[0]:
                self.report(
                    (*path, "followed_up"),
                    f"{followed.isoformat()} is before the interaction's date {when[0].isoformat()}",
                )
                ok = False
            snooze = self.snooze((*path, "snooze"), item)
            if (
                when is None
                or not type_ok
                or summary is None
                or gained is None
                or with_ is None
                or followed is False
                or snooze is False
            ):
                ok = False
                continue
            line = self.at(path)[0]
            out.append(
                Interaction(
                    i, line, when[0], when[1], str(kind), summary.strip(), gained.strip(), with_,
                    followed if isinstance(followed, dt.date) else None, skip,
                    snooze if isinstance(snooze, dt.date) else None,
                )
            )  # fmt: skip
        return tuple(out) if ok else None

    def snooze(self, path: tuple[str | int, ...], item: dict[str, Any]) -> dt.date | None | bool:
        """An item's `snooze: YYYY-MM-DD` (None: there is none; False: it is not a date)."""
        if "snooze" not in item:
            return None
        parsed = self.date(path, item["snooze"])
        return False if parsed is None else parsed[0]

    def followed_up(
        self, path: tuple[str | int, ...], value: Any, present: bool
    ) -> tuple[dt.date | None | bool, bool]:
        if value is None:
            if present:
                self.report(
                    path, "is empty (expected a date YYYY-MM-DD, or skip; remove the line if still pending)"
                )
                return False, False
            return None, False
        if isinstance(value, str) and value.strip().lower() == "skip":
            return None, True
        parsed = self.date(path, value)
        if parsed is None:
            return False, False
        return parsed[0], False

    def with_slugs(self, path: tuple[str | int, ...], value: Any) -> tuple[str, ...] | None:
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            self.wrong_type(path, value, "a list of contact slugs, e.g. [raj-patel]")
            return None
        out: list[str] = []
        for i, slug in enumerate(items):
            item_path = path if isinstance(value, str) else (*path, i)
            if not isinstance(slug, str) or not slug.strip():
                self.wrong_type(item_path, slug, "text (a contact slug)")
                return None
            line, column = self.at(item_path)
            self.references.append(Reference(slug.strip(), line, column, field_path(item_path), "with"))
            out.append(slug.strip())
        return tuple(out)

    def unknown_keys(self, path: tuple[str | int, ...], item: dict[str, Any], known: tuple[str, ...]) -> None:
        for key in item:
            if key not in known:
                near = suggest(key, known)
                hint = f"did you mean {near}? " if near else ""
                self.report(
                    (*path, key, "<key>"),
                    f"unknown field '{key}'; {hint}known: {', '.join(known)}",
                    "warning",
                )

    def wiki_links(self, body: str, body_line: int) -> None:
        if "[[" not in body:
            return
        # A link never spans lines: search the whole body, count lines only up to each match.
        number = 0
        line_start = 0
        counted = 0
        for match in WIKI_LINK.finditer(body):
            start = match.start()
            newlines = body.count("\n", counted, start)
            if newlines:
                number += newlines
                line_start = body.rfind("\n", counted, start) + 1
            counted = start
            self.references.append(
                Reference(match.group(1).strip(), body_line + number, start - line_start + 1, "body", "link")
            )


_types_of: tuple[Settings | None, tuple[str, ...], frozenset[str]] = (None, (), frozenset())


def _type_names(settings: Settings) -> tuple[tuple[str, ...], frozenset[str]]:
    """The settings' interaction type names, as a tuple and a set (kept for the last settings)."""
    global _types_of
    if _types_of[0] is not settings:
        names = settings.type_names
        _types_of = (settings, names, frozenset(names))
    return _types_of[1], _types_of[2]

