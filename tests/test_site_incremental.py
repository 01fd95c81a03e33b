"""Rebuilds in one process (the server's) update the last plan instead of planning everything:
after any sequence of edits, the site must be byte-identical to a clean build."""

from __future__ import annotations

import datetime as dt
import json
import marshal
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator import followup_pages, paging, quick, render, siteupdate
from generator import ics as ics_module
from generator import plan as plan_module
from generator.contactcache import ContactCache
from generator.load import load
from generator.paths import contact_entries
from generator.site import SiteBuilder
from generator.sitemodel import Sorted, Stamps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from generate import generate  # noqa: E402

TODAY = dt.date(2026, 11, 25)


def tree(folder: Path) -> dict[str, bytes]:
    files = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}
    return {rel: path.read_bytes() for rel, path in files.items() if not rel.startswith(".tipscale/")}


def edit(path: Path, rng: random.Random, slugs: list[str]) -> str:
    """One random, realistic change to a contact file; returns what it did."""
    text = path.read_text(encoding="utf-8")
    head, _, body = text.partition("\n---\n")
    choice = rng.choice(["notes", "summary", "tag", "drop-tag", "company", "with", "link", "followed",
                         "break", "title", "meet", "meet", "unmeet"])  # fmt: skip
    if choice == "notes":
        body += f"\nAnother thought {rng.random():.6f}.\n"
    elif choice == "summary" and "summary:" in head:
        head = head.replace("summary:", f"summary: changed {rng.randint(0, 999)}", 1)
    elif choice == "tag":
        tag = rng.choice(["alumni", "brand-new-tag", "Mentor", "zeta"])
        head = re.sub(r"^tags: \[", f"tags: [{tag}, ", head, count=1, flags=re.M) if "\ntags: [" in head else (
            head + f"\ntags: [{tag}]")  # fmt: skip
    elif choice == "drop-tag":
        head = re.sub(r"^tags: .*$", "tags: []", head, count=1, flags=re.M)
    elif choice == "company":
        company = rng.choice(["Brand New Co", "Acme Corp", "Globex"])
        head = re.sub(r"^company: .*$", f"company: {company}", head, count=1, flags=re.M) if "\ncompany:" in head else (
            head + f"\ncompany: {company}")  # fmt: skip
    elif choice == "with" and "interactions:" in head:
        other = rng.choice(slugs)
        head = re.sub(r"^(    type: .*)$", rf"\1\n    with: [{other}]", head, count=1, flags=re.M) if "    with:" not in head else head
    elif choice == "link":
        body += f"\nSee [[{rng.choice(slugs)}]].\n"
    elif choice == "followed":
        head = re.sub(r"^    followed_up: .*\n", "", head, count=1, flags=re.M)
    elif choice == "break":
        head = head + "\nbroken: [\n"
    elif choice == "meet" and "\ninteractions:\n" in head:  # a recent interaction: the dashboard's list
        day = (TODAY - dt.timedelta(days=rng.randint(0, 4))).isoformat()
        head = head.replace("\ninteractions:\n", f"\ninteractions:\n  - date: {day}\n    type: coffee\n"
                            f"    summary: Met again {rng.randint(0, 99)}\n", 1)  # fmt: skip
    elif choice == "unmeet":  # drop the first interaction
        head = re.sub(r"^  - date: .*\n(?:    .*\n)*", "", head, count=1, flags=re.M)
    elif choice == "title":
        head = re.sub(r"^title: .*$", f"title: Title {rng.randint(0, 99)}", head, count=1, flags=re.M)
    path.write_text(head + "\n---\n" + body, encoding="utf-8")
    return choice




def cli_builder(root: Path, out: Path, primed: bool = False) -> SiteBuilder:
    """A builder as `crm build` makes one: fresh, reading the parse cache kept in the root; and,
    `primed`, given every contact file's stamp just taken (so its load may start from the last
    one's summary)."""
    builder = SiteBuilder(root, out, today=TODAY)
    builder.cache = ContactCache(persist=root)
    if primed:
        walk = list(contact_entries(root))
        builder.cache.prime(walk, {rel: quick.stamp(path) for path, rel in walk})
    return builder


