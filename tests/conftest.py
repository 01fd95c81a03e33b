"""Shared fixtures: CRM roots in temporary folders, the CLI runner, one real Chromium per session."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def demo_root(tmp_path: Path) -> Path:
    """A copy of the repository's demo CRM (contacts/, applications/ and crm.yaml) in a temporary folder."""
    root = tmp_path / "demo"
    shutil.copytree(REPO / "contacts", root / "contacts")
    shutil.copytree(REPO / "applications", root / "applications")
    shutil.copy(REPO / "crm.yaml", root / "crm.yaml")
    return root


@pytest.fixture
def crm_root(tmp_path: Path) -> Callable[..., Path]:
    """make(files={"contacts/jane.md": "...", "crm.yaml": "..."}) → a fresh CRM root.

    Text values are dedented; bytes are written as they are.
    """
    counter = {"n": 0}

    def make(files: dict[str, str | bytes] | None = None, settings: str | None = None) -> Path:
        counter["n"] += 1
        root = tmp_path / f"crm{counter['n']}"
        (root / "contacts").mkdir(parents=True)
        if settings is not None:
            (root / "crm.yaml").write_text(textwrap.dedent(settings), encoding="utf-8")
        for rel, content in (files or {}).items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8", newline="")
        return root

    return make


@pytest.fixture
def cli() -> Callable[..., Result]:
    """cli(root, "check", "--format", "json") runs `crm --root ROOT …` in-process."""
    from generator.cli import main

    def run(root: Path | None, *args: str, env: dict[str, str] | None = None, **kwargs: Any) -> Result:
        argv = (["--root", str(root)] if root is not None else []) + list(args)
        merged = {"CRM_TODAY": "", "NO_COLOR": "1", **(env or {})}
        return CliRunner().invoke(main, argv, env=merged, catch_exceptions=False, **kwargs)

    return run


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the whole test session (launch costs about a second)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu", "--disable-quic"])
        yield instance
        instance.close()
