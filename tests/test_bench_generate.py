"""The benchmark's contact generators and runner (bench/generate.py, bench/shapes.py, bench/run.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from generate import generate, make_history  # noqa: E402
from shapes import generate_shape  # noqa: E402


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_generator_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", 120, seed=7)
    second = generate(tmp_path / "b", 120, seed=7)
    assert first == second
    assert len(set(first)) == 120
    a, b = tree_bytes(tmp_path / "a"), tree_bytes(tmp_path / "b")
    assert a == b
    assert len(a) == 121  # 120 contacts + crm.yaml
    generate(tmp_path / "c", 120, seed=8)
    assert tree_bytes(tmp_path / "c") != a  # another seed, other contacts


def test_the_generated_history_starts_no_git_gc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A gc that `git commit` starts would pack and delete objects while the bench measures."""
    eager = tmp_path / "gitconfig"
    eager.write_text("[gc]\n\tauto = 1\n\tautoDetach = false\n", encoding="utf-8")  # gc at every commit
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(eager))
    root = tmp_path / "crm"
    make_history(root, generate(root, 1500, seed=3), 4)  # enough objects for git to count (it samples one folder)
    assert not list((root / ".git" / "objects" / "pack").glob("*.pack"))
    log = subprocess.run(["git", "-C", str(root), "log", "--oneline"], capture_output=True, text=True, check=True)
    assert len(log.stdout.splitlines()) == 4


def test_generated_contacts_have_the_realistic_shape(tmp_path: Path) -> None:
    generate(tmp_path, 200, seed=1)
    text = "\n".join(p.read_text(encoding="utf-8") for p in (tmp_path / "contacts").glob("*.md"))
    assert any("\u0400" <= ch <= "\u04ff" for ch in text)  # Cyrillic
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)  # CJK
    assert "[[" in text and "followed_up: skip" in text and "keep_in_touch:" in text
    assert "reminders:" in text and "gained:" in text


def test_200_generated_contacts_pass_check(tmp_path: Path, cli: Callable[..., Result]) -> None:
    generate(tmp_path, 200, seed=1)
    result = cli(tmp_path, "check", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["contacts"] == 200
    assert [p for p in doc["problems"] if p["severity"] == "error"] == []


def test_quick_bench_run_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--quick", "--n", "50", "--runs", "1", "--skip-hugo",
         "--out", str(out), "--work", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((out / "latest.json").read_text(encoding="utf-8"))
    assert [(size["shape"], size["n"]) for size in report["sizes"]] == [("generated", 50), ("network", 50), ("history", 50)]
    assert all(size["stages"]["build-cold"]["status"] == "ok" for size in report["sizes"])
    stages = report["sizes"][0]["stages"]
    assert stages["check-cold"]["status"] == "ok" and stages["check-cold"]["median_s"] > 0
    assert stages["hugo"]["status"] == "n/a"
    before, after = report["sizes"][0]["speed_probe_s"]  # the machine's speed, beside the numbers
    assert 0 < before < 60 and 0 < after < 60
    text = (out / "latest.md").read_text(encoding="utf-8")
    assert text.startswith("# Benchmark results") and f"Speed probe: {before:.3f} s before" in text
    assert "## history, N = 50" in text


@pytest.mark.parametrize("shape", ["network", "history"])
def test_the_other_shapes_are_deterministic_and_valid(shape: str, tmp_path: Path, cli: Callable[..., Result]) -> None:
    slugs = generate_shape(tmp_path / "a", shape, 300, seed=5)
    assert len(set(slugs)) == 300 and slugs == generate_shape(tmp_path / "b", shape, 300, seed=5)
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")
    result = cli(tmp_path / "a", "check", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["contacts"] == 300 and doc["problems"] == []


def test_a_network_is_mostly_imported_with_a_small_active_core(tmp_path: Path) -> None:
    generate_shape(tmp_path, "network", 1000, seed=2)
    texts = [p.read_text(encoding="utf-8") for p in (tmp_path / "contacts").glob("*.md")]
    active = [t for t in texts if "interactions:" in t]
    assert all("linkedin: https://www.linkedin.com/in/" in t and "connected_on: " in t for t in texts)
    assert 20 <= len(active) <= 90  # about 5 %


def test_a_history_root_has_years_of_ordinary_markdown_in_every_yaml_style(tmp_path: Path) -> None:
    generate_shape(tmp_path, "history", 400, seed=3)
    files = [p.read_bytes() for p in (tmp_path / "contacts").glob("*.md")]
    text = b"".join(files).decode("utf-8-sig", errors="replace")
    assert sum(f.startswith(b"\xef\xbb\xbf") for f in files) >= 20  # BOMs
    assert sum(b"\r\n" in f for f in files) >= 30  # CRLF line endings
    for sign in ("  - {date: 2019-", "\n- date: ", "summary: >-", "gained: |", "# logged by hand",  # YAML styles
                 "](https://", "## ", "\n> ", "```", "Team | Size", "snake_case_names", "&& 5 > 2", "[["):  # Markdown
        assert sign in text, sign
