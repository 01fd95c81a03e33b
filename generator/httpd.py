"""The HTTP side of `crm serve`: serve only the built site, and push live-reload events (SPEC §6, §8).

- `SiteServer` is a `ThreadingHTTPServer` that serves only regular files inside the output
  folder. Every request path is checked segment by segment (no `..`, no encoded slashes, no
  backslashes or NUL bytes, no hidden files) and the resolved file must still lie inside the
  folder, so a symlink pointing out of it is refused too. No directory listings; `/dir/` serves
  `dir/index.html`. Every response carries `Cache-Control: no-store`. While bound to a loopback
  address, requests whose `Host` header names another machine are refused (DNS rebinding would
  otherwise let a web page read the private site).
- Limits: a listen queue of `LISTEN_QUEUE`, at most `MAX_CONNECTIONS` connections at once (the
  next ones get a short 503), and a connection that sends nothing for `IDLE_SECONDS` (idle, or a
  request sent halfway) is closed. A client that goes away mid-answer is not an error.
- Live reload: HTML responses get one `<script src="/__tipscale/reload.js">` tag before
  `</body>` at serve time (files on disk stay clean). The script listens on the server-sent
  events endpoint `/__tipscale/events`, which pushes the epoch; when it differs from the
  page's, the page saves its scroll position in `sessionStorage` and reloads.
"""

from __future__ import annotations

import contextlib
import html
import ipaddress
import json
import mimetypes
import re
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

KEEPALIVE_SECONDS = 15.0  # an SSE comment line this often finds closed connections
LISTEN_QUEUE = 1024  # connections the kernel holds while every thread is busy (the OS may cap it)
MAX_CONNECTIONS = 256  # connections served at once; open pages hold one each for live reload
IDLE_SECONDS = 20.0  # a connection that sends nothing (or stops halfway) for this long is closed
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Retry-After: 1\r\nContent-Length: 36\r\nConnection: close\r\n\r\n"
    b"Too many connections; retry shortly."
)
GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)
PREFIX = "/__tipscale/"
EVENTS_PATH = PREFIX + "events"
SCRIPT_PATH = PREFIX + "reload.js"

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

# The live-reload script, served at SCRIPT_PATH (a file of its own beside this module).
RELOAD_SCRIPT = (Path(__file__).parent / "reload.js").read_bytes()

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
        self._gate = threading.Condition()  # requests reading files, and a build moving them
        self._readers = 0
        self._swapping = False

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Held by a request while it finds and reads its file: never during `swapping()`."""
        with self._gate:
            self._gate.wait_for(lambda: not self._swapping)
            self._readers += 1
        try:
            yield
        finally:
            with self._gate:
                self._readers -= 1
                self._gate.notify_all()

    @contextlib.contextmanager
    def swapping(self) -> Iterator[None]:
        """Held while a build moves its files into place: requests wait, and those already
        reading finish first, so each request sees one complete build."""
        with self._gate:
            self._swapping = True
            self._gate.wait_for(lambda: self._readers == 0)
        try:
            yield
        finally:
            with self._gate:
                self._swapping = False
                self._gate.notify_all()

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
    request_queue_size = LISTEN_QUEUE

    def __init__(
        self,
        host: str,
        port: int,
        out: Path,
        state: LiveState,
        *,
        max_connections: int = MAX_CONNECTIONS,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.out = out.resolve()
        self.state = state
        self.loopback_only = is_loopback(host)
        self.idle_seconds = idle_seconds
        self._slots = threading.BoundedSemaphore(max_connections)
        self._streams: set[threading.Thread] = set()
        self._streams_lock = threading.Lock()
        super().__init__((host.strip("[]"), port), SiteRequestHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve in a thread of its own, or answer 503 at once when every slot is taken."""
        if not self._slots.acquire(blocking=False):
            try:
                request.settimeout(1.0)
                request.sendall(BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away is normal; anything else is one line, never a traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, GONE):
            return
        sys.stderr.write(f"Tipscale: a request from {client_address[0]} failed: {error!r}\n")

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

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.idle_seconds)  # read and write timeouts

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
                self._send_bytes(RELOAD_SCRIPT, CONTENT_TYPES[".js"], head)
            elif state.reload and path == EVENTS_PATH and not head:
                self._stream_events()
            else:
                self._send_error(HTTPStatus.NOT_FOUND, "Not found.", head)
            return
        try:
            with state.reading():  # the last complete build, even while the next one moves in
                target = resolve_target(self.server.out, self.path)
                body = target.file.read_bytes() if target.file is not None else b""
        except BadPath as exc:
            self._send_error(exc.status, str(exc), head)
            return
        except OSError:  # removed by a rebuild between resolving and reading
            self._send_error(HTTPStatus.NOT_FOUND, "no such file", head)
            return
        if target.redirect is not None:
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", target.redirect)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        assert target.file is not None
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
        except GONE:
            pass  # the page went away
        finally:
            self.server.track_stream(me, False)

    def _event(self, name: str, data: str, retry: bool = False) -> None:
        lines = ["retry: 300"] if retry else []
        lines.append(f"event: {name}")
        lines.extend(f"data: {line}" for line in data.split("\n"))
        self.wfile.write(("\n".join(lines) + "\n\n").encode())
        self.wfile.flush()
