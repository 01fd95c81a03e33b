"""`crm`: the command line (SPEC §6). Thin: parse options, call the core, print, pick an exit code.

Commands live in a few modules that register on the `main` group: this one (check,
followups, draft), `cli_site` (build, serve), `cli_edit` (new, log, done, history, init, hook),
`cli_io` (import, export), `cli_apps` (apply, stage, applications) and `cli_notes` (snooze).
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .cliutil import App, CrmError, fail, parse_date_option

# Each command lives in a module imported only when that command runs (or help lists them
# all): a no-change `crm build` should not pay for the YAML parser, Jinja or the importers.
COMMANDS = {
    "applications": "cli_apps",
    "apply": "cli_apps",
    "build": "cli_site",
    "check": "cli_read",
    "done": "cli_edit",
    "draft": "cli_read",
    "export": "cli_io",
    "followups": "cli_read",
    "history": "cli_edit",
    "hook": "cli_edit",
    "import": "cli_io",
    "init": "cli_edit",
    "log": "cli_edit",
    "new": "cli_edit",
    "serve": "cli_serve",
    "snooze": "cli_notes",
    "stage": "cli_apps",
}


class CrmGroup(click.Group):
    """Turns the core's errors into `Error: …` and exit 1; never a traceback for bad input."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(f"{__package__}.{COMMANDS[cmd_name]}")  # registers on `main`
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        # A run makes hundreds of thousands of small objects that live until it ends (parsed
        # contacts, the site plan); the cyclic collector's default thresholds scan them again
        # and again (about 0.5 s of a cold 10,000-contact check). Collect far less often.
        gc.set_threshold(100_000, 50, 100)
        try:
            return super().invoke(ctx)
        except CrmError as exc:
            fail(str(exc))
        except BrokenPipeError:
            # The reader went away (`crm followups | head -1`): what it wanted it has; say nothing.
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more may reach the closed pipe
            raise SystemExit(0) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"{where}{exc.strerror or exc} (nothing was half-written: fix this and run the command again)")
        except Exception as exc:
            drafts = sys.modules.get(f"{__package__}.drafts")  # imported by the commands that draft
            if drafts is None or not isinstance(exc, drafts.DraftError):
                raise
            fail(str(exc))


def _today_option(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    return parse_date_option(value, "--today") if value else None


@click.group(cls=CrmGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The CRM folder (default: the nearest folder at or above here with crm.yaml or contacts/).",
)
@click.option(
    "--today",
    callback=_today_option,
    metavar="YYYY-MM-DD",
    help="Compute follow-ups as of this date (default: $CRM_TODAY, then crm.yaml's today:, then the real date).",
)
@click.version_option(__version__, "--version", prog_name="crm", message="%(prog)s (Tipscale) %(version)s")
@click.pass_context
def main(ctx: click.Context, root: Path | None, today: Any) -> None:
    """Tipscale: your contacts as Markdown files, and the follow-ups you owe them.

    \b
    Examples:
      crm check                      validate every contact file
      crm followups                  what you owe: overdue, due today, upcoming
      crm draft jane-doe             a ready-to-send thank-you note
      crm done jane-doe              record that you sent it
      crm serve                      browse your CRM at http://127.0.0.1:8000

    Shell completion (bash): eval "$(_CRM_COMPLETE=bash_source crm)"  — zsh and fish: see README.
    """
    ctx.obj = App(root_option=root, today_option=today)


def run() -> None:
    """The `crm` program: `main`, then a quick exit. Once a command has finished there is
    nothing left to do but free what it made (after a build of 10,000 contacts, about 0.3 s of
    freeing objects one by one), so the process ends at once, its output flushed. Files are all
    written and closed by then: every write is atomic and finished before the command returns."""
    from .terminal import SafeStream

    sys.stdout, sys.stderr = SafeStream(sys.stdout), SafeStream(sys.stderr)  # type: ignore[assignment]
    try:
        main()
        code: Any = 0
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
