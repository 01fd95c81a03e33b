"""Forked workers for cold parsing and rendering give exactly the serial result."""

from __future__ import annotations

import filecmp
import sys
import threading
from pathlib import Path

import pytest

from generator import parallel
from generator.ics import fold
from generator.load import ContactCache, load
from generator.site import SiteBuilder

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from generate import generate  # noqa: E402


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def big_root(tmp_path: Path) -> Path:
    root = tmp_path / "big"
    generate(root, 120, 7)
    return root


def test_parallel_build_equals_serial_build(big_root, tmp_path, monkeypatch):
    assert threading.active_count() == 1, "forking needs a single-threaded process"
    monkeypatch.setattr(parallel, "MIN_ITEMS", 10)
    calls = []
    real = parallel.fork_map

    def counting(func, items, chunksize=64):
        calls.append((parallel.workers(), len(items)))
        return real(func, items, chunksize)

    monkeypatch.setattr(parallel, "fork_map", counting)
    monkeypatch.setenv("TIPSCALE_WORKERS", "2")
    SiteBuilder(big_root, tmp_path / "parallel").build()
    monkeypatch.setenv("TIPSCALE_WORKERS", "1")
    SiteBuilder(big_root, tmp_path / "serial").build()
    assert calls[0][0] == 2 and calls[0][1] >= 120  # the first (parallel) run really forked
    parallel_tree, serial_tree = tree(tmp_path / "parallel"), tree(tmp_path / "serial")
    assert parallel_tree.keys() == serial_tree.keys()
    assert parallel_tree == serial_tree
    assert not filecmp.dircmp(tmp_path / "parallel", tmp_path / "serial").diff_files


def test_parallel_parse_equals_serial_parse(big_root, monkeypatch):
    broken = big_root / "contacts" / "zz-broken.md"
    broken.write_text("---\nname: [\n---\n")
    monkeypatch.setattr(parallel, "MIN_ITEMS", 10)
    monkeypatch.setenv("TIPSCALE_WORKERS", "2")
    two = load(big_root, ContactCache())
    monkeypatch.setenv("TIPSCALE_WORKERS", "1")
    one = load(big_root, ContactCache())
    assert two.problems == one.problems and two.problems
    assert two.contacts == one.contacts and len(one.contacts) == 120


def test_threads_keep_it_serial(monkeypatch):
    monkeypatch.setenv("TIPSCALE_WORKERS", "2")
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert parallel.workers() == 1
    finally:
        stop.set()
        thread.join()
    assert parallel.workers() == 2


@pytest.mark.parametrize("text", ["short", "x" * 200, "é" * 100, "a" + "日本語" * 40, "ab😀" * 30])
def test_fold_keeps_characters_whole(text):
    folded = fold("DESCRIPTION:" + text)
    lines = folded.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in lines)
    assert "".join(line[1:] if i else line for i, line in enumerate(lines)) == "DESCRIPTION:" + text