@pytest.mark.parametrize(
    ("seed", "mode"),
    [(1, "hinted"), (2, "hinted"), (3, "server"), (4, "server"), (4, "cli"), (5, "cli"), (6, "primed"), (7, "primed")],
)
def test_rebuilds_after_random_edits_equal_clean_builds(tmp_path, monkeypatch, seed, mode):
    """`hinted`: one builder (the server's), told which files changed (as the server's watcher
    does), so it looks at those files only; `server`: not told; `cli`: a new builder for every
    build, which updates the plan the last run saved; `primed`: the same, given every file's
    stamp first, as `crm build` does (its load starts from the last one's summary). Even seeds:
    three cards a dashboard section and lists in pages of seven rows, so edits move follow-ups and
    contacts across the cap and across pages."""
    hinted = mode == "hinted"
    root = tmp_path / "crm"
    generate(root, 60, seed)
    capped = seed % 2 == 0
    if capped:
        monkeypatch.setattr(paging, "PAGE_ROWS", 7)
        with open(root / "crm.yaml", "a", encoding="utf-8") as handle:
            handle.write("dashboard: {per_section: 3}\n")
    out = root / "site"
    fresh = mode in ("cli", "primed")
    builder = cli_builder(root, out, mode == "primed") if fresh else SiteBuilder(root, out, today=TODAY)
    builder.build()
    if capped:
        assert {"contacts/_index-2.html", "followups/_overdue-2.html"} <= set(tree(out))
        assert "more overdue</a>" in (out / "index.html").read_text(encoding="utf-8")
    updated = []
    summarised = []
    real = SiteBuilder._incremental

    def spy(self, loaded, renderer):
        result = real(self, loaded, renderer)
        updated.append(result is not None)
        summarised.append(loaded.from_summary)
        return result

    monkeypatch.setattr(SiteBuilder, "_incremental", spy)
    rng = random.Random(seed)
    files = sorted((root / "contacts").glob("*.md"))
    slugs = [f.stem for f in files]
    broken: list[Path] = []
    for step in range(25):
        done = []
        touched: list[Path] = []
        for path in rng.sample(files, rng.choice([1, 1, 1, 2])):
            touched.append(path)
            original = path.read_text(encoding="utf-8")
            done.append(edit(path, rng, slugs))
            if done[-1] == "break":
                broken.append(path)
                path.with_suffix(".orig").write_text(original, encoding="utf-8")
        if broken and rng.random() < 0.5:  # fix a broken file again
            fixed = broken.pop()
            fixed.write_text(fixed.with_suffix(".orig").read_text(encoding="utf-8"), encoding="utf-8")
            touched.append(fixed)
        if fresh:
            builder = cli_builder(root, out, mode == "primed")
        builder.build(changed=[p.relative_to(root).as_posix() for p in touched] if hinted else None)
        clean = tmp_path / f"clean-{step}"
        SiteBuilder(root, clean, today=TODAY).build(clean=True)
        assert tree(out) == tree(clean), f"step {step}: {done}"
    assert sum(updated) >= 8, updated  # most rebuilds really took the update path
    if mode == "primed":  # and most loads started from the summary (not after a broken file)
        assert sum(summarised) >= 8, summarised


def test_renaming_a_contact_plans_everything_again(demo_root):
    builder = SiteBuilder(demo_root, demo_root / "site", today=TODAY)
    builder.build()
    path = demo_root / "contacts" / "kenji-watanabe.md"
    path.write_text(path.read_text().replace("name: Kenji Watanabe", "name: Kenji W."))
    assert builder._incremental(load(demo_root, builder.cache), builder._renderer()) is None


def test_a_build_told_what_changed_sees_new_deleted_and_moved_files(tmp_path):
    """The watcher's list of changed paths replaces the walk of contacts/ only while no file
    was added or removed; anything else (a new file, a deletion, a folder) walks again."""
    root = tmp_path / "crm"
    generate(root, 30, 5)
    out = root / "site"
    builder = SiteBuilder(root, out, today=TODAY)
    builder.build()
    files = sorted((root / "contacts").glob("*.md"))

    def check() -> None:
        clean = tmp_path / f"clean-{len(list(tmp_path.glob('clean-*')))}"
        SiteBuilder(root, clean, today=TODAY).build(clean=True)
        assert tree(out) == tree(clean)

    new = root / "contacts" / "zoe-new.md"
    new.write_text("---\nname: Zoe New\n---\nJust met.\n", encoding="utf-8")
    builder.build(changed=["contacts/zoe-new.md"])
    assert "Zoe New" in (out / "contacts" / "zoe-new.html").read_text(encoding="utf-8")
    check()
    files[0].unlink()
    builder.build(changed=[files[0].relative_to(root).as_posix()])
    assert not (out / "contacts" / f"{files[0].stem}.html").exists()
    check()
    (root / "contacts" / "sub").mkdir()
    files[1].rename(root / "contacts" / "sub" / files[1].name)
    builder.build(changed=["contacts/sub"])
    check()
    # a modified file is read again; one edited without telling the build is not looked at
    files[2].write_text(files[2].read_text(encoding="utf-8") + "\nSaid hello.\n", encoding="utf-8")
    files[3].write_text(files[3].read_text(encoding="utf-8") + "\nUnannounced.\n", encoding="utf-8")
    builder.build(changed=[files[2].relative_to(root).as_posix()])
    assert "Said hello." in (out / "contacts" / f"{files[2].stem}.html").read_text(encoding="utf-8")
    assert "Unannounced." not in (out / "contacts" / f"{files[3].stem}.html").read_text(encoding="utf-8")
    builder.build()  # without a list, every file is looked at
    assert "Unannounced." in (out / "contacts" / f"{files[3].stem}.html").read_text(encoding="utf-8")
    check()


def test_a_clean_build_still_removes_the_pages_of_deleted_contacts(tmp_path):
    root = tmp_path / "crm"
    generate(root, 20, 7)
    out = root / "site"
    SiteBuilder(root, out, today=TODAY).build()
    gone = sorted((root / "contacts").glob("*.md"))[0]
    assert (out / "contacts" / f"{gone.stem}.html").exists()
    gone.unlink()
    SiteBuilder(root, out, today=TODAY).build(clean=True)
    assert not (out / "contacts" / f"{gone.stem}.html").exists()
    clean = tmp_path / "fresh"
    SiteBuilder(root, clean, today=TODAY).build(clean=True)
    assert tree(out) == tree(clean)


