"""`crm serve`: path safety, content types, live reload, the watcher and the build loop.

Everything here runs a real server on a free port and sends real HTTP requests (raw request
lines over a socket where a client library would normalise the path). Watcher tests edit real
files in a temporary CRM root the way editors do and wait for the served page to change.
"""

from __future__ import annotations

import marshal
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from generator.httpd import LiveState, resolve_target
from generator.serve import DevServer, Rebuilder, is_relevant

REPO = Path(__file__).resolve().parent.parent
CRM = REPO / ".venv" / "bin" / "crm"
WAIT = 15.0  # generous upper bound for a rebuild on a busy 2-core machine; tests finish as soon as it shows


# --- helpers -----------------------------------------------------------------------------------


def raw_request(
    port: int, target: bytes, method: bytes = b"GET", host: bytes | None = b"127.0.0.1"
) -> Response:
    """Send one request line exactly as given (no client-side normalisation) and read the reply."""
    lines = [method + b" " + target + b" HTTP/1.1"]
    if host is not None:
        lines.append(b"Host: " + host)
    lines += [b"Connection: close", b"", b""]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"\r\n".join(lines))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("iso-8859-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Response(int(status_line.split()[1]), headers, body)


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def get(port: int, path: str) -> Response:
    return raw_request(port, path.encode())


def wait_until(check: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def page_shows(port: int, path: str, text: str) -> Callable[[], bool]:
    def check() -> bool:
        response = get(port, path)
        return response.status == 200 and text in response.text

    return check


def page_status(port: int, path: str, status: int) -> Callable[[], bool]:
    return lambda: get(port, path).status == status


def contact(name: str, extra: str = "", body: str = "Notes.") -> str:
    return f"---\nname: {name}\n{extra}---\n{body}\n"


def site_builder(root: Path, out: Path) -> Any:
    from generator.site import SiteBuilder

    return SiteBuilder(root, out)


@contextmanager
def serving(
    root: Path,
    *,
    reload: bool = True,
    builder: Any = None,
    out: Path | None = None,
    build_first: bool = True,
) -> Iterator[DevServer]:
    """A DevServer on a free port with the real SiteBuilder (built once, like `crm serve`)."""
    out = out if out is not None else root / "site"
    if builder is None:
        builder = site_builder(root, out)
    if build_first:
        builder.build()
    server = DevServer(root, out, builder, port=0, reload=reload)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def port_of(server: DevServer) -> int:
    assert server.httpd is not None
    return server.httpd.port


def settle_and_count(server: DevServer, quiet: float = 0.6) -> int:
    """Wait until no build has started for `quiet` seconds; return how many builds ran."""
    last = -1
    while True:
        count = server.state.builds
        if count == last:
            return count
        last = count
        time.sleep(quiet)


# --- path safety on a plain folder -------------------------------------------------------------


@pytest.fixture
def plain_site(tmp_path: Path) -> Iterator[tuple[int, Path, Path]]:
    """A served folder of hand-written files (no builder), a secret file beside it, and symlinks."""
    root = tmp_path / "root"
    out = root / "site"
    (out / "contacts").mkdir(parents=True)
    (out / "tags").mkdir()
    (out / "index.html").write_text("<!doctype html><html><body><h1>Dashboard</h1></body></html>")
    (out / "tags" / "index.html").write_text("<!doctype html><html><body>Tags</body></html>")
    (out / "contacts" / "jane-doe.html").write_text("<html><body>Jane</body></html>")
    (out / "contacts" / "raj-patel.html").write_text("<html><body>Raj</body></html>")
    (out / "style.css").write_text("body{}")
    (out / "app.js").write_text("1;")
    (out / "followups.ics").write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    (out / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (out / "data.json").write_text("{}")
    (out / ".manifest.json").write_text('{"private": true}')
    secret = root / "secret.txt"
    secret.write_text("TOP-SECRET")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "other.txt").write_text("TOP-SECRET too")
    (out / "link-out.txt").symlink_to(secret)
    (out / "dir-out").symlink_to(outside, target_is_directory=True)
    (out / "link-in.css").symlink_to(out / "style.css")
    server = DevServer(root, out, None, port=0, reload=True)
    server.start()
    try:
        yield port_of(server), out, secret
    finally:
        server.stop()


TRAVERSALS = [
    b"/../secret.txt",
    b"/contacts/../../secret.txt",
    b"/contacts/../../../../../../etc/passwd",
    b"/%2e%2e/secret.txt",
    b"/%2E%2E/secret.txt",
    b"/.%2e/secret.txt",
    b"/%2e./secret.txt",
    b"/contacts/%2e%2e/%2e%2e/secret.txt",
    b"/..%2fsecret.txt",
    b"/%2e%2e%2fsecret.txt",
    b"/contacts%2f..%2f..%2fsecret.txt",
    b"/%2F..%2Fsecret.txt",
    b"/..\\secret.txt",
    b"/contacts\\..\\..\\secret.txt",
    b"/..%5csecret.txt",
    b"/..%5Csecret.txt",
    b"/secret.txt%00.html",
    b"/secret.txt\x00.html",
    b"/%c0%ae%c0%ae/secret.txt",  # overlong UTF-8 for '.'
    b"/%252e%252e/secret.txt",  # double encoding stays a literal name
    b"http://127.0.0.1/../secret.txt",
    b"../secret.txt",
    b"secret.txt",
    b"/link-out.txt",
    b"/dir-out/other.txt",
    b"/dir-out/",
    b"/.manifest.json",
]


@pytest.mark.parametrize("target", TRAVERSALS, ids=lambda t: t.decode("latin-1").replace("\x00", "NUL"))
def test_paths_outside_the_site_are_refused(plain_site: tuple[int, Path, Path], target: bytes) -> None:
    port, _, _ = plain_site
    response = raw_request(port, target)
    assert response.status in (400, 404), (target, response.status)
    assert b"TOP-SECRET" not in response.body
    assert b"private" not in response.body


def test_absolute_file_path_is_served_from_inside_the_site_only(plain_site: tuple[int, Path, Path]) -> None:
    port, _, secret = plain_site
    response = raw_request(port, ("/" + str(secret)).encode())
    assert response.status == 404
    assert b"TOP-SECRET" not in response.body
    response = raw_request(port, str(secret).encode())  # "/tmp/…/secret.txt": a path, but not in site/
    assert response.status == 404
    assert b"TOP-SECRET" not in response.body


def test_symlink_inside_the_site_is_served(plain_site: tuple[int, Path, Path]) -> None:
    port, _, _ = plain_site
    response = get(port, "/link-in.css")
    assert response.status == 200
    assert response.body == b"body{}"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/index.html", "text/html; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/followups.ics", "text/calendar; charset=utf-8"),
        ("/logo.svg", "image/svg+xml"),
        ("/data.json", "application/json"),
    ],
)
def test_content_types_and_no_store(plain_site: tuple[int, Path, Path], path: str, kind: str) -> None:
    port, out, _ = plain_site
    response = get(port, path)
    assert response.status == 200
    assert response.headers["content-type"] == kind
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    if not path.endswith(".html"):
        assert response.body == (out / path.lstrip("/")).read_bytes()
    assert int(response.headers["content-length"]) == len(response.body)


