"""The only code that writes the output folder (`site/`).

- Every path is checked to stay inside the output folder (no `..`, no absolute paths, no
  symlinked escape).
- Writes are atomic: a temporary file in the same folder, then `os.replace`, so a reader (the
  live server, a browser) never sees half a page. A worker process of a big build makes its
  temporary files in a staging folder of its own (`.tipscale/stage-<parent>-<pid>/`, see
  `stage`).
- A file whose bytes are already on disk is not written again.
- A writer made with `hold=True` (the live server's rebuilds) moves nothing into place until
  `publish()`: the new files wait beside their targets under temporary names, and what is to
  go is only noted, so the folder keeps the last complete build until the whole next one is
  made (`discard()` forgets it instead, after a failed build).
- The manifest (`.tipscale/manifest.bin`, kept with `marshal` like the plan's parts: a tenth of
  JSON's time to write) maps each page to the digest of its inputs, so
  an unchanged page is neither rendered nor written; files of the last build that are no longer
  planned (a deleted contact, a tag nobody uses) are removed.
"""

from __future__ import annotations

import errno
import json
import marshal
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

STATE_DIR = ".tipscale"
MANIFEST = f"{STATE_DIR}/manifest.bin"
LEGACY_MANIFEST = f"{STATE_DIR}/manifest.json"  # the same document as JSON, of earlier versions
MANIFEST_VERSION = 1
STAGE_PREFIX = "stage-"  # + two process ids: a worker's folder for temporary files (Writer.stage)


class UnsafePath(Exception):
    """A planned output path would leave the output folder."""


