"""git's HEAD read from the repository's files agrees with `git rev-parse HEAD` in every state."""

from __future__ import annotations

import subprocess
from pathlib import Path

from generator import gitlog


def git(root: Path, *args: str) -> str:
    env_args = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
    result = subprocess.run(["git", "-C", str(root), *env_args, *args], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_head_matches_git_in_every_state(tmp_path: Path) -> None:
    root = tmp_path / "crm"
    root.mkdir()
    assert gitlog.head(root) is None  # not a repository
    git(root, "init", "-q", "-b", "main")
    assert gitlog.head(root) is None  # no commit yet
    (root / "a.md").write_text("one\n")
    git(root, "add", "a.md")
    git(root, "commit", "-q", "-m", "one")
    first = git(root, "rev-parse", "HEAD")
    assert gitlog._read_head(root / ".git") == first == gitlog.head(root)  # a loose branch ref
    (root / "a.md").write_text("two\n")
    git(root, "commit", "-q", "-am", "two")
    git(root, "pack-refs", "--all")
    second = git(root, "rev-parse", "HEAD")
    assert not (root / ".git" / "refs" / "heads" / "main").exists()
    assert gitlog._read_head(root / ".git") == second == gitlog.head(root)  # a packed ref
    git(root, "checkout", "-q", "--detach", first)
    assert gitlog._read_head(root / ".git") == first == gitlog.head(root)  # detached
    # a CRM folder inside a larger repository: git answers
    inner = root / "inner"
    inner.mkdir()
    assert gitlog._read_head(inner / ".git") is None and gitlog.head(inner) == first
