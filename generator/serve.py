"""`crm serve`: serve the built site, rebuild on every save, reload the browser (SPEC §6, §8).

The shape follows MkDocs' live-reload server (DESIGN §3):

- `SiteServer` is a `ThreadingHTTPServer` that serves only regular files inside the output
  folder. Every request path is checked segment by segment (no `..`, no encoded slashes, no
  backslashes or NUL bytes, no hidden files) and the resolved file must still lie inside the
  folder, so a symlink pointing out of it is refused too. No directory listings; `/dir/` serves
  `dir/index.html`. Every response carries `Cache-Control: no-store`. While bound to a loopback
  address, requests whose `Host` header names another machine are refused (DNS rebinding would
  otherwise let a web page read the private site).
- `ChangeWatcher` (watchdog, inotify on Linux) watches `contacts/`, `templates/` and `crm.yaml`.
  Its callback does no work: it only records that something relevant changed. Editor leftovers
  (`*.swp`, `*~`, `.#x`, `#x#`, vim's `4913`, hidden files) are ignored; creations, deletions,
  moves and new folders count.
- `Rebuilder` is one thread that waits until changes settle (`SETTLE_SECONDS` of quiet), then
  runs one incremental build with the long-lived builder, and bumps the *epoch* when the site
  changed. It survives any exception: the error is logged, pushed to open pages as a banner,
  and the last complete site stays served.
- Live reload: HTML responses get one `<script src="/__tipscale/reload.js">` tag before
  `</body>` at serve time (files on disk stay clean). The script listens on the server-sent
  events endpoint `/__tipscale/events`, which pushes the epoch; when it differs from the
  page's, the page saves its scroll position in `sessionStorage` and reloads.

Consistency while building: the builder writes each file atomically (temporary file, then
`os.replace`), so a request made during a build gets either the old or the new version of each
file, never half a file. Pages of one build can briefly mix with pages of the previous one, but
open pages only reload once the build has finished, so what the browser shows after a reload
is the complete new site.
"""

from __future__ import annotations

import errno
import html
import ipaddress
import json
import mimetypes
import os
import re
import socket
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from .paths import is_ignored

SETTLE_SECONDS = 0.04  # quiet time after the last change before a rebuild starts
PENDING_LIMIT = 1000  # changed paths remembered for one rebuild; beyond it, every file is looked at
MAX_SETTLE_SECONDS = 2.0  # build anyway when changes never stop coming for this long
KEEPALIVE_SECONDS = 15.0  # an SSE comment line this often finds closed connections
PREFIX = "/__tipscale/"
EVENTS_PATH = PREFIX + "events"
SCRIPT_PATH = PREFIX + "reload.js"
WATCHED_DIRS = ("contacts", "templates")
WATCHED_FILES = ("crm.yaml",)

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".ics": "text/calendar; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".vcf": "text/vcard; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".webmanifest": "application/manifest+json",
}

RELOAD_SCRIPT = """\
(function () {
  "use strict";
  var me = document.currentScript;
  var epoch = me ? me.getAttribute("data-epoch") : null;
  var key = "tipscale:scroll:" + location.pathname + location.search;
  function restore() {
    var saved = null;
    try { saved = sessionStorage.getItem(key); sessionStorage.removeItem(key); } catch (e) { return; }
    if (saved === null) { return; }
    var xy = saved.split(",");
    window.scrollTo(Number(xy[0]) || 0, Number(xy[1]) || 0);
  }
  if (document.readyState === "complete") { restore(); } else { window.addEventListener("load", restore); }
  if (!window.EventSource) { return; }
  var banner = null;
  function showProblem(text) {
    if (!banner) {
      banner = document.createElement("div");
      banner.setAttribute("role", "alert");
      banner.style.cssText = "position:fixed;left:0;right:0;bottom:0;z-index:2147483647;margin:0;" +
        "padding:.75em 1em;background:#7a1212;color:#fff;font:14px/1.4 monospace;white-space:pre-wrap;" +
        "max-height:40vh;overflow:auto";
      document.body.appendChild(banner);
    }
    banner.textContent = text;
    banner.hidden = !text;
  }
  function connect() {
    var source = new EventSource("/__tipscale/events");
    source.addEventListener("epoch", function (event) {
      if (epoch === null) { epoch = event.data; return; }
      if (event.data === epoch) { return; }
      source.close();
      try { sessionStorage.setItem(key, window.scrollX + "," + window.scrollY); } catch (e) { /* private mode */ }
      location.reload();
    });
    source.addEventListener("problem", function (event) {
      var data = JSON.parse(event.data);
      showProblem(data.message ? "Tipscale: the last rebuild failed; showing the previous site.\\n" +
        data.message : "");
    });
  }
  // after "load": an open event stream would otherwise hold the page's load event back
  if (document.readyState === "complete") { connect(); } else { window.addEventListener("load", connect); }
})();
"""


