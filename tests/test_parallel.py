"""Forked workers for cold parsing and rendering give exactly the serial result.

Forking needs a process without threads, and a long pytest session has some (servers, the
browser), so the comparisons run in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from generator import parallel
from generator.ics import fold

REPO = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    sys.path.insert(0, {bench!r})
    from generate import generate
    from generator import parallel
    from generator.contactcache import ContactCache
    from generator.load import load
    from generator.site import SiteBuilder
    from generator.write import Writer

    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    generate(root, 450, 7)
    (root / "contacts" / "zz-broken.md").write_text("---\\nname: [\\n---\\n")
    used = []
    real = parallel.fork_map
    def counting(func, items, chunksize=64, meanwhile=None, serial=False):
        used.append((parallel.workers(), len(items)))
        return real(func, items, chunksize, meanwhile, serial)
    parallel.fork_map = counting
    staged = []  # what the workers' staging folders held when the build cleared them
    real_clear = Writer.clear_staging
    def clearing(self):
        state = Path(self._out) / ".tipscale"
        staged.extend(sorted(os.listdir(p)) for p in state.glob("stage-*"))
        real_clear(self)
    Writer.clear_staging = clearing

    def tree(folder):
        return {{p.relative_to(folder).as_posix(): p.read_bytes().hex()
                 for p in sorted(folder.rglob("*")) if p.is_file() and ".tipscale" not in p.parts}}

    os.environ["TIPSCALE_WORKERS"] = "2"
    two = load(root, ContactCache())
    SiteBuilder(root, out / "parallel").build()
    persisted = load(root, ContactCache(persist=root))  # workers' contacts, saved in the parse cache
    warm = load(root, ContactCache(persist=root))  # ... and read back from it
    os.environ["TIPSCALE_WORKERS"] = "1"
    one = load(root, ContactCache())
    SiteBuilder(root, out / "serial").build()
    print(json.dumps({{
        "same_cached": persisted.contacts == warm.contacts == one.contacts and warm.problems == one.problems,
        "used": used,
        "same_problems": two.problems == one.problems,
        "problems": len(one.problems),
        "same_contacts": two.contacts == one.contacts,
        "contacts": len(one.contacts),
        "same_tree": tree(out / "parallel") == tree(out / "serial"),
        "pages": len(tree(out / "serial")),
        "staged": staged,
        "left": sorted(p.name for p in (out / "parallel").rglob("*") if p.name.startswith((".tmp-", "stage-"))),
    }}))
    """
)


def test_parallel_parse_and_build_equal_serial(tmp_path):
    import json

    script = SCRIPT.format(bench=str(REPO / "bench"))
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "root"), str(tmp_path / "out")],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # the parallel runs really forked two workers: parse of 451 files, then the pages
    assert report["used"][0] == [2, 451]
    assert report["used"][1][0] == 2 and report["used"][1][1] > 450
    assert report["same_problems"] and report["problems"] >= 1
    assert report["same_contacts"] and report["contacts"] == 450
    assert report["same_cached"]
    assert report["same_tree"] and report["pages"] > 450
    # each worker made its new files in a staging folder of its own (Writer.stage), renamed every
    # one into place (the folders were empty when the build removed them), and nothing is left
    assert report["staged"] and all(files == [] for files in report["staged"])
    assert report["left"] == []


def test_threads_keep_it_serial(monkeypatch):
    monkeypatch.setenv("TIPSCALE_WORKERS", "2")
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert parallel.workers() == 1
        assert parallel.fork_map(abs, [-1] * (parallel.MIN_ITEMS + 1)) == [1] * (parallel.MIN_ITEMS + 1)
    finally:
        stop.set()
        thread.join()


CHILD_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from generator import parallel

    os.environ["TIPSCALE_WORKERS"] = "2"
    me = os.getpid()
    folder = Path(sys.argv[1])
    out = {{}}
    def one(func):
        pending = parallel.fork_results(lambda: iter((func(),)))
        value = pending.next()
        pending.close()
        return value
    # a result computed by a child while this process goes on
    out["child"] = one(lambda: {{"pid": os.getpid(), "values": [1, ("a", 2), "é"]}})
    # a child that dies: the result is computed here instead
    out["fallback"] = one(lambda: me if os.getpid() == me else os._exit(3)) == me
    # a result that cannot travel (not marshal-able): computed here as well
    out["unsendable"] = one(lambda: object() if os.getpid() != me else "here")
    # results sent one at a time: the first is taken while the child still makes the second
    def steps():
        yield os.getpid()
        (folder / "second").write_text(str(os.getpid()))
        yield [os.getpid(), "é"]
    stream = parallel.fork_results(steps)
    first = stream.next()
    out["stream"] = [first != me, stream.next() == [first, "é"]]
    stream.close()
    # a child that dies after its first result: the rest are computed here, after the same steps
    def dies():
        yield "one"
        if os.getpid() != me:
            os._exit(3)
        yield "two from " + str(os.getpid())
    cut = parallel.fork_results(dies)
    out["cut"] = [cut.next(), cut.next()]
    cut.close()
    out["me"] = me
    os.environ["TIPSCALE_WORKERS"] = "1"
    out["serial_ready"] = parallel.fork_results(lambda: iter((os.getpid(),))).ready()
    out["serial"] = one(os.getpid) == me
    print(json.dumps(out))
    """
)


def test_fork_results(tmp_path):
    import json

    result = subprocess.run(
        [sys.executable, "-c", CHILD_SCRIPT.format(), str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["child"]["pid"] != out["me"] and out["child"]["values"] == [1, ["a", 2], "é"]
    assert out["fallback"] and out["unsendable"] == "here"
    assert out["stream"] == [True, True] and (tmp_path / "second").read_text() != str(out["me"])
    assert out["cut"] == ["one", f"two from {out['me']}"]
    assert out["serial_ready"] and out["serial"]


INTERRUPT_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, time
    from pathlib import Path
    from generator import parallel

    os.environ["TIPSCALE_WORKERS"] = "2"
    folder = Path(sys.argv[1])
    def job():
        time.sleep(0.5)
        (folder / "written").write_text("yes")
        return os.getpid()
    pending = parallel.fork_results(lambda: iter((job(),)))
    try:
        os.killpg(os.getpgid(0), signal.SIGINT)  # Ctrl-C: to the whole process group
        time.sleep(5)
    except KeyboardInterrupt:
        print("interrupted")
    print("child result", pending.next() != os.getpid())
    """
)


