"""`crm apply`, `crm stage`, `crm applications` and `crm snooze`, and the job-application side of
`crm done` (SPEC §6–7): the command line of `applications/<slug>.md`.

Edits go through `appedit` (byte-preserving, validated with `applications.check_application`
before writing, atomic, under the file's lock) or, for a contact's file, through
`userfiles.edit_contact`; with `--commit` exactly the changed file is committed.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from . import appedit, userfiles
from .appfollowups import Owed, logged_as_interaction, notes_owed, timed
from .applications import APPLICATIONS_DIR, application_files, check_application
from .checked import suggest
from .cli import main
from .cli_edit import COMMIT_HELP, check_commit, commit_files
from .cliutil import App, CrmError, finish, get_app, parse_date_option, style
from .model import Application, Contact, Settings, Status
from .slugs import slugify, unique_slug

if TYPE_CHECKING:
    from .load import Loaded

# --- shared -----------------------------------------------------------------------------------


def _known(loaded: Loaded) -> frozenset[str]:
    """The contact slugs an application may name (what `load` checks application files with)."""
    return frozenset(loaded.slugs if loaded.slugs is not None else loaded.sources())


def _check_contact(option: str, slug: str, loaded: Loaded) -> None:
    """An --option naming a contact: it must exist (else a hint, as `crm log --with` gives)."""
    known = sorted(set(loaded.by_slug()) | set(loaded.invalid))
    if slug in known:
        return
    near = difflib.get_close_matches(slug, known, n=1, cutoff=0.6)
    by_name = [c.slug for c in loaded.contacts if slug.casefold() in c.name.casefold()]
    hint = f"; did you mean {near[0]}?" if near else f"; did you mean {by_name[0]}?" if by_name else ""
    raise CrmError(f"{option} {slug}: no contact '{slug}'{hint}")


def near_slug(slug: str, candidates: Iterable[str]) -> str | None:
    """The candidate `slug` most likely meant: one containing it, else the closest, compared with
    each of its leading parts too ("globx" → globex-staff-engineer)."""
    best, score = None, 0.6
    for candidate in sorted(candidates):
        parts = candidate.split("-")
        heads = ["-".join(parts[:n]) for n in range(1, len(parts) + 1)]
        found = max(difflib.SequenceMatcher(None, slug, h).ratio() for h in heads)
        if slug and slug in candidate:
            found = 1.0
        if found > score:
            best, score = candidate, found
    return best


def application_slugs(app: App) -> dict[str, str]:
    return {rel.rsplit("/", 1)[-1][:-3]: rel for _, rel in application_files(app.root)}


def is_application(app: App, slug: str) -> bool:
    return slug in application_slugs(app)


def find_application(app: App, slug: str) -> Application:
    """The valid application with this slug, or an error (with a suggestion, or its first error)."""
    loaded = app.load()
    for application in loaded.applications:
        if application.slug == slug:
            return application
    files = application_slugs(app)
    if slug in files:
        first = next((p for p in loaded.errors if p.file == files[slug]), None)
        detail = f":\n  {first.format()}" if first is not None else ""
        raise CrmError(f"application '{slug}' has errors; fix them first{detail}")
    near = near_slug(slug, files)
    hint = f" — did you mean {near}?" if near else " ('crm applications --all' lists them)"
    raise CrmError(f"no application '{slug}'{hint}")


def name_of(slug: str, contacts: Mapping[str, Contact]) -> str:
    contact = contacts.get(slug)
    return contact.name if contact is not None else slug


def date_option(value: str | None, option: str) -> dt.date | None:
    return parse_date_option(value, option) if value else None


def write_application(app: App, loaded: Loaded, rel: str, change: Callable[[str], str]) -> tuple[str, Application]:
    """Apply `change` to an application file under its lock; its new text and application."""
    try:
        _, new = appedit.edit_application(app.root / rel, change, loaded.settings, _known(loaded), rel)
        return new, appedit.validate(new, rel, rel.rsplit("/", 1)[-1][:-3], loaded.settings, _known(loaded))
    except userfiles.EditError as exc:
        raise CrmError(f"{rel}: {exc}") from None


def same_stage(loaded: Loaded, application: Application, index: int) -> Callable[[str], None]:
    """A check, run on the file's text under its lock, that stages[index] is still the stage
    this command chose (the file may have changed since it was loaded)."""
    chosen = next(s for s in application.stages if s.index == index)

    def check(text: str) -> None:
        data = text.encode("utf-8")
        now, _ = check_application(data, application.path, application.slug, loaded.settings, _known(loaded))
        found = [(s.stage, s.date) for s in (now.stages if now is not None else ()) if s.index == index]
        if found != [(chosen.stage, chosen.date)]:
            raise userfiles.EditError("the file changed while the command ran; run it again")

    return check


# --- the notes an application owes ------------------------------------------------------------


@dataclass(frozen=True)
class OwedNow:
    """A note an application owes, as `crm followups` lists it: its due date after any snooze."""

    owed: Owed
    due: dt.date
    status: Status


def owed_now(
    application: Application, contacts: Mapping[str, Contact], settings: Settings, today: dt.date
) -> list[OwedNow]:
    """`notes_owed` with snooze and status applied as `appfollowups.application_followups` does,
    a status check with no one to ask included; an interviewer's thank-you that an interaction in
    their own file owes is left to that interaction."""
    out: list[OwedNow] = []
    for owed in notes_owed(application, settings):
        contact = contacts.get(owed.slug)
        if contact is not None and logged_as_interaction(owed, contact):
            continue
        out.append(OwedNow(owed, *timed(application, owed, settings, today)))
    return out


def owed_text(row: OwedNow, contacts: Mapping[str, Contact]) -> str:
    if not row.owed.slug:
        return f"{row.owed.kind} (no one to ask) by {row.due}"
    return f"{row.owed.kind} to {name_of(row.owed.slug, contacts)} by {row.due}"


def _print_owed(rows: list[OwedNow], contacts: Mapping[str, Contact], application: Application) -> None:
    if not rows:
        click.echo("Owed: nothing for now")
    for row in rows:
        then = f"crm draft {row.owed.slug}" if row.owed.slug else f"crm done {application.slug} once you have checked"
        click.echo(f"Owed: {owed_text(row, contacts)} — {then}")


# --- apply ------------------------------------------------------------------------------------


@main.command()
@click.argument("company")
@click.argument("role")
@click.option("--via", metavar="SLUG", help="Who referred you (a contact's slug): owed a thank-you, then updates.")
@click.option("--url", metavar="URL", help="The job posting (https://…).")
@click.option(
    "--contact", "contacts", multiple=True, metavar="SLUG", help="Recruiter or hiring manager (repeat for several)."
)
@click.option("--date", "on", metavar="YYYY-MM-DD", help="When you applied (default: today).")
@click.option("--next", "next_", metavar="YYYY-MM-DD", help="When you expect news: the status check is due then.")
@click.option("--commit", is_flag=True, help=COMMIT_HELP)
def apply(
    company: str, role: str, via: str | None, url: str | None, contacts: tuple[str, ...],
    on: str | None, next_: str | None, commit: bool,
) -> None:  # fmt: skip
    """Record a job application: creates applications/<slug>.md (slug from COMPANY and ROLE)
    with its first stage, applied, and prints the notes it owes.

    Never overwrites: applying twice for the same role makes <slug>-2.md.

    \b
    Examples:
      crm apply Globex "Staff Engineer" --via raj-patel --contact mia-chen \\
          --url https://globex.example/jobs/42 --next 2026-12-10
      crm apply Initech "Backend Engineer" --date 2026-11-20 --commit
    """
    app = get_app()
    for value, hint in ((company, "COMPANY"), (role, "ROLE")):
        if not value.strip():
            raise click.BadParameter("it is empty", param_hint=hint)
    if url and not url.startswith(("https://", "http://")):
        raise click.BadParameter(f"{url!r} is not a web address (expected https://…)", param_hint="--url")
    day = date_option(on, "--date") or app.today()
    next_day = date_option(next_, "--next")
    if next_day is not None and next_day < day:
        raise click.BadParameter(f"{next_day} is before the application's date {day}", param_hint="--next")
    loaded = app.load()
    settings = loaded.settings
    for option, slug in ([("--via", via)] if via else []) + [("--contact", c) for c in contacts]:
        _check_contact(option, slug, loaded)
    check_commit(app, commit)
    folder = app.root / APPLICATIONS_DIR
    taken = {n[:-3] for n in os.listdir(folder) if n.endswith(".md")} if folder.is_dir() else set()
    slug = unique_slug(f"{company} {role}", taken)
    first = "applied" if "applied" in settings.stages else settings.stages[0]
    rel = f"{APPLICATIONS_DIR}/{slug}.md"
    try:
        text = appedit.new_application_text(
            company, role, {"stage": first, "date": day}, url=url or "", via=via or "",
            contacts=list(dict.fromkeys(contacts)), next_day=next_day,
            stages=settings.stages, outcomes=settings.outcome_stages,
        )  # fmt: skip
        appedit.create_application(app.root / rel, text, settings, _known(loaded), rel)
        application = appedit.validate(text, rel, slug, settings, _known(loaded))
    except userfiles.EditError as exc:
        raise CrmError(str(exc)) from None
    click.echo(f"Created {rel}: {application.company}, {application.role} — {first} on {day}")
    base = slugify(f"{company} {role}")
    if slug != base and base in taken:
        click.echo(f"({APPLICATIONS_DIR}/{base}.md was there already: this is another application)")
    _print_owed(owed_now(application, loaded.by_slug(), settings, app.today()), loaded.by_slug(), application)
    if commit:
        commit_files(app, [app.root / rel], f"apply to {application.company}, {application.role}")


# --- stage ------------------------------------------------------------------------------------


@main.command()
@click.argument("application", metavar="APP")
@click.argument("stage_name", metavar="STAGE")
@click.option("--date", "on", metavar="YYYY-MM-DD", help="When it happened (default: today).")
@click.option(
    "--with", "with_", multiple=True, metavar="SLUG", help="Someone you met at it: owed a thank-you (repeat)."
)
@click.option("--note", metavar="TEXT", help="What it was, e.g. 'system design, 45 minutes'.")
@click.option("--next", "next_", metavar="YYYY-MM-DD", help="When you expect news now (sets next:).")
@click.option("--commit", is_flag=True, help=COMMIT_HELP)
def stage(
    application: str, stage_name: str, on: str | None, with_: tuple[str, ...], note: str | None,
    next_: str | None, commit: bool,
) -> None:  # fmt: skip
    """Add a stage to a job application (applied, screen, interview, onsite, offer, and the
    outcomes accepted, rejected, withdrawn; crm.yaml can change them) and print the notes it owes.

    Stages go in that order, each dated on or after the one before; an outcome ends the list.

    \b
    Examples:
      crm stage globex-staff-engineer interview --with mia-chen --with tom-ross \\
          --note "system design, 45 minutes" --next 2026-12-10
      crm stage globex-staff-engineer rejected --date 2026-12-12 --commit
    """
    app = get_app()
    day = date_option(on, "--date") or app.today()
    next_day = date_option(next_, "--next")
    if next_day is not None and next_day < day:
        raise click.BadParameter(f"{next_day} is before the stage's date {day}", param_hint="--next")
    target = find_application(app, application)
    loaded = app.load()
    settings = loaded.settings
    if stage_name not in settings.stages:
        near = suggest(stage_name, settings.stages)
        hint = f"did you mean {near}? " if near else ""
        raise click.BadParameter(
            f"unknown stage {stage_name!r} ({hint}stages: {', '.join(settings.stages)}; "
            "more can be added under applications: stages: in crm.yaml)",
            param_hint="STAGE",
        )
    for other in with_:
        _check_contact("--with", other, loaded)
    check_commit(app, commit)
    item: dict[str, object] = {
        "stage": stage_name, "date": day, "with": list(dict.fromkeys(with_)), "note": note or None,
    }  # fmt: skip

    def change(text: str) -> str:
        text = appedit.append_item(text, "stages", item)
        return appedit.set_field(text, "next", next_day) if next_day is not None else text

    _, updated = write_application(app, loaded, target.path, change)
    click.echo(f"Added {stage_name} on {day} to {target.path} ({target.company}, {target.role})")
    contacts = loaded.by_slug()
    rows = [r for r in owed_now(updated, contacts, settings, app.today()) if r.owed.stage.index == updated.last.index]
    _print_owed(rows, contacts, updated)
    if commit:
        commit_files(app, [app.root / target.path], f"stage {stage_name} for {target.slug}")


# --- applications -----------------------------------------------------------------------------


def _application_json(application: Application, rows: list[OwedNow], settings: Settings) -> dict[str, object]:
    return {
        "slug": application.slug, "company": application.company, "role": application.role,
        "url": application.url or None, "via": application.via or None, "contacts": list(application.contacts),
        "stage": application.last.stage, "date": application.last.date.isoformat(),
        "next": application.next.isoformat() if application.next else None,
        "open": application.is_open(settings),
        "stages": [
            {"stage": s.stage, "date": s.date.isoformat(), "with": list(s.with_), "note": s.note or None}
            for s in application.stages
        ],
        "owed": [
            {"to": r.owed.slug or None, "kind": r.owed.kind, "due": r.due.isoformat(), "status": r.status}
            for r in rows
        ],
    }  # fmt: skip


@main.command("applications")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--open", "only_open", is_flag=True, help="Only open applications (the default).")
@click.option("--all", "include_all", is_flag=True, help="Closed ones too (accepted, rejected, withdrawn).")
def list_applications(fmt: str, only_open: bool, include_all: bool) -> None:
    """List job applications: the current stage, when news is expected, the notes owed.

    Open ones first (the last stage is not an outcome), then the most recent first.

    \b
    Examples:
      crm applications
      crm applications --all --format json
    """
    if only_open and include_all:
        raise click.UsageError("choose one of --open and --all")
    app = get_app()
    loaded = app.load()
    today = app.today()
    settings = loaded.settings
    contacts = loaded.by_slug()
    every = sorted(
        loaded.applications,
        key=lambda a: (not a.is_open(settings), -a.last.date.toordinal(), a.slug),
    )
    shown = [a for a in every if include_all or a.is_open(settings)]
    rows = {a.slug: owed_now(a, contacts, settings, today) for a in shown}
    if fmt == "json":
        listed = [_application_json(a, rows[a.slug], settings) for a in shown]
        doc = {"today": today.isoformat(), "applications": listed}
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        if app.today_is_fixed():
            click.echo(style(f"(as of {today.isoformat()})", dim=True))
        _print_table(shown, rows, contacts)
        hidden = len(every) - len(shown)
        if hidden:
            click.echo(f"\n{hidden} closed application{'s' if hidden != 1 else ''} not shown (crm applications --all)")
    finish(loaded)


def _cut(text: str, width: int = 28) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_table(shown: list[Application], rows: dict[str, list[OwedNow]], contacts: Mapping[str, Contact]) -> None:
    """One line per application; a second note owed goes on the next line, under the first."""
    if not shown:
        click.echo("No open applications. Add one: crm apply COMPANY ROLE")
        return
    table = [("SLUG", "COMPANY", "ROLE", "STAGE", "NEXT")]
    owed = [["OWED"]]
    for a in shown:
        current = f"{a.last.stage} {a.last.date.isoformat()}"
        table.append((a.slug, _cut(a.company), _cut(a.role), current, a.next.isoformat() if a.next else "-"))
        owed.append([f"{owed_text(r, contacts)} ({r.status})" for r in rows[a.slug]] or ["-"])
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    indent = " " * (sum(widths) + 2 * 5)
    for row, notes in zip(table, owed, strict=True):
        click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + "  " + notes[0])
        for more in notes[1:]:
            click.echo(indent + more)
