"""`crm serve`: serve the built site, rebuild on every save, reload the browser (SPEC §6, §8).

The shape follows MkDocs' live-reload server (DESIGN §3). The HTTP side is `httpd.py`; here:

- `ChangeWatcher` (watchdog, inotify on Linux) watches `contacts/`, `applications/`, `templates/` and `crm.yaml`.
  Its callback does no work: it only records that something relevant changed. Editor leftovers
  (`*.swp`, `*~`, `.#x`, `#x#`, vim's `4913`, hidden files) are ignored; creations, deletions,
  moves and new folders count.
- `Rebuilder` is one thread that waits until changes settle (`SETTLE_SECONDS` of quiet), then
  runs one incremental build with the long-lived builder, and bumps the *epoch* when the site
  changed. It survives any exception: the error is logged, pushed to open pages as a banner,
  and the last complete site stays served.
- `DevServer` puts the two together with the HTTP server.

Consistency while building: the server serves the last complete build while the next one
runs. A rebuild's files wait beside their targets under hidden names (`Writer(hold=True)`) and
move into place together at its end, inside `LiveState.swapping()`: requests wait for those
few renames, and one that was reading finishes first, so no request sees pages of two builds.
A failed rebuild moves nothing: the previous site stays whole. Open pages reload once the new
site is in place.
"""

from __future__ import annotations

import errno
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .httpd import LiveState, SiteServer, is_loopback
from .paths import is_ignored

SETTLE_SECONDS = 0.04  # quiet time after the last change before a rebuild starts
PENDING_LIMIT = 1000  # changed paths remembered for one rebuild; beyond it, every file is looked at
MAX_SETTLE_SECONDS = 2.0  # build anyway when changes never stop coming for this long
WATCHED_DIRS = ("contacts", "templates", "applications")
WATCHED_FILES = ("crm.yaml",)


class Builder(Protocol):
    """What the server needs of the site builder (`generator.site.SiteBuilder`)."""

    # Set by the server before its first rebuild: the builder moves a build's files into place
    # inside `swap()` (see "Consistency while building" above).
    swap: Callable[[], AbstractContextManager[object]] | None

    def build(self, clean: bool = False, changed: Collection[str] | None = None) -> Any: ...


class ServeError(Exception):
    """A problem starting the server that the user can fix (port in use, bad host)."""


Log = Callable[[str], None]


def _silent(message: str) -> None:
    pass


# --- watching ----------------------------------------------------------------------------------

_JETBRAINS = ("___jb_tmp___", "___jb_old___", "___jb_bak___")


def is_editor_leftover(name: str) -> bool:
    """Names that editors create and remove around a save, and hidden files."""
    return (
        name.startswith((".", "#"))  # hidden files, vim swap files (.x.swp), emacs locks and autosaves
        or name.endswith(("~", ".swp", ".swx", ".swo", ".swn", ".tmp", ".bak", ".part", ".crswap"))
        or name.endswith(_JETBRAINS)
        or name.isdigit()  # vim probes a folder by creating and removing "4913" (then 5036, …)
    )


def is_relevant(rel: str, is_directory: bool) -> bool:
    """Does a change at `rel` (relative to the CRM root, POSIX separators) affect the site?"""
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if not parts or parts[0] == "..":
        return False
    if any(is_editor_leftover(part) for part in parts):
        return False
    top = parts[0]
    if len(parts) == 1:
        return top in WATCHED_FILES or top in WATCHED_DIRS
    if top in ("contacts", "applications"):  # the loaders skip `_` names too, and read only `*.md`
        return not any(is_ignored(p) for p in parts) and (is_directory or parts[-1].endswith(".md"))
    return top == "templates"