def test_ctrl_c_reaches_the_parent_and_children_finish_their_job_silently(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", INTERRUPT_SCRIPT, str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False, start_new_session=True,
    )  # fmt: skip
    assert result.stdout.split("\n")[:2] == ["interrupted", "child result True"], result.stderr
    assert (tmp_path / "written").read_text() == "yes"
    assert result.stderr == ""


@pytest.mark.parametrize("text", ["short", "x" * 200, "é" * 100, "a" + "日本語" * 40, "ab😀" * 30])
def test_fold_keeps_characters_whole(text):
    folded = fold("DESCRIPTION:" + text)
    lines = folded.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in lines)
    assert "".join(line[1:] if i else line for i, line in enumerate(lines)) == "DESCRIPTION:" + text


MAP_SCRIPT = textwrap.dedent(
    """
    import json, os
    from generator import parallel

    os.environ["TIPSCALE_WORKERS"] = "2"
    me = os.getpid()
    offset = 1000  # a closure's variable: the workers inherit it, nothing of it travels
    arrived = []
    out = {}
    out["mapped"] = parallel.fork_map(lambda x: (x + offset, os.getpid() != me), list(range(50)),
                                      chunksize=1, each=arrived.append, min_items=2)
    out["arrived"] = arrived
    out["few"] = parallel.fork_map(lambda x: os.getpid() != me, [1, 2, 3])  # below MIN_ITEMS: here
    out["serial"] = parallel.fork_map(lambda x: os.getpid() != me, list(range(500)), serial=True)
    print(json.dumps(out))
    """
)


def test_fork_map_runs_closures_in_workers_and_hands_each_result_on_in_order():
    import json

    result = subprocess.run(
        [sys.executable, "-c", MAP_SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [value for value, _ in out["mapped"]] == list(range(1000, 1050))
    assert any(in_worker for _, in_worker in out["mapped"])  # it really forked
    assert out["arrived"] == out["mapped"]  # every result passed on, in order
    assert not any(out["few"]) and not any(out["serial"])


def test_a_big_import_on_two_workers_writes_what_one_writes(tmp_path):
    """Workers write the files they make: the same files as one process, and a file that cannot
    be written (a folder in its place, in the second chunk) is reported, the rest written."""
    rows = ["First Name,Last Name,URL,Email Address,Company,Position,Connected On"]
    for i in range(1200):  # three chunks of texts
        rows.append(f"Ana{i},Silva{i % 7},https://www.linkedin.com/in/ana-{i},,Acme {i % 13},Engineer,0{1 + i % 9} Mar 2024")
    export = tmp_path / "Connections.csv"
    export.write_text("\n".join(rows) + "\n", encoding="utf-8")
    trees = []
    for workers in ("2", "1"):
        root = tmp_path / f"crm-{workers}"
        (root / "contacts" / "ana700-silva0.md").mkdir(parents=True)  # in the way of row 700's file
        env = {**__import__("os").environ, "TIPSCALE_WORKERS": workers, "CRM_TODAY": "2026-12-01"}
        result = subprocess.run(
            [str(REPO / ".venv/bin/crm"), "--root", str(root), "import", "linkedin", str(export), "-q"],
            capture_output=True, text=True, env=env, timeout=300,
        )
        assert result.returncode == 1, result.stderr
        assert "Error: contacts/ana700-silva0.md: ana700-silva0.md already exists; not overwriting it" in result.stderr
        assert "1199 created" in result.stdout and "1 not written" in result.stdout
        trees.append({p.name: p.read_bytes() for p in (root / "contacts").iterdir() if p.is_file()})
        checked = subprocess.run(
            [str(REPO / ".venv/bin/crm"), "--root", str(root), "check", "-q"], capture_output=True, text=True, env=env
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr  # every file written is valid
    assert len(trees[0]) == 1199
    assert trees[0] == trees[1]
