"""Files that are not contact files must not hang or flood a command: a FIFO named `x.md`, a link
to /dev/zero, a file of more than 5 MB. Each is an error naming the file; the rest is checked and
built as usual. Run as subprocesses with a timeout, since the failure being tested is a hang."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.contactfile import MAX_FILE_BYTES

ANN = "---\nname: Ann Lee\n---\nNotes.\n"


def crm(root: Path, *args: str, file_size_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """crm as a user runs it; with `file_size_limit`, no file may grow past that many bytes, so a
    write fails as on a full disk, with an error that names no file (EFBIG; Python ignores SIGXFSZ)."""
    import resource

    def limited() -> None:
        os.umask(0o022)
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    env = {**os.environ, "CRM_TODAY": "2026-11-25", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-c", "from generator.cli import run; run()", "--root", str(root), *args],
        capture_output=True, text=True, timeout=60, env=env, check=False, preexec_fn=limited,
    )  # fmt: skip


@pytest.fixture
def hostile_root(crm_root: Callable[..., Path]) -> Path:
    root = crm_root({"contacts/ann.md": ANN})
    os.mkfifo(root / "contacts" / "pipe.md")
    (root / "contacts" / "zero.md").symlink_to("/dev/zero")
    with open(root / "contacts" / "huge.md", "wb") as handle:
        handle.write(b"---\nname: Huge\n---\n" + b"x" * MAX_FILE_BYTES)
    return root


def test_check_names_each_and_goes_on(hostile_root: Path) -> None:
    result = crm(hostile_root, "check")
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert "contacts/pipe.md:1:1: error: cannot read the file: not a regular file" in out
    assert "contacts/zero.md:1:1: error: cannot read the file: not a regular file" in out
    assert "contacts/huge.md:1:1: error: cannot read the file: larger than 5 MB" in out
    assert "4 contact files, 3 errors" in out


def test_build_writes_the_others(hostile_root: Path) -> None:
    result = crm(hostile_root, "build")
    assert "3 files with errors" in result.stdout + result.stderr
    assert (hostile_root / "site" / "contacts" / "ann.html").is_file()


def test_an_edit_of_a_fifo_is_refused(hostile_root: Path) -> None:
    result = crm(hostile_root, "done", "pipe")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "pipe" in result.stdout + result.stderr


def test_a_contacts_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "crm"
    root.mkdir()
    (root / "crm.yaml").write_text("today: 2026-11-25\n", encoding="utf-8")
    (root / "contacts").write_text("not a folder\n", encoding="utf-8")
    result = crm(root, "check")
    assert result.returncode == 1
    assert "contacts:1:1: error: contacts is not a folder" in result.stdout + result.stderr


@pytest.mark.parametrize("target", ["/", ".."])
def test_a_contacts_link_to_the_disk_or_the_crm_itself_is_not_walked(tmp_path: Path, target: str) -> None:
    root = tmp_path / "crm"
    root.mkdir()
    (root / "crm.yaml").write_text("today: 2026-11-25\n", encoding="utf-8")
    (root / "contacts").symlink_to(target)
    result = crm(root, "check")
    assert result.returncode == 1
    assert "contacts:1:1: error: contacts links to" in result.stdout + result.stderr
    assert "0 contact files" in result.stdout + result.stderr


def test_a_contacts_link_to_another_folder_is_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "synced" / "people"
    elsewhere.mkdir(parents=True)
    (elsewhere / "ann.md").write_text(ANN, encoding="utf-8")
    root = tmp_path / "crm"
    root.mkdir()
    (root / "contacts").symlink_to(elsewhere)
    result = crm(root, "check")
    assert result.returncode == 0 and "1 contact file, 0 errors" in result.stdout + result.stderr


@pytest.mark.parametrize(
    "slug, size",
    [("a" * 246, 246), ("b" * 201, 201), ("漢" * 67, 201)],  # bytes, not characters, count
)
def test_a_file_name_too_long_for_its_page_is_an_error_and_the_rest_builds(
    crm_root: Callable[..., Path], slug: str, size: int
) -> None:
    root = crm_root({"contacts/ann.md": ANN, f"contacts/{slug}.md": ANN})
    message = f"contacts/{slug}.md:1:1: error: the file name is {size} bytes long; at most 200"
    for _ in range(2):  # a second run (from the cache) says the same
        checked = crm(root, "check")
        assert checked.returncode == 1 and message in checked.stdout + checked.stderr
        assert "2 contact files, 1 error" in checked.stdout + checked.stderr
        built = crm(root, "build")
        assert built.returncode == 1 and "Traceback" not in built.stderr
        assert "1 file with errors" in built.stdout + built.stderr
        assert (root / "site" / "contacts" / "ann.html").is_file()
        assert (root / "site" / "index.html").is_file()


def test_the_longest_allowed_file_name_builds_and_edits(crm_root: Callable[..., Path]) -> None:
    slug = "c" * 100 + "漢" * 33  # 199 bytes
    root = crm_root({"contacts/ann.md": ANN, f"contacts/{slug}.md": ANN})
    assert crm(root, "check").returncode == 0
    assert crm(root, "build").returncode == 0
    assert (root / "site" / "contacts" / f"{slug}.html").is_file()
    logged = crm(root, "log", slug, "--type", "coffee", "--date", "2026-11-20")
    assert logged.returncode == 0, logged.stderr
    assert "type: coffee" in (root / "contacts" / f"{slug}.md").read_text()
    assert sorted(p.name for p in (root / "contacts").iterdir()) == sorted(["ann.md", f"{slug}.md"])


def test_new_refuses_a_slug_too_long_for_a_file(crm_root: Callable[..., Path]) -> None:
    root = crm_root({"contacts/ann.md": ANN})
    result = crm(root, "new", "Dee Long", "--slug", "d" * 201)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "at most 200 bytes" in result.stderr
    assert sorted(p.name for p in (root / "contacts").iterdir()) == ["ann.md"]


def test_many_invalid_files_each_get_their_own_page_and_one_short_line(crm_root: Callable[..., Path]) -> None:
    files: dict[str, str | bytes] = {"contacts/ann.md": ANN}
    for i in range(30):
        files[f"contacts/bad-{i:02}.md"] = f"---\nname: Bad {i}\nkeep_in_touch: every {i} fortnights\n---\n"
    files["contacts/team/bad-00.md"] = "---\nname: [unclosed\n---\n"  # a duplicate slug in a sub-folder
    root = crm_root(files)
    result = crm(root, "build")
    assert result.returncode == 1
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("31 files with errors: contacts/bad-00.md, contacts/bad-01.md")
    assert line.endswith("and 21 more (run 'crm check' for details)")
    assert line.count("contacts/") == 10
    page = (root / "site" / "contacts" / "bad-07.html").read_text()
    assert "every 7 fortnights" in page
    assert "every 17 fortnights" not in page and "every 8 fortnights" not in page
    first = (root / "site" / "contacts" / "bad-00.html").read_text()
    assert "every 0 fortnights" in first and "duplicate slug" in first  # both files named bad-00
    assert (root / "site" / "contacts" / "ann.html").is_file()


def test_a_write_that_fails_like_a_full_disk_names_the_file(crm_root: Callable[..., Path]) -> None:
    long_notes = "Notes. " * 5000
    root = crm_root({"contacts/ann.md": ANN, "contacts/bo.md": f"---\nname: Bo Li\n---\n{long_notes}\n"})
    before = (root / "contacts" / "bo.md").read_bytes()
    logged = crm(root, "log", "bo", "--type", "coffee", file_size_limit=20_000)
    assert logged.returncode == 1 and "Traceback" not in logged.stderr
    assert f"Error: {root / 'contacts' / 'bo.md'}: File too large" in logged.stderr
    assert (root / "contacts" / "bo.md").read_bytes() == before  # untouched
    assert sorted(p.name for p in (root / "contacts").iterdir()) == ["ann.md", "bo.md"]  # no leftovers
    built = crm(root, "build", file_size_limit=20_000)
    assert built.returncode == 1 and "Traceback" not in built.stderr
    assert "Error: " + str(root / "site") in built.stderr and ": File too large" in built.stderr


def test_an_import_says_what_it_could_not_write(crm_root: Callable[..., Path], tmp_path: Path) -> None:
    root = crm_root({"contacts/ann.md": ANN})
    (root / "contacts" / "bo-li.md").mkdir()  # in the way of one of the two new files
    csv = tmp_path / "Connections.csv"
    csv.write_text(
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        "Bo,Li,https://www.linkedin.com/in/bo,,Acme,Engineer,02 Jan 2024\n"
        "Cy,Ng,https://www.linkedin.com/in/cy,,Acme,Engineer,03 Jan 2024\n"
    )
    result = crm(root, "import", "linkedin", str(csv))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "Error: contacts/bo-li.md: bo-li.md already exists; not overwriting it" in result.stderr
    assert "Imported Connections.csv: 1 created, 0 merged, 0 unchanged, 0 conflicts, 0 skipped, 1 not written" in (
        result.stdout
    )
    assert (root / "contacts" / "cy-ng.md").is_file() and (root / "contacts" / "bo-li.md").is_dir()


def test_an_import_that_cannot_write_a_whole_file_leaves_no_part_of_it(
    crm_root: Callable[..., Path], tmp_path: Path
) -> None:
    root = crm_root({"contacts/ann.md": ANN})
    csv = tmp_path / "Connections.csv"
    csv.write_text(
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        "Cy,Ng,https://www.linkedin.com/in/cy,,Acme,Engineer,03 Jan 2024\n"
    )
    result = crm(root, "import", "linkedin", str(csv), file_size_limit=300)  # a new file is ~900 bytes
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"Error: contacts/cy-ng.md: [Errno 27] File too large: '{root / 'contacts' / 'cy-ng.md'}'" in (
        result.stderr
    )
    assert sorted(p.name for p in (root / "contacts").iterdir()) == ["ann.md"]  # no part, no temporary file
    again = crm(root, "import", "linkedin", str(csv))
    assert again.returncode == 0, again.stderr
    made = root / "contacts" / "cy-ng.md"
    assert "name: Cy Ng" in made.read_text() and stat.S_IMODE(made.stat().st_mode) == 0o644
    assert sorted(p.name for p in (root / "contacts").iterdir()) == ["ann.md", "cy-ng.md"]


def test_an_edit_removes_what_a_killed_edit_of_that_file_left(crm_root: Callable[..., Path]) -> None:
    root = crm_root({"contacts/ann.md": ANN, "contacts/bo.md": "---\nname: Bo Li\n---\n"})
    folder = root / "contacts"
    for name in (".bo.md.k1ll3d.tmp", ".bo.md.fresh1.tmp", ".ann.md.other1.tmp", ".bo.md.lock"):
        (folder / name).write_text("half a file")
    an_hour_ago = time.time() - 3600
    for name in (".bo.md.k1ll3d.tmp", ".ann.md.other1.tmp", ".bo.md.lock"):
        os.utime(folder / name, (an_hour_ago, an_hour_ago))
    result = crm(root, "log", "bo", "--type", "coffee")
    assert result.returncode == 0, result.stderr
    left = sorted(p.name for p in folder.iterdir())
    # bo's old temp file and its lock are gone; a fresh one may be a write in progress; ann's is ann's
    assert left == [".ann.md.other1.tmp", ".bo.md.fresh1.tmp", "ann.md", "bo.md"]
