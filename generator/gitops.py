"""Git operations of the editing commands: commit exactly the files a command changed,
start a repository, install the pre-commit hook.

`commit_paths` never touches the user's other work: it stages only the given paths and commits
with `git commit --only -- <paths>`, so other staged and unstaged changes stay as they were.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from .gitlog import is_repository

HOOK_MARKER = "# tipscale pre-commit hook"


class GitError(Exception):
    """A git operation failed; the message says why and what to do."""


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "--literal-pathspecs", *args],
            capture_output=True, text=True, timeout=120, check=False, encoding="utf-8", errors="replace",
        )  # fmt: skip
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH)") from None
    except subprocess.SubprocessError as exc:
        raise GitError(f"git {args[0]} failed: {exc}") from None
    if check and result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip()).replace("\n", "\n  ")
        raise GitError(f"git {args[0]} failed:\n  {detail}")
    return result


def require_repository(root: Path, option: str = "--commit") -> None:
    """GitError unless `root` is inside a git work tree with a usable identity (checked before
    a command writes anything, so `--commit` never leaves a half-done change)."""
    if not is_repository(root):
        raise GitError(
            f"{option}: {root} is not in a git repository; run 'git init' there, or leave out {option}"
        )
    require_identity(root)


def require_identity(root: Path) -> None:
    ident = _git(root, "var", "GIT_COMMITTER_IDENT", check=False)
    if ident.returncode != 0:
        raise GitError(
            "git does not know who you are; run\n"
            '  git config --global user.name "Your Name"\n'
            '  git config --global user.email you@example.com'
        )


def _relative(root: Path, paths: Iterable[Path | str]) -> list[str]:
    base = root.resolve()
    out: list[str] = []
    for path in paths:
        p = Path(path)
        p = p if p.is_absolute() else base / p
        out.append(os.path.relpath(p.resolve() if p.exists() else p, base))
    return out


def commit_paths(root: Path, paths: Iterable[Path | str], message: str) -> str:
    """Commit exactly `paths` (absolute, or relative to root) with `message`; return the sha.

    Only these paths are staged (`git add -- paths`) and committed (`git commit --only`), so the
    user's other staged or unstaged changes are left exactly as they were. Deleted paths are
    committed as deletions. Raises GitError (with git's message, e.g. a pre-commit hook's).
    """
    rel = _relative(root, paths)
    if not rel:
        raise GitError("nothing to commit")
    _git(root, "add", "--all", "--", *rel)
    result = _git(root, "commit", "--quiet", "--only", "-m", message, "--", *rel, check=False)
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip()).replace("\n", "\n  ")
        raise GitError(
            f"git commit failed, so the change was saved but not committed:\n  {detail}"
        )
    return _git(root, "rev-parse", "HEAD").stdout.strip()


def is_toplevel(root: Path) -> bool:
    """True if root is the top folder of a git work tree (not just somewhere inside one)."""
    if not is_repository(root):
        return False
    top = _git(root, "rev-parse", "--show-toplevel", check=False).stdout.strip()
    return bool(top) and Path(top).resolve() == root.resolve()


def init_repository(root: Path) -> bool:
    """`git init` unless root is already the top of a repository. True if one was made.

    A CRM inside some other repository gets its own: the contacts are private.
    """
    if is_toplevel(root):
        return False
    _git(root, "init", "--quiet")
    return True


def hook_script(root: Path) -> str:
    """The pre-commit hook: run `crm check` with this interpreter; a failing check blocks the commit."""
    top = Path(_git(root, "rev-parse", "--show-toplevel").stdout.strip()).resolve()
    rel = os.path.relpath(root.resolve(), top)
    where = '"$(git rev-parse --show-toplevel)"' + ("" if rel == "." else "/" + shlex.quote(rel))
    return (
        "#!/bin/sh\n"
        f"{HOOK_MARKER} (installed by `crm hook install`; delete this file to remove it).\n"
        "# Blocks a commit while a contact file or crm.yaml has errors (`crm check` fails).\n"
        f"cd {where} || exit 1\n"
        f"{shlex.quote(sys.executable)} -m generator --root . check --quiet && exit 0\n"
        "echo 'Commit blocked: fix the contact files above (crm check), or commit with --no-verify.' >&2\n"
        "exit 1\n"
    )


def install_hook(root: Path) -> Path:
    """Install the pre-commit hook in root's repository; return its path.

    Replaces an earlier Tipscale hook; refuses to overwrite someone else's hook.
    """
    if not is_repository(root):
        raise GitError(f"{root} is not in a git repository; run 'git init' there first")
    hooks = Path(_git(root, "rev-parse", "--git-path", "hooks").stdout.strip())
    hooks = hooks if hooks.is_absolute() else root / hooks
    hooks.mkdir(parents=True, exist_ok=True)
    hook = hooks / "pre-commit"
    if hook.exists() and HOOK_MARKER not in hook.read_text(encoding="utf-8", errors="replace"):
        raise GitError(
            f"{hook} already exists and is not Tipscale's; add this line to it instead:\n"
            f"  {shlex.quote(sys.executable)} -m generator --root {shlex.quote(str(root.resolve()))} check --quiet || exit 1"
        )
    hook.write_text(hook_script(root), encoding="utf-8")
    hook.chmod(0o755)
    return hook
