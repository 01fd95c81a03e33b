"""Commands that change the user's files: new, log, done, history, init, hook (SPEC §6–7).

They edit contact files through `edit` (byte-preserving, validated, atomic, locked) and, with
`--commit`, commit exactly the files they changed through `gitops.commit_paths`.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from pathlib import Path

import click

from . import edit, gitops, userfiles
from .cli import main
from .cliutil import App, CrmError, get_app, parse_date_option, style
from .dates import after
from .followups import contact_followups
from .gitlog import file_history, is_repository
from .model import Contact, Settings
from .paths import CONTACTS_DIR, contact_files
from .settings import load_settings
from .slugs import MAX_SLUG_BYTES, RESERVED, is_valid_slug, slugify
from .validate import check_file

COMMIT_HELP = "Commit exactly the changed file with git (other staged or unstaged work is left alone)."


def _settings(app: App) -> Settings:
    return load_settings(app.root)[0]


def check_commit(app: App, commit: bool) -> None:
    """Before writing anything: --commit needs a git repository and an identity."""
    if commit:
        try:
            gitops.require_repository(app.root)
        except gitops.GitError as exc:
            raise CrmError(str(exc)) from None


def commit_files(app: App, paths: list[Path], message: str) -> None:
    try:
        sha = gitops.commit_paths(app.root, paths, message)
    except gitops.GitError as exc:
        raise CrmError(str(exc)) from None
    click.echo(f"Committed {sha[:7]}: {message}")


def _rel(app: App, path: Path) -> str:
    return path.relative_to(app.root).as_posix()


def _edit(app: App, contact: Contact, change: Callable[[str], str], settings: Settings) -> bool:
    """Apply `change` to the contact's file under its lock; True if the file changed."""
    path = app.root / contact.path
    try:
        old, new = userfiles.edit_contact(path, change, settings, contact.path)
    except userfiles.EditError as exc:
        raise CrmError(f"{contact.path}: {exc}") from None
    return old != new



# --- new --------------------------------------------------------------------------------------


@main.command()
@click.argument("name")
@click.option("--email", multiple=True, metavar="E", help="Email address (repeat for several).")
@click.option("--phone", multiple=True, metavar="P", help="Phone number (repeat for several).")
@click.option("--company", metavar="C")
@click.option("--title", metavar="T", help="Job title.")
@click.option("--location", metavar="L")
@click.option("--tag", "tags", multiple=True, metavar="T", help="A tag (repeat for several).")
@click.option("--how-we-met", metavar="TEXT")
@click.option("--slug", metavar="S", help="File name without .md (default: made from NAME).")
@click.option("--commit", is_flag=True, help=COMMIT_HELP)
def new(
    name: str,
    email: tuple[str, ...],
    phone: tuple[str, ...],
    company: str | None,
    title: str | None,
    location: str | None,
    tags: tuple[str, ...],
    how_we_met: str | None,
    slug: str | None,
    commit: bool,
) -> None:
    """Create contacts/<slug>.md for NAME. Never overwrites an existing contact.

    \b
    Examples:
      crm new "Jane Doe" --email jane@example.com --company "Acme Corp" --tag acme
      crm new "Jane Doe" --slug jane-doe-acme --commit
    """
    app = get_app()
    if not name.strip():
        raise click.BadParameter("the name is empty", param_hint="NAME")
    if slug is not None and not is_valid_slug(slug):
        raise click.BadParameter(
            f"{slug!r} cannot be a file name (no '/', no leading '.', '_' or '-', at most {MAX_SLUG_BYTES} bytes)",
            param_hint="--slug",
        )
    chosen = slug or slugify(name)
    existing = {p.name[:-3]: p for p in contact_files(app.root)}
    if chosen in RESERVED:
        raise CrmError(
            f"'{chosen}' is the name of the contact list's page; choose another file name with --slug, "
            f"e.g. --slug {chosen}-2"
        )
    if chosen in existing:
        n = 2
        while f"{chosen}-{n}" in existing:
            n += 1
        raise CrmError(
            f"{_rel(app, existing[chosen])} already exists; to add another contact, choose a file name "
            f"with --slug, e.g. --slug {chosen}-{n}"
        )
    check_commit(app, commit)
    fields: dict[str, object] = {"name": name.strip()}
    if email:
        fields["email"] = email[0] if len(email) == 1 else list(email)
    if phone:
        fields["phone"] = phone[0] if len(phone) == 1 else list(phone)
    for key, value in (("company", company), ("title", title), ("location", location)):
        if value:
            fields[key] = value
    if tags:
        fields["tags"] = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
    if how_we_met:
        fields["how_we_met"] = how_we_met
    path = app.root / CONTACTS_DIR / f"{chosen}.md"
    rel = _rel(app, path)
    try:
        text = edit.new_contact_text(fields)
        userfiles.create_contact(path, text, _settings(app), rel)
    except userfiles.EditError as exc:
        raise CrmError(str(exc)) from None
    click.echo(f"Created {rel}")
    if commit:
        commit_files(app, [path], f"new contact {name.strip()}")


