"""`crm check`, `crm followups` and `crm draft`: the commands that read the CRM and print."""

from __future__ import annotations

import json
from typing import Any

import click

from .applications import application_files
from .cli import main
from .cliutil import CrmError, finish, get_app, parse_date_option, report_problems, style
from .dates import relative_days
from .drafts import MISSING_GAINED_FLAG, NoteRenderer
from .followups import describe, followup_rate, pending_followups, select
from .model import FollowUp

# --- check ------------------------------------------------------------------------------------


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only, no warnings or summary.")
def check(fmt: str, strict: bool, quiet: bool) -> None:
    """Validate every contact file, job application and crm.yaml.

    Prints `file:line:column: severity: field: message` for each problem on stderr
    and exits 1 when any file has an error (or a warning, with --strict).

    \b
    Example:
      $ crm check
      contacts/jane-doe.md:14:11: error: interactions[1].date: 'next tuesday' is not a date (expected YYYY-MM-DD)
      12 contacts, 1 error, 0 warnings
    """
    app = get_app()
    loaded = app.load()
    errors, warnings = loaded.errors, loaded.warnings
    if fmt == "json":
        doc = {"contacts": loaded.valid_count, "problems": [p.as_json() for p in loaded.problems]}
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        report_problems(loaded.problems, quiet_warnings=quiet)
        if not quiet:
            jobs = len(application_files(app.root))
            summary = (
                f"{loaded.files} contact file{'s' if loaded.files != 1 else ''}, "
                + (f"{jobs} application{'s' if jobs != 1 else ''}, " if jobs else "")
                + f"{len(errors)} error{'s' if len(errors) != 1 else ''}, "
                f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}"
            )
            colour = "red" if errors else "yellow" if warnings else "green"
            click.echo(style(summary, fg=colour))
    if errors or (strict and warnings):
        raise SystemExit(1)


# --- followups --------------------------------------------------------------------------------

STATUS_HEADING = {
    "overdue": "Overdue", "due": "Due today", "upcoming": "Upcoming", "later": "Later",
    "missed": "Missed (consider a reconnect note)",
}  # fmt: skip


@main.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "ics"]), default="text", show_default=True
)
@click.option("--overdue", "overdue_only", is_flag=True, help="Only overdue follow-ups.")
@click.option("--within", type=click.IntRange(min=0), metavar="DAYS", help="Everything due within DAYS days.")
@click.option("--all", "include_all", is_flag=True, help="Every pending follow-up, however far off, missed ones too.")
@click.option(
    "--missed", is_flag=True, help="Only missed ones: thank-yous and check-ins past their late_after (14 and 21 days)."
)
@click.option("--tag", help="Only contacts with this tag.")
def followups(
    fmt: str, overdue_only: bool, within: int | None, include_all: bool, missed: bool, tag: str | None
) -> None:
    """List the follow-ups you owe (default: overdue, due today and upcoming).

    \b
    Examples:
      crm followups                     overdue, due today, and the next 7 days
      crm followups --overdue           only what is late
      crm followups --missed            too late to send: a reconnect note instead
      crm followups --within 30 --tag acme
      crm followups --format ics > followups.ics
    """
    if sum([overdue_only, within is not None, include_all, missed]) > 1:
        raise click.UsageError("choose one of --overdue, --within, --all and --missed")
    app = get_app()
    loaded = app.load()
    today = app.today()
    contacts = loaded.by_slug()
    items = pending_followups(loaded.contacts, loaded.settings, today, loaded.involving)
    shown = select(
        items, overdue_only=overdue_only, within=within, missed=missed, tag=tag, contacts=contacts,
        include_all=include_all or fmt == "ics" and not (overdue_only or within is not None or tag or missed),
    )  # fmt: skip
    if fmt == "ics" and not missed:  # a calendar holds what is still worth doing
        shown = [f for f in shown if f.status != "missed"]
    if fmt == "json":
        doc = {"today": today.isoformat(), "followups": [f.as_json() for f in shown]}
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif fmt == "ics":
        from .ics import calendar

        notes = NoteRenderer(app.root)
        click.echo(calendar(shown, contacts, loaded.settings, today, notes), nl=False)
    else:
        _print_followups(shown, today, app.today_is_fixed())
        hidden = 0 if missed or include_all else len(select(items, missed=True, tag=tag, contacts=contacts))
        if hidden:
            click.echo(f"\n{hidden} missed, too late to send (see them: crm followups --missed)")
        rate = followup_rate(loaded.contacts, loaded.settings, today)
        if rate.percent is not None:
            click.echo(
                f"\nFollow-up rate (last 90 days): {rate.percent}% — "
                f"{rate.on_time} of {rate.counted} thank-you notes sent on time"
            )
    finish(loaded)


def _print_followups(items: list[FollowUp], today: Any, fixed: bool) -> None:
    if fixed:
        click.echo(style(f"(as of {today.isoformat()})", dim=True))
    if not items:
        click.echo("Nothing to follow up. Nice work.")
        return
    name_width = min(28, max(len(i.name) for i in items))
    kind_width = max(10, *(len(i.kind) for i in items))
    colours = {"overdue": "red", "due": "yellow", "upcoming": "cyan", "later": None, "missed": None}
    current = None
    for item in items:
        if item.status != current:
            if current is not None:
                click.echo("")
            current = item.status
            count = sum(1 for i in items if i.status == current)
            click.echo(style(f"{STATUS_HEADING[current]} ({count})", bold=True, fg=colours[current]))
        when = relative_days(item.days)
        flag = f"  [{MISSING_GAINED_FLAG}]" if item.note_missing_gained else ""
        click.echo(
            f"  {item.due.isoformat()}  {when:<17} {item.kind:<{kind_width}} "
            f"{item.name[:name_width]:<{name_width}}  {describe(item)}{flag}"
        )


# --- draft ------------------------------------------------------------------------------------


@main.command()
@click.argument("slug")
@click.option("--date", "on", metavar="YYYY-MM-DD", help="The draft for the interaction on this date.")
def draft(slug: str, on: str | None) -> None:
    """Print the note draft of a contact's most urgent thank-you or check-in.

    The first line is `Subject: …`, then the body, ready to paste into an email.

    \b
    Examples:
      crm draft jane-doe
      crm draft jane-doe --date 2026-11-20
    """
    app = get_app()
    on_date = parse_date_option(on, "--date") if on else None
    contact = app.contact(slug)
    loaded = app.load()
    today = app.today()
    items = [
        f
        for f in pending_followups([contact], loaded.settings, today, loaded.involving)
        if (f.kind in ("thank-you", "check-in") or f.application is not None)
        and (
            on_date is None
            or (f.interaction and f.interaction.date == on_date)
            or (f.application and f.application.stage_date == on_date)
        )
    ]
    if not items:
        if on_date is not None:
            dates = ", ".join(i.date.isoformat() for i in contact.interactions_by_date()) or "none"
            raise CrmError(
                f"{contact.name} has no pending thank-you or check-in for {on_date} (interactions: {dates})"
            )
        raise CrmError(f"nothing to draft: {contact.name} has no pending thank-you or check-in")
    chosen = items[0]
    note = NoteRenderer(app.root).draft(contact, chosen, loaded.settings, today)
    assert note is not None
    click.echo(note.text, nl=False)
    if chosen.note_missing_gained:
        click.echo(
            style(
                f"\nNote: {MISSING_GAINED_FLAG} (set 'gained:' on the interaction).", err=True, fg="yellow"
            ),
            err=True,
        )
