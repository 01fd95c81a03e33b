"""`crm build`'s no-change shortcut (generator/quick.py): a run whose inputs all match the last
command-line build's says so without loading a contact — and no change to any input is missed."""

from __future__ import annotations

import datetime as dt
import json
import marshal
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from generator.quick import RECORD
from generator.site import SiteBuilder

TODAY = "2026-11-25"
HEAVY = ("generator.site", "generator.load", "yaml", "jinja2", "markdown_it")


def settle(root: Path) -> None:
    """Date every input ten seconds back, as files saved a while ago (a build leaves no record
    while an input is younger than two seconds: its stamp could still change unseen)."""
    past = time.time_ns() - 10_000_000_000
    for path in root.rglob("*"):
        if path.is_file() and "site" not in path.relative_to(root).parts:
            os.utime(path, ns=(past, past))


def tree(folder: Path) -> dict[str, bytes]:
    files = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}
    return {rel: path.read_bytes() for rel, path in files.items() if not rel.startswith(".tipscale/")}


def build_in_new_process(root: Path, *args: str, serial: bool = False) -> tuple[str, list[str]]:
    """`crm build` in a fresh interpreter: its output, and which heavy modules it imported.
    `serial`: with one process (by default a child stats the inputs while the parent imports
    what a build would need, a module at a time until the child answers)."""
    code = (
        "import sys\n"
        "from generator.cli import main\n"
        "try:\n"
        f"    main(['--root', {str(root)!r}, '--today', {TODAY!r}, 'build', *{list(args)!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('IMPORTED', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "NO_COLOR": "1", "CRM_TODAY": "", "TIPSCALE_WORKERS": "1" if serial else ""}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    out, _, imported = done.stdout.rpartition("IMPORTED ")
    return out, json.loads(imported.replace("'", '"'))


def test_a_second_build_loads_nothing(demo_root):
    settle(demo_root)
    first, imported = build_in_new_process(demo_root)
    assert " 0 unchanged" in first and "generator.site" in imported
    assert (demo_root / "site" / RECORD).is_file()
    pages = first.split(": ", 1)[1].split(" pages")[0]
    second, _ = build_in_new_process(demo_root)
    assert f"{pages} pages, 0 written, {pages} unchanged, 0 removed" in second
    again, imported = build_in_new_process(demo_root, serial=True)
    assert f"{pages} pages, 0 written, {pages} unchanged, 0 removed" in again
    assert imported == []
    # Without the record the same run loads and plans (so the check above means something).
    (demo_root / "site" / RECORD).unlink()
    third, imported = build_in_new_process(demo_root)
    assert "0 written" in third and "generator.site" in imported and "generator.load" in imported


def edit_contact_same_size(root: Path) -> None:
    path = root / "contacts" / "grace-liu.md"
    path.write_text(path.read_text().replace("VP of Engineering", "VP of Engineerinx"))


def add_contact(root: Path) -> None:
    (root / "contacts" / "new-person.md").write_text("---\nname: New Person\n---\nMet at a meetup.\n")


def delete_contact(root: Path) -> None:
    (root / "contacts" / "grace-liu.md").unlink()


def edit_settings(root: Path) -> None:
    with (root / "crm.yaml").open("a") as handle:
        handle.write("\n# a comment changes no setting, but the file changed\n")


def add_template(root: Path) -> None:
    from generator.paths import builtin_templates

    source = (builtin_templates() / "group.html.j2").read_text()
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / "group.html.j2").write_text(source.replace("<ul", "<p>mine</p><ul"))


def remove_page(root: Path) -> None:
    (root / "site" / "contacts" / "grace-liu.html").unlink()


def corrupt_record(root: Path) -> None:
    (root / "site" / RECORD).write_text('{"version": 1, "fingerprint": [')