# --- log --------------------------------------------------------------------------------------


@main.command()
@click.argument("slug")
@click.option("--type", "kind", required=True, metavar="T", help="Interaction type, e.g. interview.")
@click.option("--date", "on", metavar="YYYY-MM-DD", help="When it happened (default: today).")
@click.option("--summary", metavar="S", help="What it was about.")
@click.option("--gained", metavar="G", help="What you got of value (makes the thank-you personal).")
@click.option("--with", "with_", multiple=True, metavar="SLUG", help="Someone else who was there.")
@click.option("--commit", is_flag=True, help=COMMIT_HELP)
def log(
    slug: str,
    kind: str,
    on: str | None,
    summary: str | None,
    gained: str | None,
    with_: tuple[str, ...],
    commit: bool,
) -> None:
    """Append an interaction to a contact's file.

    \b
    Examples:
      crm log jane-doe --type interview --summary "System design round" \\
          --gained "how Acme shards its event store" --with raj-patel
      crm log jane-doe --type coffee --date 2026-11-20 --commit
    """
    app = get_app()
    settings = _settings(app)
    if kind not in settings.type_names:
        near = difflib.get_close_matches(kind, list(settings.type_names), n=1, cutoff=0.6)
        hint = f"did you mean {near[0]}? " if near else ""
        raise click.BadParameter(
            f"unknown interaction type {kind!r}; {hint}known types: {', '.join(settings.type_names)} "
            "(add more under types: in crm.yaml)",
            param_hint="--type",
        )
    day = parse_date_option(on, "--date") if on else app.today()
    contact = app.contact(slug)
    loaded = app.load()
    known = sorted(set(loaded.by_slug()) | set(loaded.invalid))
    for other in with_:
        if other not in known:
            near = difflib.get_close_matches(other, known, n=1, cutoff=0.6)
            by_name = [c.slug for c in loaded.contacts if other.casefold() in c.name.casefold()]
            hint = f"; did you mean {near[0]}?" if near else f"; did you mean {by_name[0]}?" if by_name else ""
            raise CrmError(f"--with {other}: no contact '{other}'{hint}")
    check_commit(app, commit)
    item: dict[str, object] = {"date": day, "type": kind}
    if summary:
        item["summary"] = summary
    if gained:
        item["gained"] = gained
    if with_:
        item["with"] = list(dict.fromkeys(with_))
    _edit(app, contact, lambda text: edit.append_interaction(text, item), settings)
    what = kind.replace("-", " ")
    click.echo(f"Logged {what} with {contact.name} on {day.isoformat()} in {contact.path}")
    rule = settings.rule(kind)
    if rule.thank_you is not None:
        due = after(day, rule.thank_you)
        click.echo(f"Thank-you due {due.isoformat()}: crm draft {contact.slug}, then crm done {contact.slug}")
    if commit:
        commit_files(app, [app.root / contact.path], f"log {what} with {contact.name}")


# --- done -------------------------------------------------------------------------------------


