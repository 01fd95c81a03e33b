"""After the code changes (an upgrade, or an edit of the installed package), nothing made by the
old code is reused: an incremental `crm build` gives the same site as a clean one, and
`crm check` the new messages. Runs a copy of the package, installed-style (templates inside it),
as a user's `crm` would, and edits that copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TYPO = """\
---
name: Tess Typo
compnay: Acme
---
Met at a meetup.
"""


def _install_copy(where: Path) -> Path:
    package = where / "generator"
    shutil.copytree(REPO / "generator", package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "templates", package / "_templates")
    return package


def _crm(package: Path, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package.parent), "CRM_TODAY": "2026-11-25", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-c", "from generator.cli import run; run()", "--root", str(root), *args],
        cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _tree(folder: Path) -> dict[str, bytes]:
    files = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}
    return {rel: path.read_bytes() for rel, path in files.items() if not rel.startswith(".tipscale/")}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is no longer in {path.name}: pick another line to change"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _clean_build(package: Path, root: Path, out: Path) -> dict[str, bytes]:
    result = _crm(package, root, "build", "--clean", "--out", str(out))
    assert result.returncode in (0, 1), result.stderr
    return _tree(out)


def test_a_changed_module_and_template_rebuild_as_a_clean_build(demo_root: Path, tmp_path: Path) -> None:
    (demo_root / "contacts" / "tess-typo.md").write_text(TYPO, encoding="utf-8")
    package = _install_copy(tmp_path / "installed")
    site = demo_root / "site"
    assert _crm(package, demo_root, "build", "--out", str(site)).returncode in (0, 1)
    check = _crm(package, demo_root, "check")
    assert "did you mean company?" in check.stdout + check.stderr

    # A module no page template names: the message of a warning, on the contact page and in check.
    _edit(package / "validate.py", "did you mean {near}?\", \"warning\")", "perhaps {near} was meant?\", \"warning\")")
    rebuilt = _crm(package, demo_root, "build", "--out", str(site))
    assert rebuilt.returncode in (0, 1), rebuilt.stderr
    assert "0 written" not in rebuilt.stdout + rebuilt.stderr
    assert _tree(site) == _clean_build(package, demo_root, tmp_path / "clean-1")
    assert b"perhaps company was meant?" in _tree(site)["contacts/tess-typo.html"]
    check = _crm(package, demo_root, "check")
    assert "perhaps company was meant?" in check.stdout + check.stderr
    assert "did you mean company?" not in check.stdout + check.stderr

    # A built-in template.
    _edit(package / "_templates" / "contact.html.j2", "</aside>\n</div>", "</aside>\n<p class=\"upgraded\">new</p>\n</div>")
    assert _crm(package, demo_root, "build", "--out", str(site)).returncode in (0, 1)
    pages = _tree(site)
    assert pages == _clean_build(package, demo_root, tmp_path / "clean-2")
    assert b'class="upgraded"' in pages["contacts/tess-typo.html"]
