"""The data Tipscale works with: contacts, their interactions, follow-ups and problems.

Everything here is frozen and typed; the loader builds these and nothing else mutates them.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]
FollowUpKind = Literal["thank-you", "check-in", "reconnect", "reminder", "update", "status-check", "closing"]
Status = Literal["overdue", "due", "upcoming", "later", "missed"]


@dataclass(frozen=True)
class Problem:
    """Something wrong (or suspicious) in a user's file, pointing at the offending YAML node."""

    file: str  # path relative to the CRM root, POSIX separators
    line: int  # 1-based line in the file
    column: int  # 1-based column in the file
    severity: Severity
    field: str  # field path, e.g. "interactions[1].date"; "" for the whole file
    message: str

    def format(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{self.file}:{self.line}:{self.column}: {self.severity}: {where}{self.message}"

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "field": self.field,
            "message": self.message,
        }


class HasProblems:
    """`errors` and `warnings` of anything with a `problems` list."""

    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


@dataclass
class BuildReport(HasProblems):
    """What one build of the site did (`build.build_site`, `site.SiteBuilder.build`)."""

    pages: int  # pages (and assets) in the plan
    written: int  # files written because their bytes changed
    skipped: int  # planned files left as they were
    removed: int  # stale files removed
    problems: list[Problem]  # every problem found in the files (errors and warnings)
    seconds: float
    error_files: list[str] = field(default_factory=list)  # files with errors (`build_site` fills it)


@dataclass(frozen=True)
class Period:
    """A keep-in-touch period: `count` days, weeks, calendar months or years."""

    count: int
    unit: Literal["d", "w", "m", "y"]

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"

    def describe(self) -> str:
        names = {"d": "day", "w": "week", "m": "month", "y": "year"}
        name = names[self.unit]
        return f"every {name}" if self.count == 1 else f"every {self.count} {name}s"


@dataclass(frozen=True)
class Interaction:
    """One meeting, call or message with a contact, as written in `interactions:`."""

    index: int  # position in the file's list (0-based), used to address it when editing
    line: int  # line of the list item in the file
    date: dt.date
    time: str | None  # "14:30" when the date had a time, else None
    type: str
    summary: str
    gained: str  # what the user got of value; feeds the thank-you note
    with_: tuple[str, ...]  # slugs of other contacts present
    followed_up: dt.date | None  # when the thank-you went out; None = pending
    skip: bool  # `followed_up: skip`: no follow-up needed
    snooze: dt.date | None = None  # its follow-ups put off to this day


@dataclass(frozen=True)
class Reminder:
    """A dated reminder from `reminders:`."""

    index: int
    line: int
    date: dt.date
    note: str
    done: bool
    done_on: dt.date | None
    snooze: dt.date | None = None  # put off to this day


@dataclass(frozen=True)
class Contact:
    """A valid contact file. Unknown keys are kept in `extra` in file order."""

    slug: str
    path: str  # relative to the CRM root, POSIX separators
    name: str
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    company: str = ""
    title: str = ""
    location: str = ""
    tags: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()  # (label, url) in file order
    how_we_met: str = ""
    keep_in_touch: Period | None = None
    reminders: tuple[Reminder, ...] = ()
    interactions: tuple[Interaction, ...] = ()  # file order
    extra: tuple[tuple[str, str], ...] = ()  # unknown keys, value shown as text
    body: str = ""  # the Markdown notes after the front matter

    @property
    def email(self) -> str:
        return self.emails[0] if self.emails else ""

    @property
    def last_interaction(self) -> Interaction | None:
        if not self.interactions:
            return None
        return max(self.interactions, key=lambda i: (i.date, i.time or "", i.index))

    def interactions_by_date(self) -> list[Interaction]:
        """Newest first."""
        return sorted(self.interactions, key=lambda i: (i.date, i.time or "", i.index), reverse=True)


@dataclass(frozen=True)
class Stage:
    """One step of a job application's `stages:` list."""

    index: int
    line: int
    stage: str
    date: dt.date
    with_: tuple[str, ...] = ()  # slugs of the people met at this stage
    note: str = ""
    followed_up: tuple[tuple[str, dt.date], ...] = ()  # (slug, when) of each note sent about it
    checked: dt.date | None = None  # when you asked for news (a status check) at this stage

    def sent_to(self, slug: str) -> dt.date | None:
        return next((when for who, when in self.followed_up if who == slug), None)