def test_a_contact_file_that_cannot_be_read_is_an_error_in_every_kind_of_build(tmp_path, cli):
    """A link to nowhere among the contacts (a file the loader cannot read, with no parse-cache
    entry) is reported, and gets its error page, in a cold build, a build after an edit, a clean
    build and the server's rebuilds; never a traceback (a KeyError on its missing cache entry)."""
    root = tmp_path / "crm"
    generate(root, 30, 3)
    (root / "contacts" / "gone.md").symlink_to(root / "nowhere.md")
    files = sorted((root / "contacts").glob("[!g]*.md"))
    out = root / "site"
    for step in ("cold", "after an edit", "clean"):
        if step == "after an edit":
            files[0].write_text(files[0].read_text(encoding="utf-8") + "\nAn edit.\n", encoding="utf-8")
        result = cli(root, "--today", TODAY.isoformat(), "build", *(["--clean"] if step == "clean" else []))
        assert result.exit_code == 1, (step, result.output)
        assert "contacts/gone.md:1:1: error: cannot read the file" in result.stderr, step
        assert "gone.md" in (out / "contacts" / "gone.html").read_text(encoding="utf-8"), step
    server = SiteBuilder(root, out, today=TODAY)
    server.long_lived = True
    for text in ("", "\nA second edit.\n"):
        files[1].write_text(files[1].read_text(encoding="utf-8") + text, encoding="utf-8")
        report = server.build(changed=[files[1].relative_to(root).as_posix()] if text else None)
        assert [p.file for p in report.errors] == ["contacts/gone.md"]
    clean = tmp_path / "fresh"
    SiteBuilder(root, clean, today=TODAY).build(clean=True)
    assert tree(out) == tree(clean)


def test_a_long_lived_builder_saves_its_manifest_on_flush_and_a_crash_is_safe(tmp_path):
    """The server's builder keeps the manifest in memory; one left marked unsaved (a server
    killed before `flush`) is not trusted: the next run checks every page again."""
    root = tmp_path / "crm"
    generate(root, 20, 3)
    out = root / "site"
    SiteBuilder(root, out, today=TODAY).build()
    manifest = out / ".tipscale" / "manifest.bin"
    server = SiteBuilder(root, out, today=TODAY)
    server.long_lived = True
    server.build()
    files = sorted((root / "contacts").glob("*.md"))
    files[0].write_text(files[0].read_text(encoding="utf-8") + "\nFirst edit.\n", encoding="utf-8")
    server.build(changed=[files[0].relative_to(root).as_posix()])
    saved = manifest.read_bytes()
    assert marshal.loads(saved)["meta"]["unsaved"] is True
    files[0].write_text(files[0].read_text(encoding="utf-8") + "\nSecond edit.\n", encoding="utf-8")
    server.build(changed=[files[0].relative_to(root).as_posix()])
    assert manifest.read_bytes() == saved  # not rewritten after every save
    # "killed" here: no digest of that manifest is trusted, so even a page whose inputs did
    # not change is checked against its bytes again
    page = out / "contacts" / f"{files[1].stem}.html"
    good = page.read_bytes()
    page.write_text("tampered", encoding="utf-8")
    report = SiteBuilder(root, out, today=TODAY).build()
    assert report.written == 1 and page.read_bytes() == good
    assert "Second edit." in (out / "contacts" / f"{files[0].stem}.html").read_text(encoding="utf-8")
    server.flush()
    assert "unsaved" not in marshal.loads(manifest.read_bytes())["meta"]
    assert SiteBuilder(root, out, today=TODAY).build().written == 0


@pytest.mark.parametrize("start", ["built-in notes", "own notes"])
def test_a_long_lived_builder_drafts_with_the_note_templates_as_they_are_now(tmp_path, start):
    """The server's builder lives on: a note template edited, or a user's notes folder that
    appears while it runs, is what the next drafts are written with (found in review: its
    drafts were remembered whatever the templates became, and a new folder was never searched)."""
    from generator.paths import builtin_templates

    root = tmp_path / "crm"
    generate(root, 30, 2)
    notes = root / "templates" / "notes"
    if start == "own notes":
        shutil.copytree(builtin_templates() / "notes", notes)
    out = root / "site"
    server = SiteBuilder(root, out, today=TODAY)
    server.long_lived = True
    server.build()
    dashboard = (out / "index.html").read_text(encoding="utf-8")
    assert "Thank you" in dashboard and "ZZ-THANKS" not in dashboard
    notes.mkdir(parents=True, exist_ok=True)
    for source in sorted((builtin_templates() / "notes").glob("*.md.j2")):
        text = source.read_text(encoding="utf-8").replace("Thank you", "ZZ-THANKS")
        (notes / source.name).write_text(text, encoding="utf-8")
    server.build(changed=[p.relative_to(root).as_posix() for p in sorted(notes.iterdir())])
    dashboard = (out / "index.html").read_text(encoding="utf-8")
    assert "ZZ-THANKS" in dashboard and "Thank you" not in dashboard
    clean = tmp_path / "fresh"
    SiteBuilder(root, clean, today=TODAY).build(clean=True)
    assert tree(out) == tree(clean)
    # a file a note template includes, in a folder of its own, counts too
    (notes / "parts").mkdir()
    (notes / "parts" / "sign.txt").write_text("ZZ-SIGNED", encoding="utf-8")
    for template in sorted(notes.glob("*.md.j2")):
        text = template.read_text(encoding="utf-8")
        template.write_text(text.rstrip("\n") + '\n{% include "parts/sign.txt" %}\n', encoding="utf-8")
    server.build(changed=[p.relative_to(root).as_posix() for p in sorted(notes.glob("*.md.j2"))])
    assert "ZZ-SIGNED" in (out / "index.html").read_text(encoding="utf-8")
    (notes / "parts" / "sign.txt").write_text("ZZ-SIGNED-AGAIN", encoding="utf-8")
    server.build(changed=["templates/notes/parts/sign.txt"])
    assert "ZZ-SIGNED-AGAIN" in (out / "index.html").read_text(encoding="utf-8")
    SiteBuilder(root, clean, today=TODAY).build(clean=True)
    assert tree(out) == tree(clean)


