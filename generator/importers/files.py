"""The files an import writes: their texts, made, validated and written on both cores (new
files atomically and never over another; changed ones through `edit`, byte-preserving).

A 30,000-row import makes 30,000 texts, each checked as `crm check` would, and creates 30,000
files. Both are split over forked workers in chunks (a progress line moves per chunk): each
worker writes the texts it made, so no text travels back, and the file system's own work of
creating files (CPU time in the kernel, on this disk often more than ours) runs on both cores.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import parallel
from ..cachefile import Stamp
from ..edit import add_fields, new_contact_draft
from ..load import portable
from ..settings import Settings
from ..userfiles import EditError, checked_text, edit_contact, read_text
from ..yamlwrite import normal_value, prepare_plain

if TYPE_CHECKING:
    from .merge import Target

CHUNK = 500  # targets per piece of work sent to a worker
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@dataclass(frozen=True)
class Failed:
    """A text that would not be valid: the file is skipped, with this reason."""

    message: str


@dataclass(frozen=True)
class Written:
    """A valid text, written: the error that stopped the writing (None: written); a new file's stamp."""

    error: str | None
    stamp: Stamp | None


def texts_in(value: object) -> Iterator[str]:
    """Every string in nested lists and mappings (values and keys)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from texts_in(key)
            yield from texts_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from texts_in(item)


# (the new text, Written when `write`, Failed, or None: unchanged; the parse)
Outcome = tuple[str | Written | Failed | None, Any]


def _text(root: Path, settings: Settings, path: str, target: Target, write: bool) -> Outcome:
    """The new text of one target's file (None: unchanged), validated, and written when `write`;
    for a new file, also what a load of it will find (`load.portable`), for the parse cache."""
    try:
        expected = None
        if target.new:
            text, expected = new_contact_draft(target.fields, target.body + "\n" if target.body else "")
        elif target.added:
            old = read_text(root / path)
            text = add_fields(old, target.added)
            if text == old:
                return None, None
        else:
            return None, None
        checked, values = checked_text(text, path, target.slug, settings)
        if expected is not None and normal_value(values) != expected:  # one parse checks both
            return Failed("internal error: the new file would not read back as the given fields"), None
        # An existing file is edited again when written (edit_contact), so its text may differ.
        parsed = portable(checked) if target.new else None
        return (_write(root, settings, path, text, target) if write else text), parsed
    except (EditError, OSError) as exc:
        return Failed(str(exc)), None


def file_texts(
    root: Path,
    settings: Settings,
    targets: Sequence[tuple[str, Target]],
    each: Callable[[str, Outcome], None],
    progress: Callable[[int], None] | None = None,
    write: bool = False,
) -> None:
    """`each(path, (new text / Written / Failed / None when unchanged, parse))` for every
    target, in order, as the texts are made (in chunks, on both cores); with `write`, each
    valid text is written where it was made (see `Written`). Nothing is synced."""
    chunks = [(start, min(start + CHUNK, len(targets))) for start in range(0, len(targets), CHUNK)]

    def texts(bounds: tuple[int, int]) -> list[Outcome]:
        piece = targets[bounds[0] : bounds[1]]
        prepare_plain(texts_in([t.fields if t.new else t.added for _, t in piece]))
        return [_text(root, settings, path, target, write) for path, target in piece]

    done = 0

    def arrived(outcomes: list[Outcome]) -> None:
        nonlocal done
        for (path, _), outcome in zip(targets[done : done + len(outcomes)], outcomes, strict=True):
            each(path, outcome)
        done += len(outcomes)
        if progress is not None:
            progress(done)

    parallel.fork_map(texts, chunks, chunksize=1, each=arrived, min_items=2)


def create_new(path: Path, text: str) -> Stamp:
    """Create a new contact file atomically (it appears whole or not at all) and never over
    another (fails if the name exists). No fsync per file: a bulk import syncs once at the end
    (per-file fsyncs made 5,000 rows take 50 s instead of a few). Already validated by
    `file_texts`.

    Where the system has them (Linux), the bytes go to an unnamed file that is then linked into
    place: one change to the folder per file. Elsewhere a named temporary file is hard-linked
    and removed, three changes; on this machine's disk that is about 20 % more time per file.
    Returns the new file's stamp (size, mtime_ns, inode), as the parse cache keys it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    try:
        return _create_unnamed(path, data) or _create_linked(path, data)
    except FileExistsError:
        raise EditError(f"{path.name} already exists; not overwriting it") from None
    except OSError as exc:
        if exc.filename is None or str(exc.filename) != str(path):  # a full disk names no file
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


_UNNAMED = getattr(os, "O_TMPFILE", 0)


def _stamp(fd: int) -> Stamp:
    info = os.fstat(fd)
    return (info.st_size, info.st_mtime_ns, info.st_ino)


def _create_unnamed(path: Path, data: bytes) -> Stamp | None:
    """Write `data` to an unnamed file in `path`'s folder and link it as `path`; its stamp, or
    None when the system or file system cannot (then nothing was created)."""
    global _UNNAMED
    if not _UNNAMED:
        return None
    try:
        fd = os.open(path.parent, _UNNAMED | os.O_WRONLY, 0o666)  # the umask applies
    except OSError:  # not supported here (EOPNOTSUPP, EISDIR on old kernels…)
        _UNNAMED = 0
        return None
    try:
        _write_all(fd, data)
        stamp = _stamp(fd)  # linking changes no part of it
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:  # a folder descriptor makes os.link use linkat, which follows the /proc link
            os.link(f"/proc/self/fd/{fd}", path.name, dst_dir_fd=folder)
        except FileExistsError:
            raise
        except OSError:  # no /proc: the unnamed file is dropped when closed
            _UNNAMED = 0
            return None
        finally:
            os.close(folder)
    finally:
        os.close(fd)
    return stamp


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _create_linked(path: Path, data: bytes) -> Stamp:
    """`create_new` with a named temporary file, hard-linked into place, then removed."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            stamp = _stamp(handle.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.link(tmp, path)
        return stamp
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _write(root: Path, settings: Settings, path: str, text: str, target: Target) -> Written:
    try:
        if target.new:
            return Written(None, create_new(root / path, text))
        edit_contact(root / path, lambda old: add_fields(old, target.added), settings, path)
    except (EditError, OSError) as exc:
        return Written(f"{path}: {exc}", None)
    return Written(None, None)
