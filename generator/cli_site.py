"""`crm build`: render the static site (SPEC §8)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from .cli import main
from .cliutil import finish_files, get_app, progress_enabled, report_problems, style


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: site/ in the CRM root).",
)
@click.option("--clean", is_flag=True, help="Ignore the previous build: render every page again.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("-v", "--verbose", is_flag=True, help="Also list every problem found, warnings included.")
def build(out: Path | None, clean: bool, quiet: bool, verbose: bool) -> None:
    """Render the site: dashboard, contact pages, tags, companies and a calendar feed.

    Only pages whose inputs changed are written again; the result is byte-identical
    to a --clean build. Invalid files get a page showing their errors, everything
    else is built, and the command then exits 1.

    \b
    Example:
      $ crm build
      built site/: 31 pages, 31 written, 0 unchanged, 0 removed in 0.21 s
      $ crm build --out /tmp/crm-site --clean
    """
    app = get_app()
    root = app.root
    today = app.today_option
    if today is None:
        _check_today_env()
    target = out if out is not None else root / "site"
    from .build import build_site

    shown = progress_enabled(quiet)
    progress: list[bool] = []  # a real build began (not a "nothing changed" answer)

    def started() -> None:
        progress.append(True)
        if shown:
            click.echo(style("building…", err=True, dim=True), err=True, nl=False)

    report = build_site(root, target, today=today, clean=clean, session=app, started=started)
    if progress and shown:
        click.echo("\r\033[K", err=True, nl=False)
    if verbose:
        report_problems(report.problems)
    elif report.errors and not quiet:
        report_problems(report.errors)
    if not quiet:
        click.echo(
            f"built {_display(target)}: {report.pages} pages, {report.written} written, {report.skipped} unchanged, "
            f"{report.removed} removed in {report.seconds:.2f} s"
        )
    _finish(bool(report.errors), report.error_files)


def _check_today_env() -> None:
    """A malformed CRM_TODAY is bad usage (the builder resolves the date itself)."""
    value = os.environ.get("CRM_TODAY")
    if value:
        from .settings import default_settings, resolve_today

        try:
            resolve_today(None, default_settings())
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None


def _finish(build_errors: bool, error_files: list[str]) -> None:
    if build_errors and not error_files:
        # Errors only the build finds (a broken page or note template).
        click.echo(style("the build found errors (see above)", err=True, fg="red"), err=True)
        raise SystemExit(1)
    finish_files(error_files)


def _display(path: Path) -> str:
    try:
        rel = path.resolve().relative_to(Path.cwd().resolve())
        text = rel.as_posix() or "."
    except ValueError:
        text = str(path)
    return text + ("/" if not text.endswith("/") else "")

