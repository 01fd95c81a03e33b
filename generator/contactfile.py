"""Read one contact file and check it: only a regular file, and only up to MAX_FILE_BYTES (what a
load and an edit read a contact file's bytes with)."""

from __future__ import annotations

import os
import stat

from .checked import Checked
from .model import Problem, Settings
from .validate import check_file

UNREADABLE = "cannot read the file"


MAX_FILE_BYTES = 5 * 1024 * 1024  # a contact file beyond this is an error, never read whole


def read_contact_file(path: str) -> bytes | str:
    """The bytes of a contact file, or why they cannot be had: only a regular file is read (a
    FIFO would wait for a writer forever, a link to /dev/zero never end), and only up to
    MAX_FILE_BYTES."""
    try:
        # O_NONBLOCK: a FIFO opens at once instead of waiting for a writer (no effect on files).
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                return "not a regular file (a FIFO, device or socket); a contact must be a plain .md file"
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return str(exc.strerror)
    if len(data) > MAX_FILE_BYTES:
        return f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; a contact file is a page of text: split or trim it"
    return data


def check_path(path: str, rel: str, slug: str, settings: Settings) -> Checked:
    data = read_contact_file(path)
    if isinstance(data, str):
        return Checked(rel, None, (Problem(rel, 1, 1, "error", "", f"{UNREADABLE}: {data}"),), ())
    return check_file(data, rel, slug, settings)


def unreadable(checked: Checked) -> bool:
    """A result that says only that the file could not be read: never kept in the cache (the
    file may be readable, or back, with the same stamp next time)."""
    problems = checked.problems
    return len(problems) == 1 and not checked.valid and problems[0].message.startswith(UNREADABLE + ":")
