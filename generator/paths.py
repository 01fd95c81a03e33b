"""Where the built-in templates live: `templates/` beside the package in a checkout (editable
install), or `generator/_templates` inside an installed wheel."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def builtin_templates() -> Path:
    here = Path(__file__).resolve().parent
    checkout = here.parent / "templates"
    if (checkout / "notes").is_dir() and (here.parent / "pyproject.toml").is_file():
        return checkout
    return here / "_templates"
