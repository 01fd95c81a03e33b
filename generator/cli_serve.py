"""`crm serve`: build the site, serve it on 127.0.0.1, rebuild on every save, reload the browser."""

from __future__ import annotations

import datetime as dt
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click

from .cli import main
from .cliutil import fail, files_with_errors, get_app, report_problems, style
from .settings import default_settings, resolve_today


def _clock() -> str:
    return dt.datetime.now().strftime("%H:%M:%S")


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (the site is private: keep it local).",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on."
)
@click.option("--no-reload", is_flag=True, help="Serve only: no watching, no rebuilds, no browser reload.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: site/ in the CRM root).",
)
@click.option("-q", "--quiet", is_flag=True, help="No line per rebuild; errors only.")
def serve(host: str, port: int, no_reload: bool, out: Path | None, quiet: bool) -> None:
    """Build the site, serve it, rebuild on every save and reload the open pages.

    Watches contacts/, templates/ and crm.yaml. A broken contact file shows its error on the
    dashboard; the other pages keep working. Press Ctrl-C to stop.

    \b
    Examples:
      $ crm serve
      Built: 39 pages written in 235 ms
      Serving http://127.0.0.1:8000 — Ctrl-C to stop
      12:04:31 contacts/jane-doe.md: 2 pages written in 38 ms
      ^C
      Stopped.

    \b
      crm serve --port 8001 --no-reload   serve only, on another port
    """
    from .serve import DevServer, ServeError, public_host_warning  # watchdog, http.server: only here
    from .site import SiteBuilder

    app = get_app()
    root = app.root
    target = (out if out is not None else root / "site").resolve()
    warning = public_host_warning(host)
    if warning:
        click.echo(style(warning, err=True, fg="yellow", bold=True), err=True)

    def log(message: str) -> None:
        if not quiet:
            click.echo(f"{_clock()} {message}")

    def log_error(message: str) -> None:
        click.echo(style(f"{_clock()} {message}", err=True, fg="red"), err=True)

    try:  # a malformed CRM_TODAY is bad usage; the builder resolves the date itself on every build
        resolve_today(app.today_option, default_settings())
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    builder = SiteBuilder(root, target, today=app.today_option)
    builder.cache = app.cache  # the CLI's parse cache (persistent between runs), kept while serving
    server = DevServer(
        root, target, builder, host=host, port=port, reload=not no_reload, log=log, log_error=log_error
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    try:
        server.bind()  # fail fast on a busy port, before a long first build
    except ServeError as exc:
        fail(str(exc))
    try:
        builder.preloaded = app.load()  # reads the persistent parse cache; the first build uses it
        # While serving, the parse cache lives in memory (rewriting tens of MB after every save
        # would cost more than the rebuild); it is saved once, when the server stops.
        app.cache.autosave = False
        builder.long_lived = True  # it keeps its plan for the next save; its state is saved on stop
        _first_build(builder, quiet)
    except KeyboardInterrupt:  # Ctrl-C during a long first build
        server.stop()
        click.echo("Stopped.", err=True)
        return
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        click.echo(f"Serving {server.url} — Ctrl-C to stop")
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        builder.flush()  # the manifest, the plan and the kept fragments, kept in memory while serving
        app.cache.save()  # what the server parsed, for the next command's warm start
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not quiet:
        click.echo("Stopped.")


def _first_build(builder: Any, quiet: bool) -> None:
    """Build once before serving; invalid files are reported, but the server starts anyway."""
    try:
        started = dt.datetime.now()
        report = builder.build()
    except Exception as exc:  # a broken template must not stop the server: fix it and save
        click.echo(
            style(f"Error: the first build failed: {type(exc).__name__}: {exc}", err=True, fg="red"), err=True
        )
        click.echo("Serving what is in the output folder; the site is rebuilt on the next save.", err=True)
        return
    seconds = (dt.datetime.now() - started).total_seconds()
    problems = list(getattr(report, "problems", []) or [])
    report_problems(problems, quiet_warnings=True)
    from .serve import describe_report

    if not quiet:
        click.echo("Built: " + describe_report(report, getattr(report, "seconds", seconds)))
    errors = sorted({p.file for p in problems if p.severity == "error"})
    if errors:
        click.echo(files_with_errors(errors, "shown on the dashboard too"), err=True)