def test_head_sends_headers_only(plain_site: tuple[int, Path, Path]) -> None:
    port, _, _ = plain_site
    response = raw_request(port, b"/style.css", method=b"HEAD")
    assert response.status == 200
    assert response.headers["content-length"] == "6"
    assert response.body == b""


def test_index_pages_and_no_listing(plain_site: tuple[int, Path, Path]) -> None:
    port, _, _ = plain_site
    root = get(port, "/")
    assert root.status == 200 and "Dashboard" in root.text
    tags = get(port, "/tags/")
    assert tags.status == 200 and "Tags" in tags.text
    redirect = get(port, "/tags?x=1")
    assert redirect.status == 301
    assert redirect.headers["location"] == "/tags/?x=1"
    listing = get(port, "/contacts/")  # a folder without index.html: 404, never a listing
    assert listing.status == 404
    assert "jane-doe" not in listing.text and "raj-patel" not in listing.text
    assert get(port, "/nope.html").status == 404


def test_redirect_never_leaves_the_site(plain_site: tuple[int, Path, Path]) -> None:
    port, _, _ = plain_site
    response = get(port, "//evil.example/tags")
    # "//evil.example/tags" is the local path evil.example/tags: not found, and never a redirect off-site
    assert response.status == 404
    response = get(port, "//tags")
    assert response.status == 301
    assert response.headers["location"] == "/tags/"