def test_a_manifest_saved_as_json_by_an_earlier_version_still_names_the_pages_to_remove(tmp_path):
    """Sites built before the manifest moved to marshal: their JSON manifest is read once, so a
    page of a contact deleted since then is still removed, and then it is replaced."""
    root = tmp_path / "crm"
    generate(root, 12, 5)
    out = root / "site"
    SiteBuilder(root, out, today=TODAY).build()
    state = out / ".tipscale"
    doc = marshal.loads((state / "manifest.bin").read_bytes())
    (state / "manifest.json").write_text(json.dumps(doc), encoding="utf-8")  # as those versions wrote it
    (state / "manifest.bin").unlink()
    gone = sorted((root / "contacts").glob("*.md"))[0]
    gone.unlink()
    page = out / "contacts" / f"{gone.stem}.html"
    assert page.is_file()
    SiteBuilder(root, out, today=TODAY).build()
    assert not page.exists()
    assert not (state / "manifest.json").exists()
    assert f"contacts/{gone.stem}.html" not in marshal.loads((state / "manifest.bin").read_bytes())["pages"]


def test_kept_fragments_are_marshal_files_and_earlier_json_ones_are_removed(tmp_path):
    """The kept fragments (rows, search entries, cards, events) live in `NAME-NN.bin`; the
    JSON shards of earlier versions are removed by the next command-line run, and a damaged
    shard only means its fragments are made again: the site equals a clean build's."""
    root = tmp_path / "crm"
    generate(root, 30, 6)
    out = root / "site"
    cli_builder(root, out).build()
    state = out / ".tipscale"
    for name in ("rows", "search", "cards", "events"):
        shards = sorted(state.glob(f"{name}-*.bin"))
        assert shards and all(type(marshal.loads(p.read_bytes())["items"]) is dict for p in shards)
        (state / f"{name}-03.json").write_text('{"version": 1, "items": {}}', encoding="utf-8")
    for damage, shard in zip((b"", b"\x00garbage", marshal.dumps({"version": 1, "items": {"a": 1}})),
                             sorted(state.glob("rows-*.bin")), strict=False):  # fmt: skip
        shard.write_bytes(damage)
    path = sorted((root / "contacts").glob("*.md"))[0]
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    cli_builder(root, out).build()
    assert {p.name for p in state.glob("*.json")} == {"plan.json"}
    clean = tmp_path / "clean"
    SiteBuilder(root, clean, today=TODAY).build()
    assert tree(out) == tree(clean)


def test_a_damaged_manifest_means_every_page_is_checked_again(tmp_path):
    root = tmp_path / "crm"
    generate(root, 12, 5)
    out = root / "site"
    SiteBuilder(root, out, today=TODAY).build()
    manifest = out / ".tipscale" / "manifest.bin"
    page = sorted((out / "contacts").glob("*.html"))[0]
    good = page.read_bytes()
    page.write_text("tampered", encoding="utf-8")
    for damage in (manifest.read_bytes()[:100], b"\xff" * 40, marshal.dumps({"version": 1, "pages": {"a": 1}})):
        manifest.write_bytes(damage)
        report = SiteBuilder(root, out, today=TODAY).build()
        assert report.pages > 12 and page.read_bytes() == good
        page.write_text("tampered", encoding="utf-8")


def test_a_command_line_rebuild_updates_the_saved_plan_and_notices_missing_pages(tmp_path, monkeypatch):
    root = tmp_path / "crm"
    generate(root, 40, 11)
    out = root / "site"
    cli_builder(root, out).build()
    assert (out / ".tipscale" / "plan.json").is_file()
    files = sorted((root / "contacts").glob("*.md"))
    planned_in_full: list[bool] = []
    real = SiteBuilder._plan

    def spy(self, *args):
        planned_in_full.append(True)
        return real(self, *args)

    monkeypatch.setattr(SiteBuilder, "_plan", spy)
    files[0].write_text(files[0].read_text(encoding="utf-8") + "\nNew line.\n", encoding="utf-8")
    report = cli_builder(root, out).build()
    assert planned_in_full == [] and report.written >= 1  # the saved plan was updated
    # a page deleted by hand: the saved plan is not trusted, everything is planned again
    (out / "contacts" / f"{files[5].stem}.html").unlink()
    files[0].write_text(files[0].read_text(encoding="utf-8") + "\nOne more.\n", encoding="utf-8")
    cli_builder(root, out).build()
    assert planned_in_full == [True]
    clean = tmp_path / "clean"
    SiteBuilder(root, clean, today=TODAY).build(clean=True)
    assert tree(out) == tree(clean)
    # a plan that belongs to another build is ignored
    plan = out / ".tipscale" / "plan.json"
    plan.write_text(plan.read_text(encoding="utf-8").replace('"build":"', '"build":"x', 1), encoding="utf-8")
    files[0].write_text(files[0].read_text(encoding="utf-8") + "\nAnd another.\n", encoding="utf-8")
    planned_in_full.clear()
    cli_builder(root, out).build()
    assert planned_in_full == [True]