class ChangeWatcher:
    """watchdog observers on the CRM root; `on_change(paths)` is called from watchdog's thread."""

    def __init__(self, root: Path, out: Path, on_change: Callable[[list[str]], None]) -> None:
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        self.root = root
        out_rel = os.path.relpath(out.resolve(), root.resolve()).replace(os.sep, "/")
        self.out_rel = None if out_rel.startswith("..") else out_rel
        self.on_change = on_change
        self.observer = Observer()
        self._scheduled: dict[str, Any] = {}  # watched folder → watchdog's handle
        self._lock = threading.Lock()
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                watcher.handle(event)

        self.handler = Handler()

    def start(self) -> None:
        self.observer.schedule(self.handler, str(self.root), recursive=False)
        for name in WATCHED_DIRS:
            self._watch_dir(name)
        self.observer.start()

    def _watch_dir(self, name: str, again: bool = False) -> None:
        """Watch a folder; `again`: it was made or moved into place, so watch the new one."""
        folder = self.root / name
        with self._lock:
            old = self._scheduled.get(name)
            if (old is not None and not again) or not folder.is_dir():
                return
            if old is not None:
                try:
                    self.observer.unschedule(old)
                except (KeyError, OSError):
                    pass
            try:
                self._scheduled[name] = self.observer.schedule(self.handler, str(folder), recursive=True)
            except OSError:
                self._scheduled.pop(name, None)

    def stop(self) -> None:
        self.observer.stop()
        if self.observer.is_alive():
            self.observer.join(timeout=5)

    def _rel(self, path: str | bytes) -> str | None:
        rel = os.path.relpath(os.fsdecode(path), self.root).replace(os.sep, "/")
        if rel.startswith(".."):
            return None
        if self.out_rel is not None and (rel == self.out_rel or rel.startswith(self.out_rel + "/")):
            return None  # the site itself, when --out lies inside a watched folder
        return rel

    def handle(self, event: Any) -> None:
        """Record a relevant change. Reads, opens and folder metadata changes are not changes."""
        if event.event_type not in ("created", "modified", "moved", "deleted", "closed"):
            return
        if event.is_directory and event.event_type in ("modified", "closed"):
            return
        paths = [event.src_path]
        if event.event_type == "moved":
            paths.append(event.dest_path)
        changed: list[str] = []
        for path in paths:
            rel = self._rel(path)
            if rel is None or not is_relevant(rel, event.is_directory):
                continue
            changed.append(rel)
            if event.is_directory and rel in WATCHED_DIRS and event.event_type in ("created", "moved"):
                self._watch_dir(rel, again=True)
        if changed:
            self.on_change(changed)


# --- the build loop ----------------------------------------------------------------------------


def describe_report(report: Any, seconds: float) -> str:
    """One short line about a build report (works with any object carrying the counters)."""
    written = getattr(report, "written", None)
    removed = getattr(report, "removed", 0) or 0
    problems = getattr(report, "problems", None) or []
    if written is None:
        text = "rebuilt"
    else:
        text = f"{written} page{'s' if written != 1 else ''} written"
        if removed:
            text += f", {removed} removed"
    text += f" in {seconds * 1000:.0f} ms"
    errors = sum(1 for p in problems if getattr(p, "severity", "error") == "error")
    if errors:
        text += f" ({errors} error{'s' if errors != 1 else ''} in contact files, see the dashboard)"
    return text


def site_changed(report: Any) -> bool:
    """Whether open pages should reload: something was written or removed (unknown → yes)."""
    written = getattr(report, "written", None)
    if written is None:
        return True
    return bool(written or getattr(report, "removed", 0))