CHANGES = {
    "contact edited, same size": edit_contact_same_size,
    "contact added": add_contact,
    "contact deleted": delete_contact,
    "crm.yaml edited": edit_settings,
    "template added": add_template,
    "page removed from the site": remove_page,
    "record corrupted": corrupt_record,
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_change_of_an_input_is_built(demo_root, tmp_path, cli, change):
    settle(demo_root)
    assert cli(demo_root, "--today", TODAY, "build").exit_code == 0
    assert (demo_root / "site" / RECORD).is_file()
    CHANGES[change](demo_root)
    result = cli(demo_root, "--today", TODAY, "build")
    assert result.exit_code == 0, result.output
    if change not in ("record corrupted", "crm.yaml edited"):
        assert " 0 written" not in result.output or " 0 removed" not in result.output
    clean = tmp_path / "clean"
    assert cli(demo_root, "--today", TODAY, "build", "--clean", "--out", str(clean)).exit_code == 0
    assert tree(demo_root / "site") == tree(clean)


def test_the_day_is_an_input(demo_root, cli):
    settle(demo_root)
    assert cli(demo_root, "--today", TODAY, "build").exit_code == 0
    result = cli(demo_root, "--today", "2026-12-25", "build")
    assert " 0 written" not in result.output
    result = cli(demo_root, "build", env={"CRM_TODAY": "2026-12-26"})
    assert " 0 written" not in result.output
    # A malformed CRM_TODAY is still bad usage, not a shortcut.
    assert cli(demo_root, "build", env={"CRM_TODAY": "soon"}).exit_code == 2


def test_a_build_just_after_an_edit_leaves_no_record(demo_root, cli):
    settle(demo_root)
    edit_contact_same_size(demo_root)  # younger than two seconds
    assert cli(demo_root, "--today", TODAY, "build").exit_code == 0
    assert not (demo_root / "site" / RECORD).exists()


def test_any_other_build_of_the_site_forgets_the_record(demo_root, cli):
    """The live server builds with its own builder (here: another day): the site on disk is no
    longer what the record describes, so the next command-line run must build."""
    settle(demo_root)
    assert cli(demo_root, "--today", TODAY, "build").exit_code == 0
    SiteBuilder(demo_root, demo_root / "site", today=dt.date(2027, 3, 1)).build()
    assert not (demo_root / "site" / RECORD).exists()
    result = cli(demo_root, "--today", TODAY, "build")
    assert " 0 written" not in result.output


def test_problems_and_exit_codes_are_reported_again(demo_root, cli):
    (demo_root / "contacts" / "broken.md").write_text("---\nname: Broken\ninteractions: [\n---\n")
    notes = demo_root / "templates" / "notes"
    notes.mkdir(parents=True)
    settle(demo_root)
    first = cli(demo_root, "--today", TODAY, "build", "-v")
    second = cli(demo_root, "--today", TODAY, "build", "-v")
    assert first.exit_code == second.exit_code == 1
    assert "contacts/broken.md" in first.stderr and "1 file with errors: contacts/broken.md" in first.stderr
    assert second.stderr == first.stderr
    assert " 0 written" in second.stdout
    quiet = cli(demo_root, "--today", TODAY, "build", "-q")
    assert quiet.exit_code == 1 and quiet.stdout == "" and "contacts/broken.md" in quiet.stderr


def test_errors_only_the_build_finds_are_reported_again(demo_root, cli):
    notes = demo_root / "templates" / "notes"
    notes.mkdir(parents=True)
    (notes / "interview.md.j2").write_text("Subject: x\n\n{{ broken \n")
    settle(demo_root)
    first = cli(demo_root, "--today", TODAY, "build")
    second = cli(demo_root, "--today", TODAY, "build")
    assert first.exit_code == second.exit_code == 1
    assert "the build found errors" in second.stderr and second.stderr == first.stderr
    assert (demo_root / "site" / RECORD).is_file() and " 0 written" in second.stdout


# --- the saved plan's parts, and the program's exit ----------------------------------------


def plan_files(out: Path) -> dict[str, str]:
    """Part name → the file holding it (as plan.json names them)."""
    return json.loads((out / ".tipscale" / "plan.json").read_text(encoding="utf-8"))["files"]


def test_a_rebuild_writes_again_only_the_parts_of_the_plan_that_changed(demo_root, cli):
    out = demo_root / "site"
    assert cli(demo_root, "--today", TODAY, "build").exit_code == 0
    before = plan_files(out)
    path = demo_root / "contacts" / "grace-liu.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more line of notes.\n", encoding="utf-8")
    assert cli(demo_root, "--today", TODAY, "build").exit_code == 0
    after = plan_files(out)
    rewritten = {name for name in before if before[name] != after[name]}
    assert "versions" in rewritten and "row_keys" in rewritten  # the file's stamp is in both
    assert "profiles" not in rewritten and "histories" not in rewritten and "tags" not in rewritten
    # The parts no longer named are gone; those named are there.
    kept = {p.name for p in (out / ".tipscale").glob("plan-*")}
    assert kept == set(after.values())


