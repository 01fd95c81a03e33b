"""`crm build`: render the static site (SPEC §8)."""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import parallel, quick
from .cli import main
from .cliutil import finish_files, get_app, progress_enabled, report_problems, style

# What a build imports, heaviest last: the parser, Jinja, then the loader and the site's code.
BUILD_MODULES = ("yaml", "jinja2", "generator.load", "generator.render", "generator.plan", "generator.site")

if TYPE_CHECKING:
    from .cliutil import App
    from .site import SiteBuilder


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
    started = time.perf_counter()
    app = get_app()
    root = app.root
    today = app.today_option
    if today is None:
        _check_today_env()
    target = out if out is not None else root / "site"
    # Not one input changed since the last command-line build: nothing to load or render. The
    # inputs are stat-ed by a child process (which also does the little of a build that needs
    # only the files on disk) while this one imports what a build needs, a module at a time
    # until the child answers (an unchanged site needs none of them), then reads the last
    # build's plan ahead, a file at a time. The child answers in two parts (quick.take): a build
    # goes on with the fingerprint while the child makes the rest, wanted after the load.
    pending = parallel.fork_results(lambda: quick.take(root, target, today, survey=not clean))
    seen = None if clean else quick.survey(target)  # what the last build left: needed either way
    for module in BUILD_MODULES:
        if pending.ready():
            break
        importlib.import_module(module)
    prefetched = None
    site_key = seen.meta.get("site_key") if seen is not None else None
    if isinstance(site_key, str) and not pending.ready():
        from .plan import Prefetch
        from .write import Writer

        prefetched = Prefetch(Writer(target), site_key)
        while prefetched.step() and not pending.ready():
            pass
    fingerprint = quick.unpack(pending.next(), root)
    rest = _Rest(pending)
    if seen is not None and quick.recorded(fingerprint, seen):
        seen = quick.settle(seen, target, rest.there)
        record = quick.lookup(fingerprint, seen)
        if record is not None:
            _report_again(record, target, quiet, verbose, time.perf_counter() - started)
            return

    from .site import SiteBuilder

    if progress_enabled(quiet):
        click.echo(style("building…", err=True, dim=True), err=True, nl=False)
    builder = SiteBuilder(root, target, today=today)
    builder.cache = app.cache
    builder.prefetched = prefetched
    _build(app, builder, fingerprint, rest, seen, target, clean, quiet, verbose)


class _Rest:
    """The second part of `quick.take`, from the child process, taken when first wanted."""

    def __init__(self, pending: parallel.Pending) -> None:
        self._pending = pending
        self._parts: tuple[int | None, Any] | None = None

    def _take(self) -> tuple[int | None, Any]:
        if self._parts is None:
            files_key, there = self._pending.next()
            self._pending.close()
            self._parts = (files_key, there)
        return self._parts

    @property
    def files_key(self) -> int | None:
        return self._take()[0]

    @property
    def there(self) -> Any:
        return self._take()[1]


def _build(
    app: App, builder: SiteBuilder, fingerprint: quick.Fingerprint, rest: _Rest, seen: quick.Seen | None,
    target: Path, clean: bool, quiet: bool, verbose: bool,
) -> None:  # fmt: skip
    from .site import PLAN

    full = clean or not (target / PLAN).is_file()
    if full:
        builder.prefetch_histories()  # a full plan: git reads the histories while we parse
    # The files were just walked and stat-ed, and compared with the last load's (quick.take).
    app.cache.prime(fingerprint.walk, fingerprint.stamps, fingerprint.delta)
    # The CLI's load reads the persistent parse cache. While forked workers parse, this process
    # would only wait: it prepares the build instead.
    builder.preloaded = app.load(meanwhile=builder.prepare if full else None)
    # What the child found meanwhile: whether every page of the last build is there, and the
    # files' part of the site key.
    if seen is not None:
        if seen.complete is None:
            seen = quick.settle(seen, target, rest.there)
        builder.preloaded_manifest = (seen.pages, seen.meta, seen.complete)
    if rest.files_key is not None:
        builder.preloaded_files_key = (fingerprint.stamps, rest.files_key)
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
    error_files = sorted({p.file for p in loaded.errors})
    problems = [[p.file, p.line, p.column, p.severity, p.field, p.message] for p in report.problems]
    quick.save(target, fingerprint, {"pages": report.pages, "problems": problems, "error_files": error_files})
    _finish(bool(report.errors), error_files)


def _check_today_env() -> None:
    """A malformed CRM_TODAY is bad usage (the builder resolves the date itself)."""
    value = os.environ.get("CRM_TODAY")
    if value:
        from .settings import default_settings, resolve_today

        try:
            resolve_today(None, default_settings())
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None


def _report_again(record: dict[str, Any], target: Path, quiet: bool, verbose: bool, seconds: float) -> None:
    """What the last build reported, for a run that found nothing changed since."""
    problems = []
    if record["problems"]:
        from .model import Problem

        problems = [Problem(*p) for p in record["problems"]]
    errors = [p for p in problems if p.severity == "error"]
    if verbose:
        report_problems(problems)
    elif errors and not quiet:
        report_problems(errors)
    if not quiet:
        pages = record["pages"]
        click.echo(
            f"built {_display(target)}: {pages} pages, 0 written, {pages} unchanged, 0 removed in {seconds:.2f} s"
        )
    _finish(bool(errors), record["error_files"])


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