@dataclass
class Rebuilder:
    """One thread: wait for changes to settle, rebuild incrementally, publish the new epoch."""

    builder: Builder
    state: LiveState
    log: Log = _silent
    log_error: Log | None = None  # failed builds (default: `log`); printed even when quiet
    settle: float = SETTLE_SECONDS
    max_settle: float = MAX_SETTLE_SECONDS
    _wake: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last_change: float = 0.0
    _first_change: float = 0.0
    _pending: list[str] = field(default_factory=list)
    _overflow: bool = False  # more changes than kept in _pending: the next build looks at every file
    _thread: threading.Thread | None = None

    def notify(self, paths: list[str]) -> None:
        """Called from the watcher's thread: record and return at once."""
        now = time.monotonic()
        with self._lock:
            if not self._wake.is_set():
                self._first_change = now
            self._last_change = now
            if len(self._pending) + len(paths) <= PENDING_LIMIT:
                self._pending.extend(paths)
            else:
                self._overflow = True
            self._wake.set()

    def start(self) -> None:
        self.builder.swap = self.state.swapping  # from now on a build's files move in together
        self._thread = threading.Thread(target=self._run, name="tipscale-rebuild", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._stop.is_set():
                return
            while True:  # wait for quiet
                with self._lock:
                    now = time.monotonic()
                    quiet_for = now - self._last_change
                    waited = now - self._first_change
                if quiet_for >= self.settle or waited >= self.max_settle:
                    break
                if self._stop.wait(self.settle - quiet_for):
                    return
            with self._lock:
                self._wake.clear()
                paths, self._pending = self._pending, []
                complete, self._overflow = not self._overflow, False
            self.rebuild(paths, complete)

    def rebuild(self, paths: list[str], complete: bool = False) -> None:
        """One build; never raises. Logs one line, then publishes the result to open pages.
        With `complete`, `paths` are all that changed, and the build looks at those files only."""
        started = time.perf_counter()
        self.state.builds += 1
        what = _describe_paths(paths)
        try:
            report = self.builder.build(changed=paths if complete else None)
        except Exception as exc:  # the server must outlive any bug in a build
            where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
            at = f" ({where[0].filename}:{where[0].lineno})" if where else ""
            message = f"{type(exc).__name__}: {exc}{at}"
            (self.log_error or self.log)(
                f"{what}: rebuild failed, still serving the previous site — {message}"
            )
            self.state.publish(bump=False, problem=message)
            with self._lock:  # this build's changes were not all taken in: look at every file next time
                self._overflow = True
            return
        seconds = time.perf_counter() - started
        self.log(f"{what}: {describe_report(report, seconds)}")
        self.state.publish(bump=site_changed(report), problem="")


def _describe_paths(paths: list[str]) -> str:
    unique = list(dict.fromkeys(paths))
    if not unique:
        return "change"
    if len(unique) == 1:
        return unique[0]
    return f"{unique[0]} and {len(unique) - 1} more"


# --- putting it together -----------------------------------------------------------------------


class DevServer:
    """The HTTP server, and with `reload` the watcher and the build loop. Use as a context manager.

    `start()` binds the port (raising ServeError when it cannot) and serves in a background
    thread; `stop()` shuts everything down and joins the threads.
    """

    def __init__(
        self,
        root: Path,
        out: Path,
        builder: Builder | None,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        reload: bool = True,
        log: Log = _silent,
        log_error: Log | None = None,
        settle: float = SETTLE_SECONDS,
    ) -> None:
        self.root = root
        self.out = out
        self.host = host
        self.requested_port = port
        self.log = log
        self.state = LiveState(reload=reload)  # without a builder: inject, but nothing rebuilds
        self.rebuilder = (
            Rebuilder(builder, self.state, log=log, log_error=log_error, settle=settle)
            if self.state.reload and builder
            else None
        )
        self.watcher: ChangeWatcher | None = None
        self.httpd: SiteServer | None = None
        self._serve_thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self.httpd is not None
        host = f"[{self.host.strip('[]')}]" if ":" in self.host else self.host
        return f"http://{host}:{self.httpd.port}"

    def bind(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        try:
            self.httpd = SiteServer(self.host, self.requested_port, self.out, self.state)
        except OSError as exc:
            raise ServeError(bind_error_message(self.host, self.requested_port, exc)) from None

    def start(self) -> DevServer:
        if self.httpd is None:
            self.bind()
        assert self.httpd is not None
        if self.rebuilder is not None:
            self.rebuilder.start()
            self.watcher = ChangeWatcher(self.root, self.out, self.rebuilder.notify)
            try:
                self.watcher.start()
            except Exception:
                self.stop()
                raise
        self._serve_thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="tipscale-http", daemon=True
        )
        self._serve_thread.start()
        return self

    def stop(self) -> None:
        """Stop watching, finish the running build, close the streams and the socket."""
        if self.watcher is not None:
            self.watcher.stop()
        self.state.stop()
        if self.rebuilder is not None:
            self.rebuilder.stop()
        if self.httpd is not None:
            if self._serve_thread is not None and self._serve_thread.is_alive():
                self.httpd.shutdown()
                self._serve_thread.join(5)
            self.httpd.join_streams(5)
            self.httpd.server_close()

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def bind_error_message(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use (another 'crm serve'?); "
            f"try another port, e.g. --port {port + 1 if port < 65535 else 8001}"
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"not allowed to listen on port {port}; ports below 1024 need privileges — try --port 8000"
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return f"cannot listen on {host}: no such address on this machine (the default is 127.0.0.1)"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def public_host_warning(host: str) -> str | None:
    if is_loopback(host):
        return None
    return (
        f"Warning: listening on {host}, not just this machine. The site holds private data "
        "(your contacts and notes): anyone who can reach this address can read it."
    )


__all__ = [
    "Builder",
    "ChangeWatcher",
    "DevServer",
    "Rebuilder",
    "ServeError",
    "is_relevant",
    "public_host_warning",
]