def test_the_saved_plan_reads_back_as_the_build_planned_it(tmp_path):
    """The plan's parts are kept with marshal in the shapes the plan uses: read back, each equals
    what the build had, follow-ups with their keys (a part that did not would mean a full plan
    on every run, silently)."""
    from generator.write import Writer

    root = tmp_path / "crm"
    generate(root, 60, 7)
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q"], ["add", "contacts"], [*identity, "commit", "-qm", "init"]):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    out = root / "site"
    builder = cli_builder(root, out)
    builder.build()
    previous = builder._previous
    assert previous is not None
    model = previous.model
    reader = cli_builder(root, out)
    reader.writer = Writer(out)
    restored = reader._read_plan(marshal.loads((out / ".tipscale" / "manifest.bin").read_bytes())["meta"]["site_key"])
    assert restored is not None
    assert dict(restored.followups) == model.followups and len(model.all_followups) > 20
    assert len(restored.followups) < len(model.all_followups)  # some contacts have several
    assert [f.uid_key for items in restored.followups.values() for f in items] == [
        f.key_text() for items in model.followups.values() for f in items
    ]
    assert Sorted.of(restored.followups) == model.all_followups  # in the same order
    for name in ("versions", "profiles", "resolved", "backlinks", "tags", "companies", "order", "histories", "names"):
        assert getattr(restored, name) == getattr(model, name), name
    assert any(model.backlinks.values()) and model.tags and model.histories
    assert restored.rate == model.rate and restored.key == previous.key
    assert restored.row_tokens == previous.row_tokens
    assert previous.shown is not None and previous.shown.cards  # the dashboard's cards, as shown
    assert followup_pages.Shown.from_plain(restored.shown) == previous.shown


def test_compiled_templates_kept_between_runs_follow_template_edits(tmp_path):
    root = tmp_path / "crm"
    generate(root, 5, 2)
    out = root / "site"
    cli_builder(root, out).build()
    builtin = Path(__file__).resolve().parent.parent / "templates" / "base.html.j2"
    (root / "templates").mkdir()
    override = root / "templates" / "base.html.j2"
    for brand in ("First Brand", "Second Brand"):
        override.write_text(builtin.read_text(encoding="utf-8").replace("<span>Tipscale</span>", f"<span>{brand}</span>"))
        cli_builder(root, out).build()
        assert f"<span>{brand}</span>" in (out / "index.html").read_text(encoding="utf-8")
    assert list((root / ".tipscale" / "jinja").rglob("*.cache"))  # compiled once, kept for the next run


@pytest.mark.parametrize("damage", ["gone", "a file", "unreadable entries"])
def test_a_compiled_templates_folder_that_cannot_be_used_only_means_compiling_again(tmp_path, damage):
    """`.tipscale/jinja/` is best effort: a folder that went away, cannot be written or holds
    entries that cannot be read never fails a build."""
    import shutil

    root = tmp_path / "crm"
    generate(root, 5, 2)
    cli_builder(root, tmp_path / "first").build()
    kept = root / ".tipscale" / "jinja"
    folders = [p for p in kept.iterdir() if p.is_dir()]
    assert folders and list(kept.rglob("*.cache"))
    builder = cli_builder(root, tmp_path / "second")
    builder._renderer()  # the environment and its cache folder exist before the damage
    for folder in folders:
        if damage == "gone":
            shutil.rmtree(folder)
        elif damage == "a file":
            shutil.rmtree(folder)
            folder.write_text("not a folder")
        else:
            for entry in folder.iterdir():
                entry.unlink()
                entry.mkdir()  # a folder where a compiled template should be: reading it fails
    report = builder.build()
    assert report.errors == [] and report.written > 0
    assert tree(tmp_path / "second") == tree(tmp_path / "first")


