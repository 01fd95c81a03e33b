"""Shared pieces of the command line: the context object, loading, printing problems, errors.

Command modules (`cli.py`, `cli_site.py`, `cli_edit.py`, `cli_io.py`) use these so every
command reports problems, errors and exit codes the same way (SPEC §6).
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from . import collector
from .paths import RootNotFound, find_root

if TYPE_CHECKING:  # loading imports the parser (YAML, validation): only when a command loads
    from .contactcache import ContactCache
    from .load import Loaded
    from .model import Contact, Problem


class CrmError(Exception):
    """A problem the user can fix; the CLI prints `Error: <message>` and exits 1."""


def parse_date_option(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date (expected YYYY-MM-DD)", param_hint=option
        ) from None


@dataclass
class App:
    """What the global options resolved to. Loading happens once, on first use."""

    root_option: Path | None
    today_option: dt.date | None
    _loaded: Loaded | None = None
    _root: Path | None = None
    _cache: ContactCache | None = None

    @property
    def cache(self) -> ContactCache:
        if self._cache is None:
            from .contactcache import ContactCache

            self._cache = ContactCache()
        return self._cache

    @property
    def root(self) -> Path:
        if self._root is None:
            try:
                self._root = find_root(Path.cwd(), self.root_option)
            except RootNotFound as exc:
                raise CrmError(str(exc)) from None
        return self._root

    def load(self, fresh: bool = False, meanwhile: Callable[[], None] | None = None) -> Loaded:
        from .load import load

        if self._loaded is None or fresh:
            self.cache.persist = self.root
            with collector.held():  # what a load makes lives until the command ends
                self._loaded = load(self.root, self.cache, meanwhile=meanwhile)
        return self._loaded

    def today(self) -> dt.date:
        """`--today`, else CRM_TODAY, else crm.yaml's `today:`, else the local date (SPEC §4)."""
        from .settings import resolve_today

        try:
            return resolve_today(self.today_option, self.load().settings)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None

    def today_is_fixed(self) -> bool:
        return self.today() != dt.date.today()

    def contact(self, slug: str) -> Contact:
        """The valid contact with this slug, or an error with a suggestion."""
        loaded = self.load()
        found = loaded.by_slug().get(slug)
        if found is not None:
            return found
        if slug in loaded.invalid:
            first = loaded.invalid[slug][0]
            raise CrmError(f"contact '{slug}' has errors; fix them first:\n  {first.format()}")
        candidates = [c.slug for c in loaded.contacts] + list(loaded.invalid)
        near = difflib.get_close_matches(slug, candidates, n=1, cutoff=0.6)
        by_name = [c.slug for c in loaded.contacts if slug.casefold() in c.name.casefold()]
        hint = f" — did you mean {near[0]}?" if near else f" — did you mean {by_name[0]}?" if by_name else ""
        raise CrmError(f"no contact '{slug}'{hint} ('crm followups --all' lists who has something pending)")


def get_app() -> App:
    ctx = click.get_current_context()
    app = ctx.find_object(App)
    assert app is not None
    return app


def use_color(stream: Any = None) -> bool:
    stream = stream if stream is not None else sys.stdout
    if os.environ.get("NO_COLOR") is not None:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def style(text: str, err: bool = False, **kwargs: Any) -> str:
    return click.style(text, **kwargs) if use_color(sys.stderr if err else sys.stdout) else text


def report_problems(problems: list[Problem], quiet_warnings: bool = False) -> None:
    """Problems go to stderr, one per line, `path:line:col: severity: field: message`."""
    for problem in problems:
        if quiet_warnings and problem.severity == "warning":
            continue
        colour = "red" if problem.severity == "error" else "yellow"
        line = problem.format()
        if use_color(sys.stderr):
            head, _, rest = line.partition(f" {problem.severity}:")
            line = f"{head} {click.style(problem.severity + ':', fg=colour, bold=True)}{rest}"
        click.echo(line, err=True)


def finish(loaded: Loaded, *, exit_on_errors: bool = True) -> None:
    """The common ending (SPEC §6): name the invalid files on stderr, exit 1 if there were any."""
    if exit_on_errors:
        finish_files(sorted({p.file for p in loaded.errors}))


NAMED_FILES = 10  # files named in the one line that ends a command; `crm check` lists them all


def files_with_errors(files: list[str], then: str) -> str:
    """One line naming the files with errors (the first NAMED_FILES, then how many more)."""
    named = ", ".join(files[:NAMED_FILES])
    if len(files) > NAMED_FILES:
        named += f" and {len(files) - NAMED_FILES} more"
    heading = f"{len(files)} file{'s' if len(files) != 1 else ''} with errors: "
    return style(heading, err=True, fg="red") + named + f" ({then})"


def finish_files(files: list[str]) -> None:
    """`finish` for a list of the files with errors."""
    if files:
        click.echo(files_with_errors(files, "run 'crm check' for details"), err=True)
        raise SystemExit(1)


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(style("Error: ", err=True, fg="red", bold=True) + message, err=True)
    raise SystemExit(code)


def progress_enabled(quiet: bool = False) -> bool:
    """Progress only on a terminal, never with --quiet."""
    return not quiet and sys.stderr.isatty()