@main.command()
@click.argument("slug")
@click.option("--date", "sent", metavar="D", help="When the note went out, or you asked for news (default: today).")
@click.option("--on", metavar="YYYY-MM-DD", help="The thank-you for the interaction (or application stage) on this date.")
@click.option("--to", metavar="SLUG", help="With an application's slug: the note to this person (default: the status check).")
@click.option("--commit", is_flag=True, help=COMMIT_HELP)
def done(slug: str, sent: str | None, on: str | None, to: str | None, commit: bool) -> None:
    """Record a note as sent: a thank-you adds `followed_up: D` to its interaction; a note a job
    application owes adds `followed_up: {SLUG: D}` (a status check: `checked: D`) to its stage.

    For a contact it is the most urgent pending thank-you, or note an application owes them
    (--on: the interaction or stage on that date). For an application's slug it is the status
    check of its latest stage, or with --to the note to that person about it.

    \b
    Examples:
      crm done jane-doe
      crm done jane-doe --on 2026-11-20 --date 2026-11-21 --commit
      crm done globex-staff-engineer                 you asked the recruiter for news
      crm done globex-staff-engineer --to raj-patel  you updated your referrer
    """
    app = get_app()
    sent_on = parse_date_option(sent, "--date") if sent else None
    on_date = parse_date_option(on, "--on") if on else None
    loaded = app.load()
    from . import cli_notes  # the job-application side

    contacts = loaded.slugs if loaded.slugs is not None else loaded.sources()  # without decoding them all
    if slug not in contacts and slug not in loaded.invalid:
        if to is not None or cli_notes.is_application(app, slug):
            cli_notes.done_application(app, slug, to, sent_on, on_date, commit)
            return
    elif to is not None:
        raise click.UsageError(f"--to goes with an application's slug (crm done APP --to {to}); {slug} is a contact")
    contact = app.contact(slug)
    settings = app.load().settings
    today = app.today()
    sent_on = sent_on or today
    pending = sorted(
        (
            f
            for f in contact_followups(contact, settings, today)
            if f.kind == "thank-you" and f.interaction is not None
            and (on_date is None or f.interaction.date == on_date)
        ),
        key=lambda f: (f.due, f.interaction.index if f.interaction else 0),
    )
    notes = cli_notes.pending_notes(app, contact, today, on_date)
    if notes and (not pending or notes[0].due < pending[0].due):
        cli_notes.record_note(app, contact.slug, contact.name, notes[0], sent_on, commit)
        return
    if not pending:
        if on_date is not None:
            dates = ", ".join(i.date.isoformat() for i in contact.interactions_by_date()) or "none"
            raise CrmError(
                f"{contact.name} has no pending thank-you for an interaction on {on_date} "
                f"(interactions: {dates})"
            )
        raise CrmError(f"nothing to record: {contact.name} has no pending thank-you")
    chosen = pending[0].interaction
    assert chosen is not None
    if sent_on < chosen.date:
        raise CrmError(
            f"--date {sent_on} is before the {chosen.type.replace('-', ' ')} on {chosen.date}; "
            "a thank-you cannot go out before the meeting"
        )
    check_commit(app, commit)

    def change(text: str) -> str:
        # The file may have changed since it was loaded: make sure the index still points at
        # the same interaction before writing.
        now = check_file(text.encode("utf-8"), contact.path, contact.slug, settings).contact
        same = now is not None and any(
            i.index == chosen.index and i.date == chosen.date and i.type == chosen.type
            for i in now.interactions
        )
        if not same:
            raise userfiles.EditError("the file changed while the command ran; run it again")
        return edit.set_followed_up(text, chosen.index, sent_on)

    _edit(app, contact, change, settings)
    what = chosen.type.replace("-", " ")
    click.echo(
        f"Recorded the thank-you to {contact.name} for the {what} on {chosen.date} as sent on {sent_on}"
    )
    if commit:
        commit_files(app, [app.root / contact.path], f"thank-you sent to {contact.name} for the {what} on {chosen.date}")


# --- history ----------------------------------------------------------------------------------


@main.command()
@click.argument("slug")
def history(slug: str) -> None:
    """Show the git history of a contact's file: date, author and message, following renames.

    \b
    Example:
      crm history jane-doe
    """
    app = get_app()
    files = {p.name[:-3]: p for p in contact_files(app.root)}
    path = files.get(slug)
    if path is None:
        near = difflib.get_close_matches(slug, list(files), n=1, cutoff=0.6)
        hint = f" — did you mean {near[0]}?" if near else ""
        raise CrmError(f"no contact '{slug}'{hint}")
    if not is_repository(app.root):
        raise CrmError(f"{app.root} is not in a git repository, so there is no history")
    rel = _rel(app, path)
    commits = file_history(app.root, rel)
    if not commits:
        click.echo(f"{rel} has no commits yet.")
        return
    width = max(len(c.author) for c in commits)
    for c in commits:
        when = c.when.astimezone().strftime("%Y-%m-%d %H:%M")
        click.echo(f"{when}  {style(c.sha[:7], dim=True)}  {c.author:<{width}}  {c.message}")


# --- init and hook ----------------------------------------------------------------------------

EXAMPLE_SLUG = "jane-doe-example"
EXAMPLE_CONTACT = """\
---
# An example contact. Copy it, or run `crm new "Full Name"`, then delete this file.
# A contact is YAML between the two --- lines, then your notes in Markdown.
# Only `name` is required; `crm check` tells you what is wrong, with the line.

name: Jane Doe                      # required: how you write their name
email: jane@example.com             # one address, or a list: [work@…, home@…]
phone: "+1 555 0100"                # quote phone numbers, or YAML may read them as numbers
company: Acme Corp                  # their company page: site/companies/acme-corp.html
title: Engineering Manager
location: Berlin
tags: [acme, example]               # a list; each tag gets a page under site/tags/
links:                              # label: URL
  linkedin: https://www.linkedin.com/in/janedoe-example
how_we_met: PyCon hallway track
keep_in_touch: 3m                   # reconnect after 3 months of quiet (Nd, Nw, Nm, Ny or days)
reminders:                          # dated reminders, shown until done
  - date: {reminder}
    note: Send her the article about on-call rotations
    done: false                     # false / true / the date you did it
interactions:                       # add one with `crm log jane-doe-example --type coffee`
  - date: {met}
    type: informational-interview   # decides which follow-up is owed, and when (see crm.yaml)
    summary: Coffee about the platform team
    gained: how Acme runs its system-design interviews   # feeds the thank-you draft
    followed_up: {thanked}         # the day your thank-you went out; no line = still pending
---
# Notes

Anything you want to remember, in Markdown. Link another contact by its file name or full
name in double square brackets: [[jane-doe-example]] and [[Jane Doe]] both link here.
"""