@pytest.mark.parametrize("mode", ["cli", "server"])
def test_a_notes_edit_rewrites_the_contact_page_and_one_search_part_only(demo_root, tmp_path, monkeypatch, mode):
    """Summary pages name their fragments by their bytes: new notes change no row, card or
    event, so the dashboard, the list and the feed are not even made again."""
    out = demo_root / "site"
    builder = cli_builder(demo_root, out)
    builder.build()
    made: list[str] = []
    real_page, real_calendar = render.Renderer.page, ics_module.calendar

    def page(self, name, context):
        made.append(name)
        return real_page(self, name, context)

    def calendar(*args, **kwargs):
        made.append("followups.ics")
        return real_calendar(*args, **kwargs)

    monkeypatch.setattr(render.Renderer, "page", page)
    monkeypatch.setattr(ics_module, "calendar", calendar)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and ".tipscale" not in p.parts}
    path = demo_root / "contacts" / "priya-raman.md"  # she has follow-ups on the dashboard and in the feed
    assert "priya-raman" in (out / "index.html").read_text(encoding="utf-8")
    path.write_text(path.read_text(encoding="utf-8") + "\nShe mentioned a new team.\n", encoding="utf-8")
    report = (cli_builder(demo_root, out) if mode == "cli" else builder).build()
    after = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and ".tipscale" not in p.parts}
    rewritten = sorted(p.relative_to(out).as_posix() for p in after if after[p] != before.get(p))
    assert rewritten[0] == "contacts/priya-raman.html" and len(rewritten) == 2, rewritten
    assert re.fullmatch(r"contacts/search-\d\d\.js", rewritten[1])
    assert report.written == 2
    assert "contact.html.j2" in made
    assert not {"dashboard.html.j2", "contacts.html.j2", "group.html.j2", "followups.html.j2", "followups.ics"} & set(made), made
    clean = tmp_path / "clean"
    SiteBuilder(demo_root, clean, today=TODAY).build(clean=True)
    assert tree(out) == tree(clean)


# --- cases a review found (each failed before its fix) ------------------------------------------


def equals_clean(root: Path, out: Path, tmp_path: Path) -> bool:
    clean = tmp_path / f"clean-{len(list(tmp_path.glob('clean-*')))}"
    SiteBuilder(root, clean, today=TODAY).build(clean=True)
    return tree(out) == tree(clean)


def test_a_failed_server_build_does_not_leave_the_follow_up_rate_wrong(tmp_path):
    root = tmp_path / "crm"
    generate(root, 30, 4)
    builtin = Path(__file__).resolve().parent.parent / "templates" / "contact.html.j2"
    (root / "templates").mkdir()
    (root / "templates" / "contact.html.j2").write_text(
        '{% if contact.title == "BOOM" %}{{ no_such_variable }}{% endif %}' + builtin.read_text(encoding="utf-8")
    )
    builder = SiteBuilder(root, root / "site", today=TODAY)
    builder.long_lived = True
    builder.build()
    x = root / "contacts" / "xavier-test.md"
    x.write_text("---\nname: Xavier Test\ntitle: Engineer\ninteractions:\n  - date: 2026-11-10\n    type: coffee\n"
                 "    summary: Chat\n    gained: tips\n    followed_up: 2026-11-11\n---\nhi\n")  # fmt: skip
    builder.build(changed=["contacts/xavier-test.md"])
    x.write_text(x.read_text().replace("    followed_up: 2026-11-11\n", "").replace("title: Engineer", "title: BOOM"))
    with pytest.raises(Exception, match="no_such_variable"):
        builder.build(changed=["contacts/xavier-test.md"])
    x.write_text(x.read_text().replace("title: BOOM", "title: Engineer"))
    builder.build()
    assert equals_clean(root, root / "site", tmp_path)


def test_git_history_of_a_file_that_comes_back_after_a_restored_plan(tmp_path):
    root = tmp_path / "crm"
    generate(root, 30, 3)
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q"], ["add", "contacts"], [*identity, "commit", "-qm", "init"]):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    contact = sorted((root / "contacts").glob("*.md"))[3]
    cli_builder(root, root / "site").build()
    contact.rename(tmp_path / "away.md")
    cli_builder(root, root / "site").build()
    (tmp_path / "away.md").rename(contact)
    cli_builder(root, root / "site").build()
    assert "Not committed yet" not in (root / "site" / "contacts" / f"{contact.stem}.html").read_text(encoding="utf-8")
    assert equals_clean(root, root / "site", tmp_path)


