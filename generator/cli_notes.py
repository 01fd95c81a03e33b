"""`crm snooze`, and `crm done` for the notes job applications owe (SPEC §6–7).

`snooze` writes `snooze: D` where a follow-up comes from: on an interaction or a reminder of the
contact's file, or on the application that owes a note. `done` (in `cli_edit`) hands application
notes to `record_note` and application slugs to `done_application`, which write
`followed_up: {slug: D}` or `checked: D` on the stage. Every edit is byte-preserving, validated
before writing, atomic, under the file's lock; `--commit` commits exactly the changed file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

import click

from . import appedit, userfiles
from .appfollowups import application_followups
from .cli import main
from .cli_apps import (
    application_slugs,
    date_option,
    find_application,
    is_application,
    name_of,
    near_slug,
    owed_now,
    owed_text,
    same_stage,
    write_application,
)
from .cli_edit import COMMIT_HELP, check_commit, commit_files
from .cliutil import App, CrmError, get_app, parse_date_option
from .followups import contact_followups, sort_key
from .model import Application, Contact, FollowUp, Interaction, Reminder
from .validate import check_file

if TYPE_CHECKING:
    from .load import Loaded

KIND_WORDS = {"thank-you": "thank-you", "update": "update", "closing": "closing note", "status-check": "status check"}


# --- snooze -----------------------------------------------------------------------------------


@main.command()
@click.argument("slug")
@click.option(
    "--until", required=True, metavar="YYYY-MM-DD", help="Put the follow-up off to this day (today or later)."
)
@click.option(
    "--on", metavar="YYYY-MM-DD", help="The follow-up of the interaction, reminder or application stage on this date."
)
@click.option("--commit", is_flag=True, help=COMMIT_HELP)
def snooze(slug: str, until: str, on: str | None, commit: bool) -> None:
    """Put a follow-up off to a later day: writes `snooze: D` where it comes from.

    SLUG is a contact (their most urgent follow-up, or the one of the interaction, reminder or
    application stage on --on) or an application (every note it owes). A reconnect cannot be
    snoozed: log an interaction or change keep_in_touch.

    \b
    Examples:
      crm snooze jane-doe --until 2026-12-01
      crm snooze jane-doe --on 2026-11-20 --until 2026-12-01 --commit
      crm snooze globex-staff-engineer --until 2026-12-15
    """
    app = get_app()
    day = parse_date_option(until, "--until")
    on_date = date_option(on, "--on")
    today = app.today()
    if day < today:
        raise click.BadParameter(
            f"{day} is before today ({today}): a follow-up can only be put off to today or later", param_hint="--until"
        )
    loaded = app.load()
    if slug in loaded.by_slug() or slug in loaded.invalid:
        _snooze_contact(app, loaded, app.contact(slug), day, on_date, today, commit)
        return
    if is_application(app, slug):
        if on_date is not None:
            raise click.UsageError(
                "--on picks one of a contact's follow-ups; an application's snooze puts off all its notes"
            )
        _snooze_application(app, loaded, find_application(app, slug), day, today, commit)
        return
    near = near_slug(slug, [*loaded.by_slug(), *loaded.invalid, *application_slugs(app)])
    hint = f" — did you mean {near}?" if near else ""
    raise CrmError(f"no contact or application '{slug}'{hint}")


def _snooze_application(
    app: App, loaded: Loaded, application: Application, day: dt.date, today: dt.date, commit: bool
) -> None:
    contacts = loaded.by_slug()
    rows = owed_now(application, contacts, loaded.settings, today)
    if not rows:
        raise CrmError(f"nothing to snooze: {application.slug} owes no notes")
    if application.snooze is None and all(r.due >= day for r in rows):
        first = min(r.due for r in rows)
        raise CrmError(f"nothing to snooze: every note {application.slug} owes is due on {first} or later")
    check_commit(app, commit)
    _, updated = write_application(app, loaded, application.path, lambda text: appedit.set_field(text, "snooze", day))
    click.echo(f"Snoozed {application.path} until {day}: its notes are due then at the earliest")
    for row in owed_now(updated, contacts, loaded.settings, today):
        click.echo(f"  {owed_text(row, contacts)}")
    if commit:
        commit_files(app, [app.root / application.path], f"snooze {application.slug} until {day}")


def _on(item: FollowUp, on_date: dt.date) -> bool:
    return (
        (item.interaction is not None and item.interaction.date == on_date)
        or (item.reminder is not None and item.reminder.date == on_date)
        or (item.application is not None and item.application.stage_date == on_date)
    )


def _snooze_contact(
    app: App, loaded: Loaded, contact: Contact, day: dt.date, on_date: dt.date | None, today: dt.date, commit: bool
) -> None:
    settings = loaded.settings
    apps = loaded.involving.get(contact.slug, ())
    every = contact_followups(contact, settings, today, apps)
    items = sorted((f for f in every if on_date is None or _on(f, on_date)), key=sort_key)
    if not items:
        where = f" for {on_date}" if on_date is not None else ""
        raise CrmError(f"nothing to snooze: {contact.name} has no pending follow-up{where}")
    chosen = items[0]
    what = f"{chosen.kind} {'for' if chosen.kind == 'reminder' else 'to'} {contact.name}"
    if chosen.application is not None:
        note = chosen.application
        application = next(a for a in apps if a.slug == note.slug)
        click.echo(f"The {what} is a note {note.slug} owes; snoozing the application:")
        _snooze_application(app, loaded, application, day, today, commit)
        return
    source: Interaction | Reminder | None = chosen.interaction if chosen.interaction is not None else chosen.reminder
    if source is None:
        raise CrmError(
            f"{contact.name}'s {'most urgent ' if on_date is None else ''}follow-up is a reconnect (due {chosen.due}), "
            f"which cannot be snoozed: log an interaction (crm log {contact.slug} --type …) or change keep_in_touch "
            f"in {contact.path}" + (" (name another with --on DATE)" if on_date is None and len(items) > 1 else "")
        )
    list_key = "interactions" if chosen.interaction is not None else "reminders"
    if chosen.interaction is not None:
        about = f"{chosen.interaction.type.replace('-', ' ')} on {source.date}"
    else:
        about = f"reminder on {source.date}: {chosen.reminder.note if chosen.reminder else ''}"
    if source.snooze is None and chosen.due >= day:
        raise CrmError(f"nothing to snooze: the {what} ({about}) is due on {chosen.due}, not before {day}")
    check_commit(app, commit)

    def change(text: str) -> str:
        now = check_file(text.encode("utf-8"), contact.path, contact.slug, settings).contact
        items_now: tuple[Interaction | Reminder, ...] = () if now is None else getattr(now, list_key)
        if not any(i.index == source.index and i.date == source.date for i in items_now):
            raise userfiles.EditError("the file changed while the command ran; run it again")
        return appedit.set_item_field(text, list_key, source.index, "snooze", day)

    try:
        userfiles.edit_contact(app.root / contact.path, change, settings, contact.path)
    except userfiles.EditError as exc:
        raise CrmError(f"{contact.path}: {exc}") from None
    if chosen.interaction is not None:
        moved = dataclasses.replace(contact, interactions=tuple(
            dataclasses.replace(i, snooze=day) if i.index == source.index else i for i in contact.interactions
        ))  # fmt: skip
    else:
        moved = dataclasses.replace(contact, reminders=tuple(
            dataclasses.replace(r, snooze=day) if r.index == source.index else r for r in contact.reminders
        ))  # fmt: skip
    due = next(f.due for f in contact_followups(moved, settings, today) if f.uid_key == chosen.uid_key)
    click.echo(f"Snoozed the {what} ({about}) until {day} in {contact.path}: now due {due}")
    if commit:
        commit_files(app, [app.root / contact.path], f"snooze {what} until {day}")


# --- done: the notes an application owes ------------------------------------------------------


def pending_notes(app: App, contact: Contact, today: dt.date, on_date: dt.date | None) -> list[FollowUp]:
    """The notes `contact` is owed by their job applications (for the stage on `on_date`), most urgent first."""
    loaded = app.load()
    items = application_followups(contact, loaded.involving.get(contact.slug, ()), loaded.settings, today)
    return sorted(
        (f for f in items if on_date is None or (f.application is not None and f.application.stage_date == on_date)),
        key=lambda f: (f.due, f.application.stage_index if f.application else 0),
    )


def record_note(app: App, contact_slug: str, name: str, item: FollowUp, sent_on: dt.date, commit: bool) -> None:
    """Record an application's note to `contact_slug` as sent on `sent_on`: `followed_up:
    {slug: date}` on its stage, or `checked: date` for a status check."""
    loaded = app.load()
    note = item.application
    assert note is not None
    application = find_application(app, note.slug)
    _record(app, loaded, application, note.stage_index, item.kind, contact_slug, name, sent_on, commit)


def _record(
    app: App, loaded: Loaded, application: Application, index: int, kind: str, slug: str, name: str,
    sent_on: dt.date, commit: bool,
) -> None:  # fmt: skip
    chosen = next(s for s in application.stages if s.index == index)
    if sent_on < chosen.date:
        raise CrmError(
            f"--date {sent_on} is before the {chosen.stage} on {chosen.date}; a note about it cannot go out before it"
        )
    check_commit(app, commit)
    check = same_stage(loaded, application, index)

    def change(text: str) -> str:
        check(text)
        if kind == "status-check":
            return appedit.set_item_field(text, "stages", index, "checked", sent_on, replace=False)
        return appedit.add_followed_up(text, index, slug, sent_on)

    write_application(app, loaded, application.path, change)
    job = f"{application.company}, {application.role} ({chosen.stage} on {chosen.date})"
    if kind == "status-check":
        asked = f" with {name}" if name else ""
        click.echo(f"Recorded the status check{asked} for {job} on {sent_on}")
        message = f"status check for {application.slug} ({chosen.stage} on {chosen.date})"
    else:
        click.echo(f"Recorded the {KIND_WORDS[kind]} to {name} for {job} as sent on {sent_on}")
        message = f"{KIND_WORDS[kind]} sent to {name} for {application.slug} ({chosen.stage} on {chosen.date})"
    if commit:
        commit_files(app, [app.root / application.path], message)


def done_application(
    app: App, slug: str, to: str | None, sent_on: dt.date | None, on_date: dt.date | None, commit: bool
) -> None:
    """`crm done APP`: the status check of its latest stage (or of the stage on `on_date`), or
    with `to` that person's note about it."""
    application = find_application(app, slug)
    loaded = app.load()
    today = app.today()
    sent_on = sent_on or today
    stages = [s for s in application.stages if on_date is None or s.date == on_date]
    if not stages:
        dates = ", ".join(f"{s.stage} {s.date}" for s in application.stages)
        raise CrmError(f"{application.slug} has no stage on {on_date} (stages: {dates})")
    stage = stages[-1]
    where = f"{application.slug} ({stage.stage} on {stage.date})"
    if to is None:
        rows = [r for r in owed_now(application, loaded.by_slug(), loaded.settings, today)
                if r.owed.kind == "status-check" and r.owed.stage.index == stage.index]  # fmt: skip
        if not rows:
            why = (
                f"it is closed ({stage.stage})" if stage.stage in loaded.settings.outcome_stages
                else f"it was recorded on {stage.checked}" if stage.checked is not None
                else "a status check is owed only at the latest stage"
            )  # fmt: skip
            raise CrmError(f"no status check is owed for {where}: {why}; for a note to someone, add --to SLUG")
        who = rows[0].owed.slug
        name = name_of(who, loaded.by_slug()) if who else ""
        _record(app, loaded, application, stage.index, "status-check", who, name, sent_on, commit)
        return
    if to not in application.people():
        people = ", ".join(application.people()) or "nobody"
        raise CrmError(f"--to {to}: '{to}' is not part of {application.slug} (people: {people})")
    contact = app.contact(to)
    items = sorted(
        (f for f in application_followups(contact, [application], loaded.settings, today)
         if f.application is not None and f.application.stage_index == stage.index),
        key=lambda f: f.due,
    )  # fmt: skip
    if not items:
        raise CrmError(f"no note to {contact.name} is pending for {where}")
    _record(app, loaded, application, stage.index, items[0].kind, contact.slug, contact.name, sent_on, commit)