class Writer:
    def __init__(self, out: Path, hold: bool = False) -> None:
        self.out = out
        # With `hold`: target path → its new file (a temporary name beside it), or None for a
        # file to remove, in the order of the calls; applied by `publish()`.
        self._held: dict[str, str | None] | None = {} if hold else None
        self.real = out.resolve() if out.exists() else out.absolute()
        self._out = str(out)
        self._safe_dirs: set[str] = set()  # folders (relative) checked to lie inside the output folder
        self._staging: str | None = None  # where this process makes temporary files (None: beside)
        self._staging_pid = 0  # the process that last tried `stage` (it tries once)

    def path(self, rel: str) -> Path:
        """The output file for a site-relative POSIX path; refuses anything outside the folder."""
        target = Path(self._target(rel))
        if target.is_symlink():
            raise UnsafePath(f"refusing to write {rel!r}: it is a symbolic link")
        return target

    def _target(self, rel: str) -> str:
        """`path()` as a string (this runs for every page of a build: no pathlib on the way)."""
        if not rel or rel.startswith(("/", "\\")) or "\\" in rel or "\0" in rel:
            raise UnsafePath(f"refusing to write {rel!r}: not a relative path inside the output folder")
        parts = rel.split("/")
        if any(part in ("", ".", "..") for part in parts) or ":" in parts[0]:
            raise UnsafePath(f"refusing to write {rel!r}: it would leave the output folder")
        folder = rel.rpartition("/")[0]
        # A symlink inside the output folder must not lead out of it either. Folders already
        # checked in this build are remembered (a site has thousands of pages in a few folders).
        if folder not in self._safe_dirs:
            parent = self.out.joinpath(*parts[:-1])
            while not parent.exists() and parent != self.out:
                parent = parent.parent
            if parent.exists():
                real_parent = parent.resolve()
                base = self.out.resolve() if self.out.exists() else self.real
                if real_parent != base and base not in real_parent.parents:
                    raise UnsafePath(f"refusing to write {rel!r}: {parent} leads outside the output folder")
                if parent == self.out.joinpath(*parts[:-1]):
                    self._safe_dirs.add(folder)
        return os.path.join(self._out, rel)

    def write(self, rel: str, data: bytes) -> bool:
        """Write atomically unless the same bytes are already there. True when written."""
        target = self._target(rel)
        try:
            info = os.lstat(target)
        except OSError:
            info = None
        if info is not None:
            if stat.S_ISLNK(info.st_mode):
                raise UnsafePath(f"refusing to write {rel!r}: it is a symbolic link")
            if info.st_size == len(data) and not (self._held and target in self._held):
                try:
                    with open(target, "rb") as handle:
                        if handle.read() == data:
                            return False
                except OSError:
                    pass
        folder = rel.rpartition("/")[0]
        if folder not in self._safe_dirs:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            self._target(rel)  # check the folder just made, and remember it
        if self._held is not None:
            self._held.pop(target, None)  # the latest call decides, in its place in the order
            self._held[target] = write_aside(target, data)
            return True
        replace_with(target, data, self._staging)
        return True

    @property
    def holding(self) -> bool:
        """Does this writer hold its files until `publish()`? (They are this process's: a
        worker process must not write through it.)"""
        return self._held is not None

    def publish(self) -> int:
        """Move every held file into place and remove what was to go, in the order they were
        asked for; how many. After a failure the files not yet moved are discarded."""
        held, self._held = self._held or {}, {}
        done = 0
        try:
            for target, new in list(held.items()):
                if new is None:
                    self._drop(target)
                else:
                    os.replace(new, target)
                del held[target]
                done += 1
        finally:
            _unlink_all(held.values())
        return done

    def discard(self) -> None:
        """Forget what is held: nothing of it reaches the folder."""
        held, self._held = self._held or {}, {}
        _unlink_all(held.values())

    def _held_file(self, target: str) -> str | None:
        """What stands for `target` while held: its new file, "" when it is to go, else None."""
        if not self._held or target not in self._held:
            return None
        return self._held[target] or ""

    @property
    def staged(self) -> bool:
        """Does this process make its temporary files in a staging folder (`stage`)?"""
        return self._staging is not None

    def stage(self) -> None:
        """Make this process's temporary files in a folder of its own from now on (a worker of
        a pool: the folder, `stage-<parent>-<pid>`, names the process that removes it).

        Creating a file locks its folder for the whole allocation of the new inode, which after
        a big deletion is slow (ext4 skips recently freed inodes one by one), so two workers
        creating pages in `contacts/` took turns: as slow as one. Each in its own folder, they
        create at the same time, and the rename into place is quick (measured at 10,000
        contacts right after `site/` was deleted: a cold build 1.2-1.9 s faster). Idempotent
        for a process; where the folder can't be made (or is on another file system), files are
        made beside their target."""
        pid = os.getpid()
        if self._staging is not None or self._staging_pid == pid:
            return
        self._staging_pid, self._staging = pid, None
        folder = f"{STATE_DIR}/{STAGE_PREFIX}{os.getppid()}-{pid}"
        try:
            path = self._target(f"{folder}/x")[:-2]  # refuses a state folder that leads outside
            os.makedirs(os.path.dirname(path), exist_ok=True)
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:  # left by an earlier process of these ids
                if not stat.S_ISDIR(os.lstat(path).st_mode):
                    return
            self._target(f"{folder}/x")  # the folder just made is inside too
            if os.stat(path).st_dev != os.stat(self._out).st_dev:  # a rename would copy
                os.rmdir(path)
                return
        except (OSError, UnsafePath):
            return
        self._staging = path

    def clear_staging(self) -> None:
        """Remove the staging folders of this process's workers (empty by now), and those of
        processes that no longer run (with what a killed worker left); never another live
        build's."""
        self._staging, self._staging_pid = None, 0
        try:
            state = self._target(f"{STATE_DIR}/x")[:-2]  # not through a link that leads outside
            with os.scandir(state) as entries:
                folders = [
                    (e.path, e.name)
                    for e in entries
                    if e.name.startswith(STAGE_PREFIX) and e.is_dir(follow_symlinks=False)
                ]
        except (OSError, UnsafePath):
            return
        me = os.getpid()
        for folder, name in folders:
            owner = name[len(STAGE_PREFIX) :].partition("-")[0]
            if not owner.isdigit() or (int(owner) != me and _running(int(owner))):
                continue
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        if entry.name.startswith(".tmp-") and not entry.is_dir(follow_symlinks=False):
                            os.unlink(entry.path)
                os.rmdir(folder)
            except OSError:
                pass

    def remove(self, rel: str) -> bool:
        """Remove a file we wrote before; empty folders it leaves are removed too."""
        target = self.path(rel)
        if self._held is not None:
            key = str(target)
            was = self._held.pop(key, False)  # its held new file, None (already to go), or not held
            self._held[key] = None
            if isinstance(was, str):
                _unlink_all([was])
                return True
            return was is False and os.path.lexists(key)
        return self._drop(str(target))

    def _drop(self, path: str) -> bool:
        target = Path(path)
        try:
            target.unlink()
        except FileNotFoundError:
            return False
        parent = target.parent
        while parent != self.out and parent.is_dir():
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent
        return True

    def exists(self, rel: str) -> bool:
        """Cheap check used to skip unchanged pages (no write happens, so no confinement check)."""
        path = os.path.join(self.out, rel)
        held = self._held_file(path)
        return os.path.isfile(path) if held is None else held != ""

    def missing(self, paths: Iterable[str]) -> bool:
        """Whether any of these files is missing (one directory listing a folder, not one stat
        a file: thousands of pages live in a few folders)."""
        listed: dict[str, set[str]] = {}
        for rel in paths:
            held = self._held_file(os.path.join(self._out, rel))
            if held is not None:
                if not held:
                    return True
                continue
            folder, _, name = rel.rpartition("/")
            names = listed.get(folder)
            if names is None:
                try:
                    with os.scandir(os.path.join(self._out, folder)) as entries:
                        names = {e.name for e in entries if e.is_file()}
                except OSError:
                    names = set()
                listed[folder] = names
            if name not in names:
                return True
        return False

    # --- manifest ----------------------------------------------------------------------------

    def read_json(self, rel: str) -> Any:
        """The JSON in a state file, or None when missing, unreadable, not ours or a symlink."""
        raw = self.read_bytes(rel)
        try:
            return json.loads(raw.decode("utf-8")) if raw is not None else None
        except (ValueError, RecursionError):  # a nested bomb too
            return None

    def read_bytes(self, rel: str) -> bytes | None:
        """A state file's bytes (as held, if it is), or None when missing, unreadable or a symlink."""
        try:
            target = self.path(rel)
            held = self._held_file(str(target))
            return target.read_bytes() if held is None else Path(held).read_bytes() if held else None
        except (OSError, UnsafePath):
            return None

    def write_json(self, rel: str, data: Any) -> bool:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return self.write(rel, text.encode("utf-8"))

    def load_manifest(self) -> dict[str, str]:
        """Page → input digest of the last build; {} when missing or unreadable."""
        return self.load_manifest_all()[0]

    def load_manifest_all(self) -> tuple[dict[str, str], dict[str, Any]]:
        """(page → input digest, the build's metadata) of the last build; empty when unreadable."""
        raw = self.read_bytes(MANIFEST)
        try:
            data = marshal.loads(raw) if raw is not None else self.read_json(LEGACY_MANIFEST)
        except (ValueError, EOFError, TypeError):
            return {}, {}
        if type(data) is not dict or data.get("version") != MANIFEST_VERSION:
            return {}, {}
        pages, meta = data.get("pages"), data.get("meta")
        if type(pages) is not dict or not set(map(type, pages)) | set(map(type, pages.values())) <= {str}:
            return {}, {}
        return pages, meta if type(meta) is dict else {}

    def save_manifest(self, pages: dict[str, str], meta: dict[str, Any] | None = None) -> None:
        # In the build's order, not sorted: sorting ten thousand pages took as long as the rest.
        self.write(MANIFEST, marshal.dumps({"version": MANIFEST_VERSION, "pages": pages, "meta": meta or {}}))
        if self.exists(LEGACY_MANIFEST):
            self.remove(LEGACY_MANIFEST)