@pytest.mark.parametrize("mode", ["cli", "server"])
def test_tags_that_slug_the_same_list_a_contact_once(tmp_path, mode):
    root = tmp_path / "crm"
    generate(root, 20, 6)
    path = sorted((root / "contacts").glob("*.md"))[2]
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"^tags: .*$", "tags: [Design, design]", text, count=1, flags=re.M) if "\ntags:" in text
                    else text.replace("\n---\n", "\ntags: [Design, design]\n---\n", 1), encoding="utf-8")  # fmt: skip
    builder = cli_builder(root, root / "site")
    builder.build()
    page = (root / "site" / "tags" / "design.html").read_text(encoding="utf-8")
    assert page.count(f'data-slug="{path.stem}"') == 1
    path.write_text(path.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
    (cli_builder(root, root / "site") if mode == "cli" else builder).build()
    assert equals_clean(root, root / "site", tmp_path)


def test_a_contact_file_named_index_is_an_error_not_a_lost_contact_list(tmp_path, cli):
    root = tmp_path / "crm"
    generate(root, 10, 8)
    (root / "contacts" / "index.md").write_text("---\nname: Index Person\n---\nHi.\n", encoding="utf-8")
    result = cli(root, "build")
    assert result.exit_code == 1 and "contacts/index.md" in result.output and "rename the file" in result.output
    listing = (root / "site" / "contacts" / "index.html").read_text(encoding="utf-8")
    assert 'class="row"' in listing  # still the contact list
    other = sorted((root / "contacts").glob("*.md"))[1]
    other.write_text(other.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
    cli(root, "build")
    assert equals_clean(root, root / "site", tmp_path)


def test_a_corrupt_parse_cache_shard_is_ignored(tmp_path):
    root = tmp_path / "crm"
    generate(root, 20, 9)
    cli_builder(root, root / "site").build()
    for shard in sorted((root / ".tipscale").glob("contacts-*.bin")):
        doc = marshal.loads(shard.read_bytes())
        if doc["contacts"]:
            first_rel = next(iter(doc["contacts"]))
            doc["contacts"][first_rel] = (5, doc["contacts"][first_rel][1])  # not a stamp
            shard.write_bytes(marshal.dumps(doc))
            break
    (root / "site" / ".tipscale" / "plan.json").unlink()
    first = sorted((root / "contacts").glob("*.md"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\nx\n", encoding="utf-8")
    cli_builder(root, root / "site").build()
    assert equals_clean(root, root / "site", tmp_path)


def test_a_load_told_what_changed_patches_the_last_one_and_finds_the_same_problems(tmp_path, monkeypatch):
    import generator.load as load_module

    root = tmp_path / "crm"
    generate(root, 40, 12)
    cache = ContactCache()
    load(root, cache)
    patched: list[bool] = []
    real = load_module._update

    def spy(*args):
        result = real(*args)
        patched.append(result is not None)
        return result

    monkeypatch.setattr(load_module, "_update", spy)
    files = sorted((root / "contacts").glob("*.md"))
    edits = [
        (files[0], "\nSee [[nobody-at-all]] and [[Someone Unknown]].\n"),  # two warnings
        (files[1], ""),  # touched, same bytes
        (files[0], "\nAnd [[" + files[2].stem + "]].\n"),  # a link that resolves
    ]
    for path, extra in edits:
        path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
        hinted = load(root, cache, [path.relative_to(root).as_posix()])
        full = load(root, ContactCache())
        assert [p.format() for p in hinted.problems] == [p.format() for p in full.problems]
        assert [c.file for c in hinted.checked] == [c.file for c in full.checked]
        assert hinted.contacts == full.contacts and hinted.invalid == full.invalid
    assert patched == [True, True, True]
    # a file that turns invalid is more than a patch: loaded in full, and still the same
    files[3].write_text("---\nname: [\n---\n", encoding="utf-8")
    hinted = load(root, cache, [files[3].relative_to(root).as_posix()])
    assert patched[-1] is False
    assert [p.format() for p in hinted.problems] == [p.format() for p in load(root, ContactCache()).problems]


def test_an_update_keeps_every_fragment_in_use_and_forgets_only_old_ones(tmp_path):
    """An update names the kept fragments it made old (rows, search entries, cards, events of the
    contacts it planned again) instead of listing every one in use: afterwards every fragment a
    clean build keeps is there (none rendered again needlessly), and any other is one the last
    build had (old ones in files this run did not read wait for a full build). Three contacts
    leave and join the same company groups at once (each one's old group named after another)."""
    root = tmp_path / "crm"
    generate(root, 40, 13)
    out = root / "site"
    cli_builder(root, out).build()

    def kept(folder: Path) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for name in ("rows", "search", "cards", "events"):
            found[name] = set()
            for shard in (folder / ".tipscale").glob(f"{name}-*.bin"):
                found[name] |= set(marshal.loads(shard.read_bytes())["items"])
        return found

    before = kept(out)
    assert all(before.values())
    planned: list[bool] = []
    real = SiteBuilder._plan
    try:
        SiteBuilder._plan = lambda self, *args: planned.append(True) or real(self, *args)  # type: ignore[method-assign]
        for path in sorted((root / "contacts").glob("*.md"))[:3]:  # a new stamp: new keys for all four
            path.write_text(path.read_text(encoding="utf-8").replace("\ncompany:", "\ncompany: Renamed", 1)
                            + "\nMore notes.\n", encoding="utf-8")  # fmt: skip
        cli_builder(root, out).build()
    finally:
        SiteBuilder._plan = real  # type: ignore[method-assign]
    assert planned == []  # an update, not a full plan
    after = kept(out)
    assert all(after[name] != before[name] for name in after)
    clean = tmp_path / "clean"
    SiteBuilder(root, clean, today=TODAY).build(clean=True)
    in_use = kept(clean)
    for name in after:
        assert in_use[name] <= after[name], name
        assert after[name] - in_use[name] <= before[name], name
    assert equals_clean(root, out, tmp_path)


def test_a_restored_plan_makes_each_stamp_when_asked_as_a_full_plan_makes_them(tmp_path):
    """A restored plan's stamps (page digests use them) are made one at a time from its
    versions, when asked for; each one is the full plan's, a contact in a folder of its own too."""
    root = tmp_path / "crm"
    generate(root, 20, 8)
    moved = sorted((root / "contacts").glob("*.md"))[3]
    (root / "contacts" / "team").mkdir()
    moved.rename(root / "contacts" / "team" / moved.name)
    out = root / "site"
    full = cli_builder(root, out)
    full.build()
    expected = dict(full.stamps)
    assert f"contacts/team/{moved.name}:(" in expected[moved.stem]
    restored = cli_builder(root, out)
    restored.loaded = loaded = load(root, restored.cache)
    restored.manifest, restored.meta = restored.writer.load_manifest_all()
    previous = restored._restore_plan(loaded)
    assert previous is not None
    stamps = previous.model.stamps
    assert isinstance(stamps, Stamps) and len(stamps) == 0  # none made yet
    twin = stamps.copy()
    for slug in sorted(expected):
        assert stamps[slug] == expected[slug] and stamps.get(slug) == expected[slug]
    assert stamps.get("nobody", "") == "" and "nobody" not in stamps
    with pytest.raises(KeyError):
        stamps["nobody"]
    twin[moved.stem] = "changed"
    assert stamps[moved.stem] == expected[moved.stem]  # a copy changes alone
    assert twin[sorted(expected)[0]] == expected[sorted(expected)[0]]  # and still makes the others


@pytest.mark.parametrize("hinted", [True, False])
def test_the_server_shows_a_rename_that_changes_only_letter_case_on_the_pages_linking_there(tmp_path, hinted):
    """`[[links]]` resolve by lower-cased names, so such a rename keeps them; the pages that
    show the contact's name (back-links) must still change, and the server's page memo knows."""
    root = tmp_path / "crm"
    (root / "contacts").mkdir(parents=True)
    (root / "contacts" / "ann-lee.md").write_text("---\nname: Ann Lee\n---\nKnows [[bob-ray]].\n", encoding="utf-8")
    (root / "contacts" / "bob-ray.md").write_text("---\nname: Bob Ray\n---\nHi.\n", encoding="utf-8")
    out = root / "site"
    server = SiteBuilder(root, out, today=TODAY)
    server.long_lived = True
    server.build()
    assert "Ann Lee" in (out / "contacts" / "bob-ray.html").read_text(encoding="utf-8")
    (root / "contacts" / "ann-lee.md").write_text("---\nname: ANN LEE\n---\nKnows [[bob-ray]].\n", encoding="utf-8")
    server.build(changed=["contacts/ann-lee.md"] if hinted else None)
    assert "ANN LEE" in (out / "contacts" / "bob-ray.html").read_text(encoding="utf-8")
    clean = tmp_path / "clean"
    SiteBuilder(root, clean, today=TODAY).build()
    assert tree(out) == tree(clean)


@pytest.mark.parametrize("mode", ["cli", "server"])
def test_a_second_file_with_an_invalid_contacts_slug_shows_on_its_page_after_an_update(tmp_path, mode):
    """A copy of an invalid contact file in a folder of its own (the same slug, so never checked
    itself) changes no checked file's stamp: an update that meets it (another contact edited
    in the same build) plans in full, so the slug's page lists both files, as a clean build's."""
    root = tmp_path / "crm"
    (root / "contacts" / "team").mkdir(parents=True)
    broken = "---\nname: Ann Lee\nbroken: [\n---\nHello.\n"
    (root / "contacts" / "ann-lee.md").write_text(broken, encoding="utf-8")
    (root / "contacts" / "bob-ray.md").write_text("---\nname: Bob Ray\n---\nHi.\n", encoding="utf-8")
    out = root / "site"
    builder = cli_builder(root, out)
    builder.long_lived = mode == "server"
    builder.build()
    (root / "contacts" / "team" / "ann-lee.md").write_text(broken, encoding="utf-8")
    (root / "contacts" / "bob-ray.md").write_text("---\nname: Bob Ray\n---\nHi again.\n", encoding="utf-8")
    (builder if mode == "server" else cli_builder(root, out)).build()
    assert "contacts/team/ann-lee.md" in (out / "contacts" / "ann-lee.html").read_text(encoding="utf-8")
    clean = tmp_path / "clean"
    SiteBuilder(root, clean, today=TODAY).build()
    assert tree(out) == tree(clean)


def test_a_primed_update_takes_the_plans_file_stamps_from_the_load_summary(tmp_path, monkeypatch):
    """The plan saves the file stamps the load summary saved, the same bytes: an update after an
    edit takes them, and the files changed since, from the load instead of reading and comparing
    ten thousand stamps again; the site is still what a clean build makes."""
    root = tmp_path / "crm"
    generate(root, 40, 9)
    out = root / "site"
    cli_builder(root, out, primed=True).build()
    files = sorted((root / "contacts").glob("*.md"))
    read: list[str] = []
    real_read = plan_module.read_part

    def spy_read(writer, file):
        read.append(file)
        return real_read(writer, file)

    compared: list[int] = []
    real_compare = siteupdate.files_changed

    def spy_compare(versions, before):
        compared.append(len(versions))
        return real_compare(versions, before)

    monkeypatch.setattr(plan_module, "read_part", spy_read)
    monkeypatch.setattr(siteupdate, "files_changed", spy_compare)
    for step, path in enumerate([files[3], files[17], files[3]]):
        path.write_text(path.read_text(encoding="utf-8") + f"\nStep {step}.\n", encoding="utf-8")
        read.clear()
        builder = cli_builder(root, out, primed=True)
        report = builder.build()
        assert builder.loaded is not None and builder.loaded.from_summary
        assert report.written >= 1 and report.written < 10  # an update
        assert read and not any(f.startswith("plan-versions-") for f in read)
        stamps_file = [f for f in (out / ".tipscale").iterdir() if f.name.startswith("plan-versions-")]
        assert len(stamps_file) == 1
        assert marshal.loads(stamps_file[0].read_bytes()) == builder.loaded.stamps
        assert tree(out) == tree(_clean(root, tmp_path / f"clean-{step}"))
    assert compared == []


def _clean(root: Path, out: Path) -> Path:
    SiteBuilder(root, out, today=TODAY).build(clean=True)
    return out