@pytest.mark.parametrize("damage", ["missing", "corrupt", "truncated", "wrong shape", "renamed outside"])
def test_a_damaged_part_of_the_plan_means_a_full_plan_not_an_error(demo_root, tmp_path, cli, damage):
    out = demo_root / "site"
    assert cli(demo_root, "--today", TODAY, "build").exit_code == 0
    files = plan_files(out)
    part = out / ".tipscale" / files["profiles"]
    if damage == "missing":
        part.unlink()
    elif damage == "corrupt":
        part.write_text("{not json", encoding="utf-8")
    elif damage == "truncated":
        part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    elif damage == "wrong shape":  # plain values, not the part's (a name that is a number): the hash tells
        profiles = {slug: marshal.loads(packed) for slug, packed in marshal.loads(part.read_bytes()).items()}
        part.write_bytes(marshal.dumps({slug: marshal.dumps((1, tags, company))
                                        for slug, (_, tags, company) in profiles.items()}))  # fmt: skip
    else:
        plan = out / ".tipscale" / "plan.json"
        plan.write_text(plan.read_text(encoding="utf-8").replace(files["profiles"], "../../crm.yaml"))
    path = demo_root / "contacts" / "grace-liu.md"
    path.write_text(path.read_text(encoding="utf-8").replace("VP of Engineering", "CTO"), encoding="utf-8")
    result = cli(demo_root, "--today", TODAY, "build")
    assert result.exit_code == 0 and "CTO" in (out / "contacts" / "grace-liu.html").read_text(encoding="utf-8")
    clean = tmp_path / "clean"
    assert cli(demo_root, "--today", TODAY, "build", "--clean", "--out", str(clean)).exit_code == 0
    assert tree(out) == tree(clean)