@dataclass(frozen=True)
class Application:
    """A valid `applications/<slug>.md` file."""

    slug: str
    path: str
    company: str
    role: str
    stages: tuple[Stage, ...]  # in file order, which is the order they happened
    url: str = ""
    via: str = ""  # the referrer's slug
    contacts: tuple[str, ...] = ()  # recruiter, hiring manager… (slugs)
    next: dt.date | None = None  # when you expect news
    snooze: dt.date | None = None  # its follow-ups put off to this day
    body: str = ""

    @property
    def last(self) -> Stage:
        return self.stages[-1]

    def is_open(self, settings: Settings) -> bool:
        """Not ended by an outcome (accepted, rejected, withdrawn…)."""
        return self.last.stage not in settings.outcome_stages

    def people(self) -> tuple[str, ...]:
        """Everyone involved, each once: the referrer, the contacts, those met at each stage."""
        seen = dict.fromkeys([*([self.via] if self.via else []), *self.contacts])
        for stage in self.stages:
            seen.update(dict.fromkeys(stage.with_))
        return tuple(seen)


@dataclass(frozen=True)
class AppNote:
    """Which job application and stage a follow-up is about, and why this person gets it."""

    slug: str  # the application's file name without .md
    company: str
    role: str
    stage: str
    stage_index: int  # position in the application's `stages`
    stage_date: dt.date
    to: Literal["referrer", "interviewer", "recruiter"]
    url: str = ""
    stage_note: str = ""  # the stage's `note`, for the draft

    def as_json(self) -> dict[str, object]:
        return {
            "slug": self.slug, "company": self.company, "role": self.role, "stage": self.stage,
            "date": self.stage_date.isoformat(), "to": self.to,
        }  # fmt: skip


@dataclass(frozen=True)
class FollowUp:
    """A pending follow-up derived from a contact (SPEC §4)."""

    contact: str  # slug
    name: str
    kind: FollowUpKind
    due: dt.date
    status: Status
    days: int  # due minus today
    interaction: Interaction | None = None
    reminder: Reminder | None = None
    note_missing_gained: bool = False
    application: AppNote | None = None  # a note a job application owes this contact

    @functools.cached_property
    def uid_key(self) -> str:
        """Stable identity across builds (used for calendar UIDs and page anchors)."""
        return self.key_text()

    def key_text(self) -> str:
        """`uid_key`, computed each time."""
        if self.interaction is not None:
            return f"{self.contact}-{self.kind}-{self.interaction.date.isoformat()}-{self.interaction.index}"
        if self.reminder is not None:
            return f"{self.contact}-{self.kind}-{self.reminder.date.isoformat()}-{self.reminder.index}"
        if self.application is not None:
            return f"{self.contact}-{self.kind}-{self.application.slug}-{self.application.stage_index}"
        return f"{self.contact}-{self.kind}"

    def as_json(self) -> dict[str, object]:
        """SPEC §6's shape; a note a job application owes also has "application"."""
        shape: dict[str, object] = {
            "contact": self.contact,
            "name": self.name,
            "kind": self.kind,
            "due": self.due.isoformat(),
            "status": self.status,
            "days": self.days,
            "interaction": (
                {"date": self.interaction.date.isoformat(), "type": self.interaction.type}
                if self.interaction is not None
                else None
            ),
            "note_missing_gained": self.note_missing_gained,
        }
        if self.application is not None:
            shape["application"] = self.application.as_json()
        return shape


@dataclass(frozen=True)
class TypeRule:
    """Follow-up rule of one interaction type (days after the interaction)."""

    thank_you: int | None = None
    check_in: int | None = None
    note: str | None = None  # note template name under templates/notes/
    late_after: int | None = None  # days past due after which a thank-you or check-in is missed


@dataclass(frozen=True)
class Me:
    name: str = ""
    email: str = ""
    signature: str = ""


@dataclass(frozen=True)
class Settings:
    me: Me = field(default_factory=Me)
    upcoming_days: int = 7
    today: dt.date | None = None
    types: tuple[tuple[str, TypeRule], ...] = ()
    dashboard_per_section: int = 20  # `dashboard: {per_section: N}`: cards per dashboard section
    stages: tuple[str, ...] = ("applied", "screen", "interview", "onsite", "offer", "accepted", "rejected", "withdrawn")
    interview_stages: tuple[str, ...] = ("screen", "interview", "onsite")  # owe a thank-you to `with`
    outcome_stages: tuple[str, ...] = ("accepted", "rejected", "withdrawn")  # end an application
    status_check_days: int = 7  # no news this long after a stage (and no `next`): ask

    def rule(self, type_name: str) -> TypeRule:
        for name, rule in self.types:
            if name == type_name:
                return rule
        return TypeRule()

    @property
    def type_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.types)
