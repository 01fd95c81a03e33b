"""Writing user files safely (SPEC §7): atomic replacement, a lock per file, leftovers of a
killed edit cleaned, and every new text validated before it is written."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .checked import Checked
from .model import Settings
from .validate import check_file_values


class EditError(Exception):
    """An edit that cannot be made; nothing was written."""


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically: a temporary file in the same folder, fsync, os.replace.

    An existing file keeps its permission bits; a new file gets 0o644 (0o666 minus the umask).
    A crash leaves either the old file or the new one, never half of one.
    """
    path = Path(path)
    folder = path.parent
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename in (None, tmp):  # a full disk names no file
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


LEFTOVER_SECONDS = 60.0  # a temporary file this old is no write in progress: a killed edit's


def _remove_leftovers(path: Path) -> None:
    """Remove the temporary files a killed edit of `path` left beside it (`.<name>.*.tmp`).
    Called with the lock held, so no edit of this file is running; an import creating it
    uses the same names, hence the age."""
    prefix = f".{path.name}."
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(path.parent) as entries:
        for entry in entries:
            if not (entry.name.startswith(prefix) and entry.name.endswith(".tmp")):
                continue
            with contextlib.suppress(OSError):
                old = now - entry.stat(follow_symlinks=False).st_mtime > LEFTOVER_SECONDS
                if old and entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` for a read-modify-write: `fcntl.flock` on a
    `.<name>.lock` file in the same folder, removed afterwards.

    A waiter that wakes up on a lock file another process has already removed retries on the
    new one, so two processes never both believe they hold the lock.
    """
    lock_path = path.parent / f".{path.name}.lock"
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.stat(lock_path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
        except BaseException:
            os.close(fd)
            raise
        if same:
            break
        os.close(fd)
    _remove_leftovers(path)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock_path)
        os.close(fd)


def validate_text(text: str, file: str, slug: str, settings: Settings) -> Any:
    """Raise EditError naming every error `check_file` finds in `text`; else its front matter's
    values as YAML read them (a bulk import compares them with what it meant to write)."""
    return checked_text(text, file, slug, settings)[1]


def checked_text(text: str, file: str, slug: str, settings: Settings) -> tuple[Checked, Any]:
    """`validate_text`, with the check result too (what a load of the file will find)."""
    checked, values = check_file_values(text.encode("utf-8"), file, slug, settings)
    errors = [p for p in checked.problems if p.severity == "error"]
    if errors:
        details = "\n  ".join(p.format() for p in errors)
        raise EditError(f"the edited file would not be valid, so nothing was written:\n  {details}")
    return checked, values


def write_contact(path: Path, text: str, settings: Settings, file: str | None = None) -> None:
    """Validate `text` as the contact at `path`, then write it atomically (or raise EditError)."""
    validate_text(text, file or path.name, path.name.removesuffix(".md"), settings)
    atomic_write(path, text.encode("utf-8"))


def read_text(path: Path) -> str:
    """A contact file's text exactly as stored (BOM and CRLF kept), or EditError."""
    from .contactfile import read_contact_file

    data = read_contact_file(str(path))
    if isinstance(data, str):
        raise EditError(f"{path.name}: cannot read the file: {data}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditError(f"{path.name} is not valid UTF-8 (offset {exc.start}); save it as UTF-8") from None


def edit_contact(
    path: Path, change: Callable[[str], str], settings: Settings, file: str | None = None
) -> tuple[str, str]:
    """Lock the file, read it, apply `change`, validate, write atomically. Returns (old, new).

    Concurrent callers on the same file are serialised, so none of their edits is lost.
    """
    with file_lock(path):
        old = read_text(path)
        new = change(old)
        if new != old:
            write_contact(path, new, settings, file)
        return old, new


def create_contact(path: Path, text: str, settings: Settings, file: str | None = None) -> None:
    """Write a new contact file; never overwrites (EditError if it exists)."""
    validate_text(text, file or path.name, path.name.removesuffix(".md"), settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path):
        if path.exists():
            raise EditError(f"{file or path.name} already exists; not overwriting it")
        atomic_write(path, text.encode("utf-8"))
