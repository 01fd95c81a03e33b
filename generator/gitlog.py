"""Git history of contact files, for all of them in one `git log` pass (TOOLING: 0.1–0.2 s for
10,000 files; one call per file took minutes)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

# `subprocess` and `tempfile` are imported where git runs: most builds only read HEAD, from
# the repository's files, and importing them costs every `crm build` several milliseconds.


@dataclass(frozen=True)
class Commit:
    when: dt.datetime  # commit time, UTC
    author: str
    message: str  # the subject line
    sha: str


def _rev_parse(root: Path, arg: str) -> str | None:
    """`git rev-parse ARG` in root, or None outside git (or without git)."""
    import subprocess

    try:
        result = subprocess.run(
            ["git", "-C", str(root), "rev-parse", arg],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def is_repository(root: Path) -> bool:
    return _rev_parse(root, "--is-inside-work-tree") == "true"


def head(root: Path) -> str | None:
    """The commit checked out (None outside git or before the first commit). Read from the
    repository's files when `root` is the top of a plain repository (every build asks, and a
    `git` process costs milliseconds); anything less simple is left to git."""
    found = None if "GIT_DIR" in os.environ else _read_head(root / ".git")
    return found if found is not None else _rev_parse(root, "HEAD")


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)


def _read_head(git: Path) -> str | None:
    try:
        if not git.is_dir():
            return None
        text = (git / "HEAD").read_text(encoding="utf-8").strip()
        if not text.startswith("ref: refs/"):
            return text if _is_sha(text) else None
        ref = text[5:]
        try:
            value = (git / ref).read_text(encoding="utf-8").strip()
            return value if _is_sha(value) else None
        except FileNotFoundError:
            for line in (git / "packed-refs").read_text(encoding="utf-8").splitlines():
                sha, _, name = line.partition(" ")
                if name == ref and _is_sha(sha):
                    return sha
            return None
    except (OSError, UnicodeDecodeError):
        return None


def file_histories(root: Path, folder: str = "contacts") -> dict[str, list[Commit]]:
    """Path relative to root (POSIX) → commits touching it, newest first. {} outside git.

    Paths are as of each commit; renames are not followed here (see `history` for one file).
    """
    return PendingHistories(root, folder).result()


class PendingHistories:
    """`file_histories`, started now (git runs while the caller parses files) and read with
    `result()`. `head` is the commit checked out when it started."""

    def __init__(self, root: Path, folder: str = "contacts") -> None:
        import subprocess
        import tempfile

        self.head = head(root)
        self._result: dict[str, list[Commit]] | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        # Into an anonymous file, not a pipe: git must not wait for a reader while we parse.
        self.output = tempfile.TemporaryFile()
        if not is_repository(root):
            return
        try:
            self.proc = subprocess.Popen(
                ["git", "-C", str(root), "-c", "core.quotepath=off", "log", "--format=@@%H%x09%ct%x09%an%x09%s",
                 "--name-only", "--no-renames", "--relative", "--", folder],
                stdout=self.output, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except OSError:
            self.proc = None

    def result(self) -> dict[str, list[Commit]]:
        """The histories (waiting for git if need be); the same answer every time it is asked."""
        if self._result is None:
            self._result = self._read()
        return self._result

    def _read(self) -> dict[str, list[Commit]]:
        import subprocess

        if self.proc is None:
            self.output.close()
            return {}
        try:
            self.proc.wait(timeout=120)
        except subprocess.SubprocessError:
            self.cancel()
            return {}
        with self.output:
            self.output.seek(0)
            stdout = self.output.read().decode("utf-8", "replace")
        if self.proc.returncode != 0:
            return {}
        histories: dict[str, list[Commit]] = {}
        current: Commit | None = None
        for line in stdout.splitlines():
            if line.startswith("@@"):
                sha, stamp, author, message = (line[2:].split("\t", 3) + ["", "", "", ""])[:4]
                current = Commit(dt.datetime.fromtimestamp(int(stamp or 0), dt.UTC), author, message, sha)
            elif line and current is not None:
                histories.setdefault(line, []).append(current)
        return histories

    def cancel(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.output.close()


def file_history(root: Path, path: str) -> list[Commit]:
    """Commits touching one file (path relative to root), newest first, following renames
    (`git log --follow`). [] outside git or for a file never committed."""
    if not is_repository(root):
        return []
    import subprocess

    try:
        result = subprocess.run(
            ["git", "-C", str(root), "--literal-pathspecs", "log", "--follow",
             "--format=@@%H%x09%ct%x09%an%x09%s", "--", path],
            capture_output=True, text=True, timeout=120, check=False, encoding="utf-8", errors="replace",
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return []
    if result.returncode != 0:
        return []
    commits: list[Commit] = []
    for line in result.stdout.splitlines():
        if line.startswith("@@"):
            sha, stamp, author, message = (line[2:].split("\t", 3) + ["", "", "", ""])[:4]
            commits.append(Commit(dt.datetime.fromtimestamp(int(stamp or 0), dt.UTC), author, message, sha))
    return commits
