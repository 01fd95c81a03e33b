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


def test_histories_started_early_are_the_same_and_never_of_an_older_head(tmp_path: Path) -> None:
    """A cold `crm build` starts `git log` before it parses (PendingHistories); the pages then
    show what asking afterwards would have shown, even if a commit lands in between."""
    import datetime as dt
    import shutil

    from generator.site import SiteBuilder

    root = tmp_path / "crm"
    shutil.copytree(Path(__file__).resolve().parent.parent / "contacts", root / "contacts")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "contacts")
    git(root, "commit", "-q", "-m", "Add the contacts")
    assert gitlog.PendingHistories(root).result() == gitlog.file_histories(root) != {}
    today = dt.date(2026, 11, 25)

    early = SiteBuilder(root, tmp_path / "early", today=today)
    early.prefetch_histories()
    early.build()
    late = SiteBuilder(root, tmp_path / "late", today=today)
    late.build()
    page = "contacts/grace-liu.html"
    assert "Add the contacts" in (tmp_path / "early" / page).read_text(encoding="utf-8")
    assert (tmp_path / "early" / page).read_bytes() == (tmp_path / "late" / page).read_bytes()

    # A commit between the start of git log and the build: the build asks again.
    racing = SiteBuilder(root, tmp_path / "racing", today=today)
    racing.prefetch_histories()
    path = root / "contacts" / "grace-liu.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nMore notes.\n", encoding="utf-8")
    git(root, "commit", "-q", "-am", "Second commit")
    racing.build()
    assert "Second commit" in (tmp_path / "racing" / page).read_text(encoding="utf-8")
    # Outside git: nothing started, no history.
    plain = tmp_path / "plain"
    shutil.copytree(root / "contacts", plain / "contacts")
    assert gitlog.PendingHistories(plain).result() == {}