def test_other_host_names_are_refused_while_on_loopback(plain_site: tuple[int, Path, Path]) -> None:
    port, _, _ = plain_site
    assert raw_request(port, b"/", host=b"evil.example:8000").status == 403  # DNS rebinding
    assert raw_request(port, b"/", host=f"localhost:{port}".encode()).status == 200
    assert raw_request(port, b"/", host=f"127.0.0.1:{port}".encode()).status == 200


def test_reload_script_is_injected_at_serve_time_only(plain_site: tuple[int, Path, Path]) -> None:
    port, out, _ = plain_site
    response = get(port, "/")
    assert re.search(
        r'<h1>Dashboard</h1><script src="/__tipscale/reload.js" data-epoch="\d+"></script></body>',
        response.text,
    )
    assert int(response.headers["content-length"]) == len(response.body)
    assert "__tipscale" not in (out / "index.html").read_text()
    script = get(port, "/__tipscale/reload.js")
    assert script.status == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "EventSource" in script.text and "sessionStorage" in script.text
    css = get(port, "/style.css")
    assert "__tipscale" not in css.text


def test_no_reload_injects_nothing_and_has_no_event_stream(tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("<html><body>Hi</body></html>")
    with DevServer(tmp_path, out, None, port=0, reload=False) as server:
        port = port_of(server)
        response = get(port, "/")
        assert response.body == b"<html><body>Hi</body></html>"
        assert get(port, "/__tipscale/events").status == 404
        assert get(port, "/__tipscale/reload.js").status == 404
        assert server.watcher is None and server.rebuilder is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/", "index.html"),
        ("/a/", "a/index.html"),
        ("/a/b.html?q=1#x", "a/b.html"),
        ("/a%20b.html", "a b.html"),
    ],
)
def test_resolve_target(tmp_path: Path, raw: str, expected: str) -> None:
    for rel in ("index.html", "a/index.html", "a/b.html", "a b.html"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    target = resolve_target(tmp_path.resolve(), raw)
    assert target.file == (tmp_path / expected).resolve()


@pytest.mark.parametrize(
    ("rel", "directory", "relevant"),
    [
        ("contacts/jane.md", False, True),
        ("contacts/work/jane.md", False, True),
        ("contacts/work", True, True),
        ("contacts", True, True),
        ("crm.yaml", False, True),
        ("templates/contact.html.j2", False, True),
        ("templates/_macros.html.j2", False, True),
        ("templates/notes/interview.md.j2", False, True),
        ("applications/globex-staff-engineer.md", False, True),
        ("applications", True, True),
        ("applications/.globex.md.swp", False, False),
        ("applications/notes.txt", False, False),
        ("contacts/.jane.md.swp", False, False),
        ("contacts/.jane.md.swx", False, False),
        ("contacts/jane.md.swp", False, False),
        ("contacts/jane.md~", False, False),
        ("contacts/.#jane.md", False, False),
        ("contacts/#jane.md#", False, False),
        ("contacts/4913", False, False),
        ("templates/4913", False, False),
        ("contacts/jane.md___jb_tmp___", False, False),
        ("contacts/notes.txt", False, False),
        ("contacts/_drafts/jane.md", False, False),
        ("contacts/.git/index", False, False),
        ("site/index.html", False, False),
        (".git/HEAD", False, False),
        ("README.md", False, False),
        ("crm.yaml~", False, False),
        ("../elsewhere/crm.yaml", False, False),
    ],
)
def test_change_filter(rel: str, directory: bool, relevant: bool) -> None:
    assert is_relevant(rel, directory) is relevant


# --- the event stream --------------------------------------------------------------------------


class EventReader:
    """Reads server-sent events from /__tipscale/events on a raw socket."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        self.sock.sendall(b"GET /__tipscale/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        self.buffer = b""
        head = self._until(b"\r\n\r\n")
        assert b" 200 " in head.split(b"\r\n")[0]
        assert b"text/event-stream" in head

    def _until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        item, self.buffer = self.buffer.split(marker, 1)
        return item

    def next_event(self) -> tuple[str, str]:
        while True:
            block = self._until(b"\n\n").decode()
            fields = dict(line.split(": ", 1) for line in block.split("\n") if not line.startswith(":"))
            if "event" in fields:
                return fields["event"], fields.get("data", "")

    def close(self) -> None:
        self.sock.close()


class FlakyBuilder:
    """A real SiteBuilder whose builds raise while `fail` is set (a bug in a build)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.fail = False
        self.calls = 0

    def build(self, clean: bool = False, changed: Any = None) -> Any:
        self.calls += 1
        if self.fail:
            raise RuntimeError("boom in build")
        return self.inner.build(clean, changed)


# --- the watcher and the build loop with the real site builder ---------------------------------


@pytest.fixture
def small_root(crm_root: Callable[..., Path]) -> Path:
    return crm_root(
        {
            "contacts/jane-doe.md": contact("Jane Doe", "company: Acme Corp\n", "Original notes about Jane."),
            "contacts/raj-patel.md": contact("Raj Patel", "", "Knows [[jane-doe]]."),
        },
        settings="today: 2026-11-25\n",
    )


JANE = "/contacts/jane-doe.html"


def test_event_stream_pushes_the_epoch_after_a_change(small_root: Path) -> None:
    with serving(small_root) as server:
        port = port_of(server)
        reader = EventReader(port)
        try:
            name, first = reader.next_event()
            assert name == "epoch"
            served = re.search(r'data-epoch="(\d+)"', get(port, JANE).text)
            assert served and served.group(1) == first
            (small_root / "contacts/jane-doe.md").write_text(contact("Jane Doe", "", "Changed notes."))
            name, second = reader.next_event()
            assert name == "epoch" and int(second) == int(first) + 1
        finally:
            reader.close()
        assert page_shows(port, JANE, "Changed notes.")()


def test_in_place_write(small_root: Path) -> None:
    with serving(small_root) as server:
        port = port_of(server)
        assert page_shows(port, JANE, "Original notes")()
        with open(small_root / "contacts/jane-doe.md", "r+", encoding="utf-8") as handle:  # truncate + write
            handle.truncate(0)
            handle.write(contact("Jane Doe", "", "Edited in place."))
        wait_until(page_shows(port, JANE, "Edited in place."), what="the in-place edit")
        assert "Original notes" not in get(port, JANE).text
        assert 1 <= settle_and_count(server) <= 2


def test_write_temp_then_rename(small_root: Path) -> None:
    """VS Code / atomic-save style: write a hidden temporary file, then rename it over the original."""
    with serving(small_root) as server:
        port = port_of(server)
        target = small_root / "contacts/jane-doe.md"
        temp = small_root / "contacts/.jane-doe.md.tmp.1234"
        temp.write_text(contact("Jane Doe", "", "Saved atomically."))
        os.replace(temp, target)
        wait_until(page_shows(port, JANE, "Saved atomically."), what="the renamed save")
        assert 1 <= settle_and_count(server) <= 2


def test_jetbrains_safe_write(small_root: Path) -> None:
    """JetBrains: write x___jb_tmp___, rename the original to x___jb_old___, rename tmp to x, delete old."""
    with serving(small_root) as server:
        port = port_of(server)
        folder = small_root / "contacts"
        (folder / "jane-doe.md___jb_tmp___").write_text(contact("Jane Doe", "", "Safe write."))
        os.rename(folder / "jane-doe.md", folder / "jane-doe.md___jb_old___")
        os.rename(folder / "jane-doe.md___jb_tmp___", folder / "jane-doe.md")
        os.remove(folder / "jane-doe.md___jb_old___")
        wait_until(page_shows(port, JANE, "Safe write."), what="the safe write")
        assert 1 <= settle_and_count(server) <= 2


def test_vim_backupcopy_no(small_root: Path) -> None:
    """vim with backupcopy=no: rename the file to file~, write a new file, delete the backup."""
    with serving(small_root) as server:
        port = port_of(server)
        folder = small_root / "contacts"
        (folder / "4913").write_text("")  # vim's writability probe
        (folder / "4913").unlink()
        os.rename(folder / "jane-doe.md", folder / "jane-doe.md~")
        (folder / "jane-doe.md").write_text(contact("Jane Doe", "", "Saved by vim."))
        (folder / "jane-doe.md~").unlink()
        wait_until(page_shows(port, JANE, "Saved by vim."), what="vim's save")
        # the page may briefly be missing mid-save, but the final state is right and stays right
        assert 1 <= settle_and_count(server) <= 3
        assert page_shows(port, JANE, "Saved by vim.")()


def test_swap_and_probe_files_alone_trigger_no_rebuild(small_root: Path) -> None:
    (small_root / "templates" / "notes").mkdir(parents=True)
    with serving(small_root) as server:
        for folder, base in (
            (small_root / "contacts", "jane-doe.md"),
            (small_root / "templates", "base.html.j2"),
            (small_root / "templates" / "notes", "interview.md.j2"),
        ):
            for name in (f".{base}.swp", f".{base}.swx", "4913", f".#{base}", f"#{base}#", f"{base}~"):
                (folder / name).write_text("junk")
                with open(folder / name, "a") as handle:
                    handle.write("more")
                os.rename(folder / name, folder / (name + ".swp"))
                (folder / (name + ".swp")).unlink()
        (small_root / "contacts" / "notes.txt").write_text("not a contact")
        (small_root / "crm.yaml~").write_text("today: 2030-01-01\n")
        (small_root / "contacts" / "jane-doe.md").read_text()  # reading is not a change
        time.sleep(0.6)
        assert server.state.builds == 0
        assert server.state.epoch == 1


def test_delete_removes_the_page(small_root: Path) -> None:
    with serving(small_root) as server:
        port = port_of(server)
        assert get(port, JANE).status == 200
        (small_root / "contacts/jane-doe.md").unlink()
        wait_until(page_status(port, JANE, 404), what="the deleted contact's page to go")
        assert get(port, "/contacts/raj-patel.html").status == 200


def test_rename_moves_the_page(small_root: Path) -> None:
    with serving(small_root) as server:
        port = port_of(server)
        os.rename(small_root / "contacts/jane-doe.md", small_root / "contacts/jane-smith.md")
        wait_until(page_shows(port, "/contacts/jane-smith.html", "Original notes"), what="the renamed page")
        # stale pages are removed at the end of the same build, just after new ones are written
        wait_until(page_status(port, JANE, 404), what="the old page to go")


def test_new_sub_folder_with_a_contact(small_root: Path, tmp_path: Path) -> None:
    with serving(small_root) as server:
        port = port_of(server)
        work = small_root / "contacts" / "work"
        work.mkdir()
        (work / "bob-stone.md").write_text(contact("Bob Stone", "", "Met at work."))
        wait_until(
            page_shows(port, "/contacts/bob-stone.html", "Met at work."), what="a contact in a new folder"
        )
        # a folder moved in from elsewhere, already full (git checkout, mv)
        staged = tmp_path / "staged"
        staged.mkdir()
        (staged / "cleo-park.md").write_text(contact("Cleo Park", "", "Moved in."))
        shutil.move(str(staged), str(small_root / "contacts" / "friends"))
        wait_until(page_shows(port, "/contacts/cleo-park.html", "Moved in."), what="a moved-in folder")
        # and a later edit inside the new folder is watched too
        (work / "bob-stone.md").write_text(contact("Bob Stone", "", "Edited in the new folder."))
        wait_until(
            page_shows(port, "/contacts/bob-stone.html", "Edited in the new folder."), what="an edit there"
        )


def test_settings_and_templates_are_watched(small_root: Path) -> None:
    with serving(small_root) as server:
        builds = server.state.builds
        (small_root / "crm.yaml").write_text("today: 2026-11-26\n")
        wait_until(lambda: server.state.builds > builds, what="a rebuild after crm.yaml changed")
        builds = settle_and_count(server)
        (small_root / "templates").mkdir()  # created while serving: watched from now on
        wait_until(lambda: server.state.builds > builds, what="a rebuild after templates/ appeared")
        builds = settle_and_count(server)
        (small_root / "templates" / "notes").mkdir()
        wait_until(lambda: server.state.builds > builds, what="a rebuild after templates/notes appeared")


def test_an_application_saved_while_serving_shows_on_the_pipeline_and_the_contact_page(small_root: Path) -> None:
    with serving(small_root) as server:
        port = port_of(server)
        folder = small_root / "applications"
        folder.mkdir()  # made while serving: watched from now on
        (folder / "acme-dev.md").write_text(
            "---\ncompany: Acme Corp\nrole: Developer\nvia: raj-patel\nstages:\n  - {stage: applied, date: 2026-11-24}\n---\n"
        )
        wait_until(page_shows(port, "/applications.html", "Thank-you to Raj Patel"), what="the new application")
        wait_until(page_shows(port, "/contacts/raj-patel.html", "Developer at Acme Corp"), what="the application on Raj's page")
        (folder / "acme-dev.md").write_text(
            "---\ncompany: Acme Corp\nrole: Developer\nvia: raj-patel\nstages:\n  - {stage: applied, date: 2026-11-24}\n"
            "  - {stage: rejected, date: 2026-11-25}\n---\n"
        )
        wait_until(page_shows(port, "/applications.html", "Closing note to Raj Patel"), what="the outcome on the pipeline")


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_burst_of_a_thousand_files_from_a_git_checkout(crm_root: Callable[..., Path]) -> None:
    files = {
        f"contacts/person-{i:04d}.md": contact(f"Person {i}", "", f"Version one {i}.") for i in range(1000)
    }
    root = crm_root(files, settings="today: 2026-11-25\n")
    (root / ".gitignore").write_text("site/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "one")
    git(root, "checkout", "-q", "-b", "two")
    for i in range(1000):
        (root / f"contacts/person-{i:04d}.md").write_text(contact(f"Person {i}", "", f"Version two {i}."))
    (root / "contacts/person-0500.md").unlink()
    git(root, "add", "-A")
    git(root, "commit", "-qm", "two")
    git(root, "checkout", "-q", "main")
    with serving(root) as server:
        port = port_of(server)
        assert page_shows(port, "/contacts/person-0999.html", "Version one 999.")()
        git(root, "checkout", "-q", "two")  # 1,000 files rewritten, one deleted
        wait_until(page_shows(port, "/contacts/person-0999.html", "Version two 999."), what="the burst")
        builds = settle_and_count(server, quiet=1.0)
        assert 1 <= builds <= 3, builds
        for i in (0, 1, 499, 501, 998, 999):
            assert page_shows(port, f"/contacts/person-{i:04d}.html", f"Version two {i}.")(), i
        assert get(port, "/contacts/person-0500.html").status == 404


def test_the_build_loop_waits_for_changes_to_settle() -> None:
    """Changes 2 ms apart for about 0.2 s are one build (a build per event would be ~80)."""

    class Counting:
        calls = 0
        seen: list[str] = []

        def build(self, clean: bool = False, changed: list[str] | None = None) -> None:
            self.calls += 1
            assert changed is not None  # the watcher's paths are passed on: no full walk needed
            self.seen.extend(changed)

    builder = Counting()
    state = LiveState(reload=True)
    loop = Rebuilder(builder, state, settle=0.04)
    loop.start()
    try:
        for i in range(80):
            loop.notify([f"contacts/p{i}.md"])
            time.sleep(0.002)
        wait_until(lambda: builder.calls >= 1, what="a build")
        time.sleep(0.3)
        assert builder.calls <= 3
        assert state.epoch == 1 + builder.calls  # an unknown report counts as a change
        assert sorted(set(builder.seen)) == sorted(f"contacts/p{i}.md" for i in range(80))
    finally:
        loop.stop()


def test_broken_file_shows_on_the_dashboard_and_fixing_clears_it(small_root: Path) -> None:
    with serving(small_root) as server:
        port = port_of(server)
        assert "jane-doe.md" not in get(port, "/").text
        (small_root / "contacts/jane-doe.md").write_text(
            "---\nname: Jane Doe\ninteractions: [\n---\nBroken.\n"
        )
        wait_until(page_shows(port, "/", "contacts/jane-doe.md"), what="the error on the dashboard")
        assert page_shows(port, "/contacts/raj-patel.html", "Raj Patel")()
        (small_root / "contacts/jane-doe.md").write_text(contact("Jane Doe", "", "Fixed notes."))
        wait_until(page_shows(port, JANE, "Fixed notes."), what="the fixed page")
        wait_until(lambda: "contacts/jane-doe.md" not in get(port, "/").text, what="the error to clear")


def test_an_exception_in_a_build_does_not_kill_the_server(small_root: Path) -> None:
    out = small_root / "site"
    flaky = FlakyBuilder(site_builder(small_root, out))
    logged: list[str] = []
    flaky.build()
    server = DevServer(small_root, out, flaky, port=0, log=logged.append)
    with server:
        port = port_of(server)
        reader = EventReader(port)
        try:
            assert reader.next_event()[0] == "epoch"
            flaky.fail = True
            (small_root / "contacts/jane-doe.md").write_text(contact("Jane Doe", "", "During the bug."))
            name, data = reader.next_event()
            assert name == "problem" and "boom in build" in data
            assert any("rebuild failed" in line and "boom in build" in line for line in logged)
            assert page_shows(port, JANE, "Original notes")()  # the last complete site is still served
            flaky.fail = False
            (small_root / "contacts/jane-doe.md").write_text(contact("Jane Doe", "", "After the fix."))
            wait_until(page_shows(port, JANE, "After the fix."), what="the rebuild after the bug")
            events = [reader.next_event(), reader.next_event()]
            assert ("problem", '{"message": ""}') in events
            assert any(name == "epoch" for name, _ in events)
        finally:
            reader.close()


def test_stop_closes_open_event_streams_quickly(small_root: Path) -> None:
    server = DevServer(small_root, small_root / "site", site_builder(small_root, small_root / "site"), port=0)
    server.start()
    reader = EventReader(port_of(server))
    reader.next_event()
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 3
    with pytest.raises((EOFError, OSError)):
        reader.next_event()
    reader.close()
    assert not any(t.name.startswith("tipscale-") and t.is_alive() for t in threading.enumerate())


# --- the command line, as a subprocess ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_cli(root: Path, *args: str) -> tuple[subprocess.Popen[str], int, list[str]]:
    """`crm --root ROOT serve --port 0 ARGS…`; returns the process, its port and its stdout so far."""
    env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1", "CRM_TODAY": ""}
    proc = subprocess.Popen(
        [str(CRM), "--root", str(root), "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        found = re.match(r"Serving http://[^:]+:(\d+) — Ctrl-C to stop", line)
        if found:
            return proc, int(found.group(1)), lines
    proc.kill()
    raise AssertionError(f"no 'Serving' line: {lines} {proc.stderr.read() if proc.stderr else ''}")


def test_port_in_use_is_a_clear_error(demo_root: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [str(CRM), "--root", str(demo_root), "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "NO_COLOR": "1"},
        )
    assert result.returncode == 1
    assert f"Error: port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"--port {port + 1}" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Serving" not in result.stdout


def test_ctrl_c_stops_cleanly(demo_root: Path) -> None:
    proc, port, lines = start_cli(demo_root)
    try:
        assert any(line.startswith("Built: ") for line in lines)
        assert get(port, "/").status == 200
        reader = EventReader(port)  # an open page must not keep the server alive
        reader.next_event()
        (demo_root / "contacts/grace-liu.md").write_text(
            (demo_root / "contacts/grace-liu.md").read_text().replace("Alumna", "Alumna (edited)")
        )
        wait_until(page_shows(port, "/contacts/grace-liu.html", "Alumna (edited)"), what="the CLI's rebuild")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
        reader.close()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "contacts/grace-liu.md:" in out  # one line for the rebuild
    assert out.rstrip().endswith("Stopped.")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    # The parse cache, kept in memory while serving, was saved on the way out: it knows the
    # edited file as it is now.
    index: dict[str, Any] = {}
    for shard in (demo_root / ".tipscale").glob("index-*.bin"):
        index.update(marshal.loads(shard.read_bytes())["files"])
    size = (demo_root / "contacts/grace-liu.md").stat().st_size
    assert index["contacts/grace-liu.md"][0][0] == size


def test_quiet_public_host_and_invalid_files(crm_root: Callable[..., Path]) -> None:
    root = crm_root(
        {"contacts/ok.md": contact("Ok Person"), "contacts/bad.md": "---\nname: [unclosed\n---\n"},
        settings="today: 2026-11-25\n",
    )
    proc, port, lines = start_cli(root, "--host", "0.0.0.0", "-q", "--no-reload")
    try:
        assert get(port, "/contacts/ok.html").status == 200  # invalid files do not stop the server
        assert "__tipscale" not in get(port, "/").text
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "Warning: listening on 0.0.0.0" in err and "private data" in err
    assert "contacts/bad.md" in err
    assert "Built" not in "".join(lines) + out


def test_help_has_an_example() -> None:
    result = subprocess.run([str(CRM), "serve", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "crm serve" in result.stdout and "--no-reload" in result.stdout


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))


def test_after_a_failed_build_the_next_one_looks_at_every_file() -> None:
    """The paths of a failed build were never taken in, so the next build must not trust a list
    of changed paths; too many changes at once also mean a full look."""

    class Recording:
        def __init__(self) -> None:
            self.changed: list[list[str] | None] = []
            self.fail = True

        def build(self, clean: bool = False, changed: list[str] | None = None) -> None:
            self.changed.append(None if changed is None else list(changed))
            if self.fail:
                self.fail = False
                raise RuntimeError("boom")

    builder = Recording()
    loop = Rebuilder(builder, LiveState(reload=True), settle=0.01)
    loop.rebuild(["contacts/a.md"], complete=True)
    loop.notify(["contacts/b.md"])
    loop.start()
    try:
        wait_until(lambda: len(builder.changed) >= 2, what="the second build")
        loop.notify([f"contacts/c{i}.md" for i in range(1500)])
        wait_until(lambda: len(builder.changed) >= 3, what="the third build")
        loop.notify(["contacts/d.md"])
        wait_until(lambda: len(builder.changed) >= 4, what="the fourth build")
    finally:
        loop.stop()
    assert builder.changed == [["contacts/a.md"], None, None, ["contacts/d.md"]]


def test_the_contacts_folder_replaced_whole_is_seen_and_watched_again(small_root: Path) -> None:
    """A tool that swaps the whole folder (move it away, move a new one in) changes every
    file at once: the next build looks at every file, and edits in the new folder are seen."""
    with serving(small_root) as server:
        port = port_of(server)
        new = small_root / "contacts.new"
        shutil.copytree(small_root / "contacts", new)
        (new / "jane-doe.md").write_text(contact("Jane Doe", "", "Swapped in."))
        (small_root / "contacts").rename(small_root / "contacts.old")
        new.rename(small_root / "contacts")
        wait_until(page_shows(port, JANE, "Swapped in."), what="the swapped-in folder")
        (small_root / "contacts" / "jane-doe.md").write_text(contact("Jane Doe", "", "Edited after."))
        wait_until(page_shows(port, JANE, "Edited after."), what="an edit inside the new folder")