def _running(pid: int) -> bool:
    """Does process `pid` exist (as far as this process can tell)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # not ours to signal: it exists
        return True
    return True


def _unlink_all(paths: Iterable[str | None]) -> None:
    for path in paths:
        if path:
            try:
                os.unlink(path)
            except OSError:
                pass


def write_aside(target: str, data: bytes, folder: str | None = None) -> str:
    """Write `data` to a new temporary file of this process's own name (hidden: the server does
    not serve it) beside `target`, or in `folder`; its path. Nothing outlives a failure."""
    head, _, name = target.rpartition(os.sep)
    tmp = f"{folder or head}{os.sep}.tmp-{os.getpid()}-{name}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
    except BaseException as exc:
        _unlink_all([tmp])
        _name_target(exc, tmp, target)
        raise
    return tmp


def _name_target(exc: BaseException, tmp: str, target: str) -> None:
    """Raise an OSError about `tmp` (or about no file: a full disk) as one about `target`."""
    if isinstance(exc, OSError) and exc.filename in (None, tmp):
        raise OSError(exc.errno, exc.strerror, target) from None


def replace_with(target: str, data: bytes, staging: str | None = None) -> None:
    """Write `data` to `target` atomically: into a temporary file beside it (`write_aside`), or
    in `staging` (a folder on the same file system), which is cheaper than mkstemp's random
    search and needs no `tempfile` to import, then renamed over it. The temporary file never
    outlives a failure."""
    tmp = write_aside(target, data, staging)
    try:
        os.replace(tmp, target)
    except BaseException as exc:
        _unlink_all([tmp])
        if staging is not None and isinstance(exc, OSError) and exc.errno == errno.EXDEV:
            replace_with(target, data)  # the staging folder is on another file system after all
            return
        _name_target(exc, tmp, target)
        raise