class Builder(Protocol):
    """What the server needs of the site builder (`generator.site.SiteBuilder`)."""

    def build(self, clean: bool = False, changed: Collection[str] | None = None) -> Any: ...


class ServeError(Exception):
    """A problem starting the server that the user can fix (port in use, bad host)."""


Log = Callable[[str], None]


def _silent(message: str) -> None:
    pass


# --- shared state ------------------------------------------------------------------------------


class LiveState:
    """The build epoch and the last build error, shared by the build thread and the request threads."""

    def __init__(self, reload: bool) -> None:
        self.reload = reload
        self.epoch = 1
        self.problem = ""  # the last build's exception, "" when the last build succeeded
        self.builds = 0  # builds run by the build loop (not counting the first one)
        self.stopping = False
        self.changed = threading.Condition()

    def publish(self, *, bump: bool, problem: str) -> None:
        with self.changed:
            if bump:
                self.epoch += 1
            self.problem = problem
            self.changed.notify_all()

    def stop(self) -> None:
        with self.changed:
            self.stopping = True
            self.changed.notify_all()

    def snapshot(self) -> tuple[int, str, bool]:
        with self.changed:
            return self.epoch, self.problem, self.stopping

    def wait_for_change(self, epoch: int, problem: str, timeout: float) -> tuple[int, str, bool]:
        with self.changed:
            self.changed.wait_for(
                lambda: self.stopping or self.epoch != epoch or self.problem != problem, timeout
            )
            return self.epoch, self.problem, self.stopping


# --- request paths -----------------------------------------------------------------------------


class BadPath(Exception):
    """A request path that is refused; `status` is 400 (malformed) or 404 (not served)."""

    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class Target:
    """What a request path resolved to: a file to send, or a redirect to add a trailing slash."""

    file: Path | None = None
    redirect: str | None = None


_ENCODED_SEPARATOR = re.compile(r"%(2f|5c|00)", re.IGNORECASE)


def request_segments(raw: str) -> tuple[list[str], bool]:
    """The decoded path segments of a raw request target, and whether it ended in `/`.

    Refuses (BadPath 400) anything that is not a plain origin-form path: no `..` or `.`
    segments (raw or percent-encoded), no encoded `/` or `\\`, no backslashes, NUL or other
    control characters, no invalid UTF-8.
    """
    path = raw.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        raise BadPath(HTTPStatus.BAD_REQUEST, "the request target must be a path starting with /")
    if "\\" in path or _ENCODED_SEPARATOR.search(path):
        raise BadPath(HTTPStatus.BAD_REQUEST, "encoded separators and backslashes are not allowed")
    try:
        decoded = urllib.parse.unquote(path, errors="strict")
    except UnicodeDecodeError:
        raise BadPath(HTTPStatus.BAD_REQUEST, "the path is not valid UTF-8") from None
    if any(ord(ch) < 0x20 or ch in "\x7f\\" for ch in decoded):
        raise BadPath(HTTPStatus.BAD_REQUEST, "control characters are not allowed")
    segments = decoded.split("/")[1:]
    trailing = decoded.endswith("/")
    segments = [s for s in segments if s != ""]
    for segment in segments:
        if segment in (".", ".."):
            raise BadPath(HTTPStatus.BAD_REQUEST, "relative segments are not allowed")
        if segment.startswith("."):
            raise BadPath(HTTPStatus.NOT_FOUND, "hidden files are not served")
    return segments, trailing


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def resolve_target(out: Path, raw: str) -> Target:
    """Map a raw request target to a regular file inside `out` (already resolved), or refuse.

    Symlinks are followed, but the final file must lie inside `out`. Directories serve their
    `index.html` (a path without the trailing slash is redirected to it); there is no listing.
    """
    segments, trailing = request_segments(raw)
    candidate = out.joinpath(*segments)
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        raise BadPath(HTTPStatus.NOT_FOUND, "no such file") from None
    if not _inside(real, out):
        raise BadPath(HTTPStatus.NOT_FOUND, "outside the site folder")
    if real.is_dir():
        if not trailing and segments:
            location = "/" + "/".join(urllib.parse.quote(s) for s in segments) + "/"
            query = raw.partition("?")[2].split("#", 1)[0]
            return Target(redirect=location + (f"?{query}" if query else ""))
        try:
            real = (real / "index.html").resolve(strict=True)
        except (OSError, RuntimeError):
            raise BadPath(HTTPStatus.NOT_FOUND, "no index.html in this folder") from None
        if not _inside(real, out):
            raise BadPath(HTTPStatus.NOT_FOUND, "outside the site folder")
    if not real.is_file():
        raise BadPath(HTTPStatus.NOT_FOUND, "not a regular file")
    return Target(file=real)


def content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)


def inject_reload(page: bytes, epoch: int) -> bytes:
    """The page with the live-reload script tag before its last `</body>` (or at the end)."""
    tag = f'<script src="{SCRIPT_PATH}" data-epoch="{epoch}"></script>'.encode()
    ends = list(_BODY_END.finditer(page))
    if not ends:
        return page + tag
    at = ends[-1].start()
    return page[:at] + tag + page[at:]


