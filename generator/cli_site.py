"""`crm build`: render the static site (SPEC §8)."""

from __future__ import annotations

from pathlib import Path

import click

from .cli import main
from .cliutil import finish, get_app, progress_enabled, report_problems, style
from .settings import default_settings, resolve_today


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
    from .site import SiteBuilder

    app = get_app()
    root = app.root
    try:  # a malformed CRM_TODAY is bad usage; the builder resolves the date itself
        resolve_today(app.today_option, default_settings())
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    today = app.today_option
    target = out if out is not None else root / "site"
    if progress_enabled(quiet):
        click.echo(style("building…", err=True, dim=True), err=True, nl=False)
    builder = SiteBuilder(root, target, today=today)
    builder.cache = app.cache
    builder.preloaded = app.load()  # the CLI's load reads the persistent parse cache
    report = builder.build(clean=clean)
    if progress_enabled(quiet):
        click.echo("\r\033[K", err=True, nl=False)
    if verbose:
        report_problems(report.problems)
    elif report.errors and not quiet:
        report_problems(report.errors)
    if not quiet:
        shown = _display(target)
        click.echo(
            f"built {shown}: {report.pages} pages, {report.written} written, {report.skipped} unchanged, "
            f"{report.removed} removed in {report.seconds:.2f} s"
        )
    loaded = builder.loaded
    assert loaded is not None
    if report.errors and not loaded.errors:
        # Errors only the build finds (a broken page or note template).
        click.echo(style("the build found errors (see above)", err=True, fg="red"), err=True)
        raise SystemExit(1)
    finish(loaded)


def _display(path: Path) -> str:
    try:
        rel = path.resolve().relative_to(Path.cwd().resolve())
        text = rel.as_posix() or "."
    except ValueError:
        text = str(path)
    return text + ("/" if not text.endswith("/") else "")

