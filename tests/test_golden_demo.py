"""The demo's site, byte for byte: `crm build` of the repository's demo contacts (a copy, outside
git, on 2026-11-25) must give exactly the files in `tests/golden/demo/`. A change to any page is
then a visible diff in review. After an intended change, write the new golden site with

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden_demo.py

and read the diff before committing it.
"""

from __future__ import annotations

import difflib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden" / "demo"  # the pages; `static/` is the templates' own, compared with them


def _tree(folder: Path) -> dict[str, bytes]:
    files = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}
    return {rel: path.read_bytes() for rel, path in files.items() if not rel.startswith(".tipscale/")}


def _first_difference(name: str, want: bytes, got: bytes) -> str:
    lines = difflib.unified_diff(
        want.decode("utf-8", "replace").splitlines(), got.decode("utf-8", "replace").splitlines(),
        f"golden/{name}", f"built/{name}", lineterm="", n=1,
    )  # fmt: skip
    return "\n".join(list(lines)[:40])


def test_the_demo_site_is_the_golden_one(demo_root: Path, tmp_path: Path, cli: Callable[..., Result]) -> None:
    out = tmp_path / "site"
    result = cli(demo_root, "build", "--clean", "--out", str(out), env={"CRM_TODAY": "2026-11-25"})
    assert result.exit_code == 0, result.output
    built = _tree(out)
    static = {name: built.pop(name) for name in [n for n in built if n.startswith("static/")]}
    assert static == {f"static/{name}": data for name, data in _tree(REPO / "templates" / "static").items()}
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for name, data in built.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(data)
    golden = _tree(GOLDEN)
    assert sorted(built) == sorted(golden), "pages added or gone: see the file lists"
    for name in golden:
        assert built[name] == golden[name], _first_difference(name, golden[name], built[name])
    # And a clean build again, elsewhere, is the same bytes (nothing of the path or the clock).
    again = tmp_path / "again"
    assert cli(demo_root, "build", "--clean", "--out", str(again), env={"CRM_TODAY": "2026-11-25"}).exit_code == 0
    assert _tree(again) == {**built, **static}
