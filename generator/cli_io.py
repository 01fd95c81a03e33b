"""`crm import` and `crm export` (SPEC §6–7): contacts in from LinkedIn, Google and vCard files,
out as vCard 3.0. Parsing lives in `importers/`, the one merge step in `importers/merge.py`."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import click

from . import collector
from .cli import main
from .cliutil import NAMED_FILES, CrmError, finish, get_app, progress_enabled, style
from .importers.common import ImportFormatError, Parsed

FORMATS = ("linkedin", "vcard", "google", "outlook")
WARNINGS_SHOWN = 10
PROGRESS_MIN = 200  # records: smaller files need no progress line


def _parser(fmt: str) -> Callable[[bytes], Parsed]:
    if fmt == "linkedin":
        from .importers import linkedin

        return linkedin.parse
    if fmt == "google":
        from .importers import google

        return google.parse
    if fmt == "outlook":
        from .importers import outlook

        return outlook.parse
    from .importers import vcard

    return vcard.parse


class _Progress:
    """`\\rplanning 1200/5000` on stderr, at most ten times a second; only on a terminal."""

    def __init__(self, label: str, total: int, enabled: bool) -> None:
        self.label, self.total, self.enabled = label, total, enabled and total >= PROGRESS_MIN
        self.last = 0.0

    def __call__(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last >= 0.1 or done == self.total:
            self.last = now
            sys.stderr.write(f"\r{self.label} {done}/{self.total}")
            if done == self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


@main.command("import")
@click.argument("fmt", metavar="linkedin|vcard|google|outlook", type=click.Choice(FORMATS))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
@click.option("--commit", "do_commit", is_flag=True, help="Commit exactly the files the import changed.")
@click.option(
    "-q", "--quiet", is_flag=True, help="Only conflicts, skipped rows and the summary; no progress."
)
def import_(fmt: str, file: Path, dry_run: bool, do_commit: bool, quiet: bool) -> None:
    """Create or merge contacts from a LinkedIn, Google Contacts, Outlook or vCard export.

    Contacts are matched by e-mail, then LinkedIn URL, then exact name. A matched contact only
    gets the fields it is missing; different values are listed as conflicts and left alone.
    The same import run twice changes nothing.

    \b
    Examples:
      crm import linkedin ~/Downloads/Connections.csv --dry-run
      crm import google contacts.csv --commit
      crm import vcard iCloud.vcf
      crm import outlook "Outlook contacts.csv"

    \b
      $ crm import linkedin Connections.csv
      create    contacts/jane-doe.md  Jane Doe (line 5)
      conflict  contacts/raj-patel.md  title: yours 'Staff Engineer', theirs 'Principal Engineer' (line 9; not changed)
      Imported Connections.csv: 1 created, 0 merged, 1 unchanged, 1 conflict, 0 skipped
    """
    from .importers.merge import plan_import

    app = get_app()
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise CrmError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise CrmError(f"{file}: is a folder, not an export file") from None
    # The records, targets and checks made below live until the command ends (collector.py).
    with collector.held():
        try:
            parsed = _parser(fmt)(data)
        except ImportFormatError as exc:
            where = f"{file}:{exc.line}" if exc.line else str(file)
            raise CrmError(f"{where}: {exc.message}; nothing was imported") from None
    loaded = app.load()
    if do_commit and not dry_run:
        from .gitops import GitError, require_repository

        try:
            require_repository(app.root)
        except GitError as exc:
            raise CrmError(str(exc)) from None
    show_progress = progress_enabled(quiet)
    started = time.perf_counter()

    def progress(label: str, total: int) -> _Progress:
        return _Progress(label, total, show_progress)

    with collector.held():
        plan = plan_import(parsed.records, loaded, progress, parsed.distinct, not dry_run, app.cache)
    plan.skipped[:0] = parsed.skipped
    plan.skipped.sort()

    if not quiet:
        for action in plan.actions:
            if action.kind == "create":
                click.echo(f"create    {action.path}  {action.name} (line {action.line})")
            elif action.kind == "merge":
                click.echo(
                    f"merge     {action.path}  {action.name}: + {', '.join(action.added)} (line {action.line})"
                )
    for conflict in plan.conflicts:
        click.echo(conflict.format())
    for line, reason in plan.skipped:
        click.echo(f"skip      line {line}: {reason}")
    for line, message in sorted(parsed.warnings)[:WARNINGS_SHOWN]:
        click.echo(f"warning   line {line}: {message}")
    if len(parsed.warnings) > WARNINGS_SHOWN:
        click.echo(f"... and {len(parsed.warnings) - WARNINGS_SHOWN} more warnings")

    written, errors = plan.written, plan.errors
    if not dry_run:
        # One flush for every new file, while the parse cache is saved with them as their check
        # found them (the system call waits on the disk, the save is work of ours).
        syncing = threading.Thread(target=os.sync) if plan.created else None
        if syncing is not None:
            syncing.start()
        app.cache.save()
        if syncing is not None:
            syncing.join()
        for message in errors[:NAMED_FILES]:
            click.echo(style("Error: ", err=True, fg="red", bold=True) + message, err=True)
        if len(errors) > NAMED_FILES:
            click.echo(f"... and {len(errors) - NAMED_FILES} more files that could not be written", err=True)
        failed = set(plan.changed) - set(written)
        plan.actions = [a for a in plan.actions if a.path not in failed]  # the summary counts what was written
    elapsed = time.perf_counter() - started
    verb = "Would import" if dry_run else "Imported"
    not_written = f", {len(errors)} not written" if errors else ""
    if parsed.warnings:
        not_written += f", {len(parsed.warnings)} warning{'s' if len(parsed.warnings) != 1 else ''}"
    click.echo(
        f"{verb} {file.name}: {plan.summary()}{not_written}" + (f" ({elapsed:.1f} s)" if elapsed >= 1 else "")
    )
    if dry_run:
        click.echo("Dry run: nothing was written.")
    elif do_commit:
        if written:
            from .gitops import GitError, commit_paths

            created = sum(1 for p in written if plan.targets[p].new)
            message = f"import {fmt} {file.name}: {created} created, {len(written) - created} updated"
            try:
                sha = commit_paths(app.root, written, message)
            except GitError as exc:
                raise CrmError(str(exc)) from None
            click.echo(
                f"Committed {len(written)} file{'s' if len(written) != 1 else ''}: {sha[:10]} {message}"
            )
        else:
            click.echo("Nothing changed, nothing to commit.")
    if errors:
        raise SystemExit(1)
    finish(loaded)


@main.command("export")
@click.argument("fmt", metavar="vcard", type=click.Choice(["vcard"]))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE (atomically) instead of stdout.",
)
def export(fmt: str, out: Path | None) -> None:
    """Write every valid contact as vCard 3.0 (what Apple, Google and Outlook all import).

    \b
    Examples:
      crm export vcard > contacts.vcf
      crm export vcard --out ~/contacts.vcf
    """
    from .export import export_vcards

    app = get_app()
    loaded = app.load()
    text = export_vcards(loaded.contacts)
    if out is None:
        click.echo(text, nl=False)
    else:
        from .userfiles import atomic_write

        if not out.parent.is_dir():
            raise CrmError(f"--out {out}: the folder {out.parent} does not exist")
        atomic_write(out, text.encode("utf-8"))
        n = len(loaded.contacts)
        click.echo(f"Wrote {n} contact{'s' if n != 1 else ''} to {out}", err=True)
    finish(loaded)
