"""Where things are: the CRM root, its contact files, the built-in templates. Standard library
only, so a command that needs no more (a no-change `crm build`) starts quickly."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path


@cache
def builtin_templates() -> Path:
    here = Path(__file__).resolve().parent
    checkout = here.parent / "templates"
    if (checkout / "notes").is_dir() and (here.parent / "pyproject.toml").is_file():
        return checkout
    return here / "_templates"


@cache
def code_digest() -> str:
    """One digest of the code in use: every module of this package and every built-in template
    and asset, by name and bytes. Every cache and record a build or check keeps is keyed by it,
    so after an upgrade, or any edit of the code, nothing made by the old code is reused."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for folder in (package, builtin_templates()):
        for path in tree_files(folder):
            with open(path, "rb") as handle:
                data = handle.read()
            digest.update(f"{os.path.relpath(path, folder)}\0{len(data)}\0".encode("utf-8", "surrogateescape"))
            digest.update(data)
    return digest.hexdigest()


CONTACTS_DIR = "contacts"
CACHE_DIR = ".tipscale"  # the parse cache, in the CRM root (cachefile.py)
# In CACHE_DIR: what the last full command-line load found (load.py's `_by_summary`). It starts
# with the size (8 bytes, big-endian) of a marshal record (digest, the file stamps as marshal
# bytes), which `crm build`'s child process reads alone (quick.py's `summary_delta`); the rest
# follows.
SUMMARY = "load.bin"
SUMMARY_LIMIT = 64  # changed files a load from the summary takes; more: a full load


class RootNotFound(Exception):
    pass


def find_root(start: Path, explicit: Path | None = None) -> Path:
    """`--root` if given, else the nearest folder at or above `start` with crm.yaml or contacts/."""
    if explicit is not None:
        if not explicit.is_dir():
            raise RootNotFound(f"--root {explicit}: no such folder")
        return explicit.resolve()
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / "crm.yaml").is_file() or (folder / CONTACTS_DIR).is_dir():
            return folder
    raise RootNotFound(
        f"no CRM here: neither {start} nor a folder above it holds crm.yaml or contacts/. "
        "Run 'crm init DIR' to make one, or pass --root PATH."
    )


def is_ignored(name: str) -> bool:
    """Hidden and `_` files, editor leftovers (`*~`, `*.swp`, `.#*`, `#*#`)."""
    return (
        name.startswith((".", "_", "#"))
        or name.endswith(("~", ".swp", ".swx", ".swo", ".tmp"))
        or (name.startswith("#") and name.endswith("#"))
    )


def contact_files(root: Path) -> Iterator[Path]:
    """Every contact file under root/contacts, sorted, skipping ignored files and folders."""
    for path, _ in contact_entries(root):
        yield Path(path)


def contacts_folder_problem(root: Path) -> str | None:
    """Why root/contacts cannot be walked, if it cannot: it is not a folder, or it is a link to
    `/` or to a folder holding the CRM itself (the walk would read the whole disk, or loop)."""
    base = root / CONTACTS_DIR
    if not os.path.lexists(base):
        return None
    if not base.is_dir():
        return f"{CONTACTS_DIR} is not a folder: contact files go in a {CONTACTS_DIR}/ folder (move or rename it)"
    if base.is_symlink():
        target = base.resolve()
        if target == Path(target.anchor) or root.resolve().is_relative_to(target):
            return f"{CONTACTS_DIR} links to {target}, which holds this CRM itself: link it to a folder of contact files"
    return None


def contact_entries(root: Path) -> Iterator[tuple[str, str]]:
    """(absolute path, path relative to root) of every contact file under root/contacts, sorted,
    skipping ignored files and folders. Plain strings: this runs for every file on every build."""
    base = root / CONTACTS_DIR
    if not base.is_dir() or (base.is_symlink() and contacts_folder_problem(root) is not None):
        return
    prefix = len(str(root)) + 1
    stack = [str(base)]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        subfolders: list[str] = []
        for entry in entries:
            if is_ignored(entry.name):
                continue
            if entry.is_dir(follow_symlinks=False):
                subfolders.append(entry.path)
            elif entry.name.endswith(".md"):
                yield entry.path, entry.path[prefix:].replace(os.sep, "/")
        stack.extend(reversed(subfolders))


def tree_files(folder: Path) -> list[str]:
    """Every file under `folder` (sorted paths; [] when it is missing), following symbolic links
    to folders as the template loaders do, each real folder once (a link loop ends there).
    Compiled Python files are left out."""
    found: list[str] = []
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        try:
            info = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        if (info.st_dev, info.st_ino) in seen:
            dirnames[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        found.extend(os.path.join(dirpath, n) for n in sorted(filenames) if not n.endswith((".pyc", ".pyo")))
    return found