SETTINGS_TEMPLATE = """\
# Tipscale settings. Every key is optional.

# Who you are: used to sign the note drafts. Fill this in.
me:
  name: ""
  email: ""
  signature: ""                     # e.g. "Alex\\n+1 555 0199"

# How many days ahead count as "upcoming".
upcoming_days: 7

# Interaction types and their follow-up rules (days after the interaction). The defaults are
# interview, informational-interview, networking, referral, coffee, call, email, meeting, event
# and other. Change a rule or add a type here, e.g.:
# types:
#   mock-interview: {thank_you: 2, note: networking}
"""


# The built site, and what an edit killed half-way leaves beside a contact file (its temporary
# copy and its lock; the file itself is never half-written).
IGNORED = ("site/", ".*.tmp", ".*.lock")


@main.command()
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--hook", is_flag=True, help="Also install a pre-commit hook that runs `crm check`.")
def init(directory: str, hook: bool) -> None:
    """Make DIR a new, private CRM: contacts/ with an example, crm.yaml, .gitignore, a git repository.

    \b
    Examples:
      crm init ~/crm
      crm init ~/crm --hook          block commits of invalid contact files
    """
    if not directory.strip():
        raise CrmError("DIR is empty: name the folder to make, e.g. crm init ~/crm (or crm init . for this one)")
    app = get_app()
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise CrmError(f"{root} exists and is not a folder")
    if (root / "crm.yaml").exists() or any(contact_files(root)):
        raise CrmError(f"{root} already holds a CRM (crm.yaml or contacts/); nothing was changed")
    root.mkdir(parents=True, exist_ok=True)
    root = root.resolve()
    if gitops.is_toplevel(root):
        try:
            gitops.require_identity(root)
        except gitops.GitError as exc:
            raise CrmError(str(exc)) from None
    today = app.today_option or dt.date.today()
    met = today - dt.timedelta(days=14)
    example = EXAMPLE_CONTACT.format(
        reminder=(today + dt.timedelta(days=30)).isoformat(),
        met=met.isoformat(),
        thanked=(met + dt.timedelta(days=1)).isoformat(),
    )
    contact = root / CONTACTS_DIR / f"{EXAMPLE_SLUG}.md"
    settings_file = root / "crm.yaml"
    gitignore = root / ".gitignore"
    contact.parent.mkdir(exist_ok=True)
    userfiles.atomic_write(contact, example.encode("utf-8"))
    userfiles.atomic_write(settings_file, SETTINGS_TEMPLATE.encode("utf-8"))
    ignore_text = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    missing = [line for line in IGNORED if line not in ignore_text.split()]
    if missing:
        sep = "" if not ignore_text or ignore_text.endswith("\n") else "\n"
        userfiles.atomic_write(gitignore, (ignore_text + sep + "\n".join(missing) + "\n").encode("utf-8"))
    click.echo(f"Created {root}: contacts/{EXAMPLE_SLUG}.md, crm.yaml, .gitignore")
    try:
        if gitops.init_repository(root):
            click.echo("Initialised a git repository")
        if hook:
            click.echo(f"Installed the pre-commit hook {gitops.install_hook(root)}")
        gitops.require_identity(root)
        sha = gitops.commit_paths(root, [contact, settings_file, gitignore], "Start a Tipscale CRM")
        click.echo(f"Committed {sha[:7]}: Start a Tipscale CRM")
    except gitops.GitError as exc:
        raise CrmError(str(exc)) from None
    click.echo(
        f"\nNext: fill in me: in {settings_file}, then\n"
        f"  cd {root}\n  crm new \"Full Name\" --email …\n  crm serve"
    )


@main.group()
def hook() -> None:
    """The git pre-commit hook that blocks commits of invalid contact files."""


@hook.command("install")
def hook_install() -> None:
    """Install a pre-commit hook that runs `crm check` and blocks a commit with invalid files.

    \b
    Example:
      crm hook install
    """
    app = get_app()
    try:
        path = gitops.install_hook(app.root)
    except gitops.GitError as exc:
        raise CrmError(str(exc)) from None
    click.echo(f"Installed {path}: commits are checked with `crm check`")