def crm_program(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed `crm` program itself (its entry point ends the process as soon as done)."""
    program = Path(sys.executable).parent / "crm"
    env = {**os.environ, "NO_COLOR": "1", "CRM_TODAY": TODAY}
    return subprocess.run([str(program), *args], capture_output=True, text=True, env=env, cwd=cwd)


def test_the_program_flushes_its_output_and_keeps_exit_codes(demo_root, tmp_path):
    done = crm_program("followups", "--format", "json", "--all", cwd=demo_root)
    assert done.returncode == 0 and json.loads(done.stdout)["followups"]  # all of it, flushed
    broken = demo_root / "contacts" / "broken.md"
    broken.write_text("---\nname: [\n---\n", encoding="utf-8")
    done = crm_program("check", cwd=demo_root)
    assert done.returncode == 1 and "contacts/broken.md" in done.stderr
    done = crm_program("--root", str(tmp_path / "nowhere"), "check", cwd=demo_root)
    assert done.returncode == 2 and "does not exist" in done.stderr
    done = crm_program("--version", cwd=demo_root)
    assert done.returncode == 0 and done.stdout.startswith("crm (Tipscale)")


def test_the_program_has_saved_its_plan_and_parse_cache_when_it_returns(demo_root, tmp_path):
    """When `crm build` returns, the next run finds both complete (and the program's own exit
    path, which ends the process at once, loses nothing)."""
    from generator.cachefile import CACHE_DIR, shard_of

    out = demo_root / "site"
    assert crm_program("build", cwd=demo_root).returncode == 0
    # a full build saves the parse cache while its pages are made (SiteBuilder.meanwhile): whole
    cached = {}
    for shard in (demo_root / CACHE_DIR).glob("index-*.bin"):
        cached.update(marshal.loads(shard.read_bytes())["files"])
    assert sorted(cached) == sorted(p.relative_to(demo_root).as_posix() for p in demo_root.glob("contacts/*.md"))
    path = demo_root / "contacts" / "grace-liu.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more line of notes.\n", encoding="utf-8")
    done = crm_program("build", cwd=demo_root)
    assert done.returncode == 0 and ", 2 written," in done.stdout, done.stdout  # the saved plan was used
    head = json.loads((out / ".tipscale" / "plan.json").read_text(encoding="utf-8"))
    manifest = marshal.loads((out / ".tipscale" / "manifest.bin").read_bytes())
    assert head["build"] == manifest["meta"]["site_key"]
    assert all((out / ".tipscale" / name).is_file() for name in head["files"].values())
    rel = "contacts/grace-liu.md"
    index = marshal.loads((demo_root / CACHE_DIR / f"index-{shard_of(rel):02d}.bin").read_bytes())
    info = path.stat()
    assert index["files"][rel][0] == (info.st_size, info.st_mtime_ns, info.st_ino)
    clean = tmp_path / "clean"
    assert crm_program("build", "--clean", "--out", str(clean), cwd=demo_root).returncode == 0
    assert tree(out) == tree(clean)


# --- found in review -------------------------------------------------------------------------


@pytest.mark.parametrize("linked", ["notes", "static", "partials"])
def test_templates_through_a_linked_folder_are_inputs_too(demo_root, tmp_path, cli, linked):
    """A folder inside templates/ may be a symbolic link (shared note templates, assets, or
    partials a page template includes): the loaders follow it, so the fingerprint and the
    build's own digest do too."""
    from generator.paths import builtin_templates

    shared = tmp_path / "shared"
    shared.mkdir()
    templates = demo_root / "templates"
    templates.mkdir()
    if linked == "notes":
        target, page, before, after = shared / "networking.md.j2", None, "Hi QQQ1", "Hi QQQ2"
        target.write_text("Subject: Hello\n\n{{ first_name }}, " + before + "\n")
    elif linked == "static":
        target, page, before, after = shared / "style.css", "static/style.css", "/* QQQ1 */", "/* QQQ2 */"
        target.write_text((builtin_templates() / "static" / "style.css").read_text() + before)
    else:
        target, page, before, after = shared / "footer.html.j2", "index.html", "QQQ1", "QQQ2"
        target.write_text("<p>" + before + "</p>")
        base = (builtin_templates() / "base.html.j2").read_text()
        (templates / "base.html.j2").write_text(base.replace("</main>", "{% include 'partials/footer.html.j2' %}</main>"))
    (templates / linked).symlink_to(shared, target_is_directory=True)
    settle(demo_root)
    os.utime(target, ns=(time.time_ns() - 10_000_000_000,) * 2)
    assert cli(demo_root, "--today", TODAY, "build").exit_code == 0
    assert (demo_root / "site" / RECORD).is_file()
    site_text = b"".join(tree(demo_root / "site").values()).decode("utf-8", "replace")
    assert before in site_text and after not in site_text
    target.write_text(target.read_text().replace(before, after))
    result = cli(demo_root, "--today", TODAY, "build")
    assert " 0 written" not in result.output
    if page is not None:
        assert after in (demo_root / "site" / page).read_text()
    site_text = b"".join(tree(demo_root / "site").values()).decode("utf-8", "replace")
    assert after in site_text and before not in site_text


def test_an_up_to_date_build_needs_no_writable_state_folder(demo_root, cli):
    """The record only saves time: failing to write it is no error."""
    settle(demo_root)
    assert cli(demo_root, "--today", TODAY, "build").exit_code == 0
    (demo_root / "site" / RECORD).unlink()
    state = demo_root / "site" / ".tipscale"
    state.chmod(0o555)
    try:
        if os.access(state, os.W_OK):  # root ignores the mode: make the record a folder instead
            state.chmod(0o755)
            (state / "quick.json").mkdir()
        result = cli(demo_root, "--today", TODAY, "build")
        assert result.exit_code == 0, result.output
        assert " 0 written" in result.output and "Error" not in result.output
    finally:
        state.chmod(0o755)


def test_a_file_that_vanishes_during_a_build_is_not_an_error_nor_remembered(demo_root, cli, monkeypatch):
    """Between the walk of contacts/ and reading a file, an editor may rename it away (and back):
    the build goes on without it, and no "cannot read" result stays in the cache."""
    from generator import quick

    path = demo_root / "contacts" / "grace-liu.md"
    aside = demo_root / "grace-liu.md~"
    real = quick.fingerprint

    def fingerprint_then_move(*args, **kwargs):
        found = real(*args, **kwargs)
        path.rename(aside)
        return found

    monkeypatch.setattr(quick, "fingerprint", fingerprint_then_move)
    result = cli(demo_root, "--today", TODAY, "build")
    assert result.exit_code == 0, result.output
    assert not (demo_root / "site" / "contacts" / "grace-liu.html").exists()
    monkeypatch.setattr(quick, "fingerprint", real)
    aside.rename(path)  # back, with the same stamp
    assert cli(demo_root, "check").exit_code == 0
    result = cli(demo_root, "--today", TODAY, "build")
    assert result.exit_code == 0 and (demo_root / "site" / "contacts" / "grace-liu.html").is_file()


def test_a_reader_that_stops_early_gets_no_error(tmp_path):
    """`crm followups --all | head -1`: the pipe closes under a long listing; no message."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from generate import generate

    root = tmp_path / "crm"
    generate(root, 600, 3)
    program = Path(sys.executable).parent / "crm"
    env = {**os.environ, "NO_COLOR": "1", "CRM_TODAY": TODAY}
    proc = subprocess.Popen(
        [str(program), "--root", str(root), "followups", "--all"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # as `head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0 and first and err == ""


def test_a_file_name_that_is_not_utf8_is_an_error_naming_it(demo_root, cli):
    bad = os.fsencode(demo_root / "contacts") + b"/jos\xe9.md"
    with open(bad, "wb") as handle:
        handle.write(b"---\nname: Jose\n---\n")
    result = cli(demo_root, "--today", TODAY, "build")
    assert result.exit_code == 1
    assert "the file name is not valid UTF-8" in result.stderr and "Traceback" not in result.output
    assert (demo_root / "site" / "contacts" / "grace-liu.html").is_file()
    assert cli(demo_root, "check").exit_code == 1


# --- what the child process finds for the build ---------------------------------------------


def child_finds(root: Path, out: Path, survey: bool = True) -> tuple[Any, int | None, Any]:
    """Both parts of what `crm build`'s child finds (quick.take), unpacked: (the fingerprint,
    the files' part of the site key, whether every page is there)."""
    from generator import quick

    packed, (files_key, there) = quick.take(root, out, None, survey=survey)
    return quick.unpack(packed, root), files_key, there


def test_the_files_part_of_the_site_key_found_by_the_child_is_the_builders_own(demo_root, tmp_path):
    """`crm build` takes the sum of every file's part of the site key from its child process
    (quick.take) when the load checked every file against the child's stamps: the key it names
    the build by is the one a builder computes itself."""
    from generator.contactcache import ContactCache
    from generator.load import load

    found, found_key, _ = child_finds(demo_root, demo_root / "site")
    assert found_key is not None

    def site_key(files_key: int | None) -> str:
        cache = ContactCache(persist=demo_root)
        cache.prime(found.walk, found.stamps)
        builder = SiteBuilder(demo_root, tmp_path / "out", today=dt.date.fromisoformat(TODAY))
        builder.cache = cache
        builder.preloaded = load(demo_root, cache)
        assert builder.preloaded.stamps is found.stamps
        if files_key is not None:
            builder.preloaded_files_key = (found.stamps, files_key)
        builder.build(clean=True)
        return marshal.loads((tmp_path / "out" / ".tipscale" / "manifest.bin").read_bytes())["meta"]["site_key"]

    own = site_key(None)
    assert site_key(found_key) == own
    assert site_key(found_key + 1) != own  # (so the sum given is the one used)


def test_the_child_sums_the_files_key_only_when_a_build_may_follow(demo_root):
    """With the last build's record naming this very fingerprint (nothing to build, most
    likely), the child spares the sum; otherwise it is every file's `file_key`."""
    from generator import quick

    settle(demo_root)
    out = demo_root / "site"
    SiteBuilder(demo_root, out, today=dt.date.fromisoformat(TODAY)).build()
    found, files_key, _ = child_finds(demo_root, out)
    stamps = found.stamps
    assert files_key == sum(quick.file_key(rel, stamp) for rel, stamp in stamps.items()) and len(stamps) == 12
    quick.save(out, found, {"pages": 1, "problems": [], "error_files": []})
    assert (out / RECORD).is_file()
    assert child_finds(demo_root, out)[1] is None


def test_the_child_says_whether_every_page_is_there_and_is_believed_only_for_the_same_manifest(demo_root):
    """The child process looks for every page the manifest lists (tens of milliseconds at
    10,000 contacts, spent beside the parent's imports); the parent takes that answer only for
    the manifest it read itself, and looks again otherwise."""
    from generator import quick

    out = demo_root / "site"
    SiteBuilder(demo_root, out, today=dt.date.fromisoformat(TODAY)).build()
    seen = quick.survey(out)
    assert seen.complete is None
    there = child_finds(demo_root, out)[2]
    assert there is not None and there[1] is True
    assert quick.settle(seen, out, there).complete is True
    page = out / "contacts" / "grace-liu.html"
    page.unlink()
    there = child_finds(demo_root, out)[2]
    assert there is not None and there[1] is False
    assert quick.settle(seen, out, there).complete is False
    # an answer about another manifest is not taken: the parent looks itself
    assert quick.settle(seen, out, ((1, 2, 3), True)).complete is False
    assert quick.settle(seen, out, None).complete is False
    assert child_finds(demo_root, out, survey=False)[2] is None
    # and the build that follows puts the page back
    assert crm_program("build", cwd=demo_root).returncode == 0
    assert page.is_file()


def test_build_site_is_one_call_that_reports_the_files_in_error_and_answers_again(crm_root):
    """`build_site`, the command line's way into a build: a first call builds and names the file
    with errors; a second, with nothing changed, gives the same answer without writing."""
    from generator.build import build_site

    root = crm_root({
        "contacts/jane.md": "---\nname: Jane Doe\nemail: jane@example.com\n---\nNotes.\n",
        "contacts/bad.md": "---\nname: Bad\ninteractions:\n  - date: 2026-13-40\n    type: coffee\n---\n",
    })  # fmt: skip
    settle(root)
    today = dt.date.fromisoformat(TODAY)
    first = build_site(root, root / "site", today=today)
    assert first.pages > 3 and first.written == first.pages and first.error_files == ["contacts/bad.md"]
    assert (root / "site" / "contacts" / "jane.html").is_file() and (root / "site" / "contacts" / "bad.html").is_file()
    again = build_site(root, root / "site", today=today)
    assert (again.written, again.skipped, again.removed) == (0, first.pages, 0)
    assert again.error_files == ["contacts/bad.md"] and again.problems == first.problems
    assert json.loads((root / "site" / RECORD).read_text(encoding="utf-8"))  # the record it answered from
    clean = build_site(root, root / "other", today=today, clean=True)
    assert tree(root / "other") == tree(root / "site") and clean.written == first.pages