# --- HTTP --------------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class SiteServer(ThreadingHTTPServer):
    """Serves `out` (and the live-reload endpoints when `state.reload`)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, out: Path, state: LiveState) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.out = out.resolve()
        self.state = state
        self.loopback_only = is_loopback(host)
        self._streams: set[threading.Thread] = set()
        self._streams_lock = threading.Lock()
        super().__init__((host.strip("[]"), port), SiteRequestHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def track_stream(self, thread: threading.Thread, active: bool) -> None:
        with self._streams_lock:
            (self._streams.add if active else self._streams.discard)(thread)

    def join_streams(self, timeout: float) -> None:
        with self._streams_lock:
            threads = list(self._streams)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class SiteRequestHandler(BaseHTTPRequestHandler):
    server: SiteServer
    server_version = "Tipscale"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per rebuild is enough; per-request logs would drown it

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        super().end_headers()

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def _host_allowed(self) -> bool:
        """Refuse requests for other host names while bound to loopback (DNS rebinding)."""
        if not self.server.loopback_only:
            return True
        host = self.headers.get("Host")
        if host is None:
            return True
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return is_loopback(name)

    def _respond(self, head: bool) -> None:
        if not self._host_allowed():
            self._send_error(HTTPStatus.FORBIDDEN, "This server only answers to localhost.", head)
            return
        path = self.path.split("?", 1)[0]
        state = self.server.state
        if path.startswith(PREFIX):
            if state.reload and path == SCRIPT_PATH:
                self._send_bytes(RELOAD_SCRIPT.encode(), CONTENT_TYPES[".js"], head)
            elif state.reload and path == EVENTS_PATH and not head:
                self._stream_events()
            else:
                self._send_error(HTTPStatus.NOT_FOUND, "Not found.", head)
            return
        try:
            target = resolve_target(self.server.out, self.path)
        except BadPath as exc:
            self._send_error(exc.status, str(exc), head)
            return
        if target.redirect is not None:
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", target.redirect)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        assert target.file is not None
        try:
            body = target.file.read_bytes()
        except OSError:  # removed by a rebuild between resolving and reading
            self._send_error(HTTPStatus.NOT_FOUND, "no such file", head)
            return
        kind = content_type(target.file)
        if state.reload and kind.startswith("text/html"):
            body = inject_reload(body, state.snapshot()[0])
        self._send_bytes(body, kind, head)

    def _send_bytes(self, body: bytes, kind: str, head: bool, status: HTTPStatus = HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _send_error(self, status: HTTPStatus, reason: str, head: bool) -> None:
        """A small HTML error page; it carries the reload script so a 404 tab recovers by itself."""
        page = (
            "<!doctype html><html lang=en><meta charset=utf-8>"
            f"<title>{status.value} {status.phrase}</title>"
            f"<body><h1>{status.value} {status.phrase}</h1><p>{html.escape(reason)}</p>"
            '<p><a href="/">Dashboard</a></p></body></html>'
        ).encode()
        if self.server.state.reload and status == HTTPStatus.NOT_FOUND:
            page = inject_reload(page, self.server.state.snapshot()[0])
        self.close_connection = True
        self._send_bytes(page, CONTENT_TYPES[".html"], head, status)

    def _stream_events(self) -> None:
        """Server-sent events: the epoch now and after every change, and build problems."""
        state = self.server.state
        me = threading.current_thread()
        self.server.track_stream(me, True)
        self.close_connection = True
        try:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Connection", "close")
            self.end_headers()
            epoch, problem, stopping = state.snapshot()
            self._event("epoch", str(epoch), retry=True)
            if problem:
                self._event("problem", json.dumps({"message": problem}))
            while not stopping:
                new_epoch, new_problem, stopping = state.wait_for_change(epoch, problem, KEEPALIVE_SECONDS)
                if stopping:
                    break
                if new_problem != problem:
                    self._event("problem", json.dumps({"message": new_problem}))
                if new_epoch != epoch:
                    self._event("epoch", str(new_epoch))
                if new_epoch == epoch and new_problem == problem:
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
                epoch, problem = new_epoch, new_problem
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            pass  # the page went away
        finally:
            self.server.track_stream(me, False)

    def _event(self, name: str, data: str, retry: bool = False) -> None:
        lines = ["retry: 300"] if retry else []
        lines.append(f"event: {name}")
        lines.extend(f"data: {line}" for line in data.split("\n"))
        self.wfile.write(("\n".join(lines) + "\n\n").encode())
        self.wfile.flush()


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
    if top == "contacts":  # the loader skips `_` names too, and reads only `*.md`
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
    "LiveState",
    "Rebuilder",
    "ServeError",
    "SiteServer",
    "inject_reload",
    "is_relevant",
    "public_host_warning",
    "resolve_target",
]
