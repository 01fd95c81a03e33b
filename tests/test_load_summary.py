"""A command-line build after a few edits loads from the last full load's summary
(`.tipscale/load.bin`): it reads and checks only the files whose stamp changed. Whatever path a
load takes, it must find exactly what a full load of the same files finds."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import generator.load as load_module
from generator import cachefile, quick
from generator.contactcache import ContactCache
from generator.load import Loaded, load
from generator.loadsummary import Summary
from generator.paths import contact_entries

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from generate import generate  # noqa: E402


def primed_load(root: Path) -> Loaded:
    """A load as `crm build` makes it: a fresh persistent cache, primed with a walk of the
    contact files and every file's stamp taken just before."""
    walk = list(contact_entries(root))
    stamps = {rel: quick.stamp(path) for path, rel in walk}
    cache = ContactCache(persist=root)
    cache.prime(walk, stamps)
    return load(root, cache)


def same_as_full(loaded: Loaded, root: Path) -> None:
    """`loaded` holds what a load of the same files without any cache holds."""
    full = load(root, ContactCache())
    assert [p.format() for p in loaded.problems] == [p.format() for p in full.problems]
    assert loaded.invalid == full.invalid and loaded.files == full.files and loaded.count == full.count
    assert dict(loaded.sources()).keys() == dict(full.sources()).keys()
    assert {slug: c.contact for slug, c in loaded.sources().items()} == {slug: c.contact for slug, c in full.sources().items()}
    assert [(c.file, c.name, c.problems, c.references) for c in loaded.checked] == [
        (c.file, c.name, c.problems, c.references) for c in full.checked
    ]
    assert loaded.contacts == full.contacts


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "crm"
    generate(root, 80, 21)
    first = primed_load(root)  # a full load: it saves the summary
    assert not first.from_summary and (root / ".tipscale" / cachefile.SUMMARY).is_file()
    return root


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_edits_that_keep_names_are_loaded_from_the_summary_and_find_what_a_full_load_finds(root):
    files = sorted((root / "contacts").glob("*.md"))
    steps = [
        [(files[0], "\nSee [[nobody-at-all]] and [[Someone Unknown]].\n")],  # two warnings
        [(files[0], "\nAnd [[" + files[2].stem + "]].\n")],  # a link that resolves
        [(files[1], "\nMore notes.\n"), (files[5], "\nSee [[" + files[1].stem + "]].\n")],  # two files at once
        [],  # nothing changed
    ]
    for step in steps:
        for path, text in step:
            append(path, text)
        loaded = primed_load(root)
        assert loaded.from_summary
        same_as_full(loaded, root)
    warnings = [p.message for p in primed_load(root).problems if p.file == f"contacts/{files[0].name}"]
    assert any("[[nobody-at-all]]" in m for m in warnings) and any("[[Someone Unknown]]" in m for m in warnings)


def test_a_load_from_the_summary_reads_only_the_changed_files_shards(root, monkeypatch):
    path = sorted((root / "contacts").glob("*.md"))[3]
    append(path, "\nOne more line.\n")
    read: list[list[int]] = []
    real = cachefile.Store.read

    def spy(self, numbers=range(cachefile.SHARDS)):
        numbers = list(numbers)
        read.append(numbers)
        return real(self, numbers)

    monkeypatch.setattr(cachefile.Store, "read", spy)
    loaded = primed_load(root)
    assert loaded.from_summary
    assert read == [[cachefile.shard_of(f"contacts/{path.name}")]]
    loaded.checked  # noqa: B018 - every file wanted: the other shards are read then
    assert sorted(n for numbers in read for n in numbers) == list(range(cachefile.SHARDS))
    same_as_full(loaded, root)


@pytest.mark.parametrize(
    "change",
    ["invalid", "rename", "new-file", "removed-file", "check-in-between", "corrupt-summary", "settings", "fix-invalid"],
)
def test_changes_that_reach_further_load_in_full_and_stay_right(root, change):
    files = sorted((root / "contacts").glob("*.md"))
    target = files[4]
    if change == "invalid":
        target.write_text("---\nname: [\n---\n", encoding="utf-8")
    elif change == "rename":
        text = target.read_text(encoding="utf-8")
        name = next(line for line in text.splitlines() if line.startswith("name:"))
        target.write_text(text.replace(name, "name: Somebody Else Entirely", 1), encoding="utf-8")
    elif change == "new-file":
        (root / "contacts" / "zz-new.md").write_text("---\nname: Zed New\n---\nHello [[nobody]].\n", encoding="utf-8")
    elif change == "removed-file":
        target.unlink()
    elif change == "check-in-between":
        # `crm check` after the edit parses the file into the parse cache (without priming, so
        # the summary is not saved again): the entry is newer than the summary.
        append(target, "\nSee [[nobody-here]].\n")
        load(root, ContactCache(persist=root))
    elif change == "corrupt-summary":
        append(target, "\nA line.\n")
        (root / ".tipscale" / cachefile.SUMMARY).write_bytes(b"\x00garbage")
    elif change == "settings":
        append(target, "\nA line.\n")
        crm_yaml = root / "crm.yaml"
        crm_yaml.write_text(crm_yaml.read_text(encoding="utf-8").replace("upcoming_days: 7", "upcoming_days: 9"), encoding="utf-8")
    elif change == "fix-invalid":
        original = target.read_text(encoding="utf-8")
        target.write_text("---\nname: [\n---\n", encoding="utf-8")
        assert not primed_load(root).from_summary  # an invalid file: in full, and summarised again
        target.write_text(original, encoding="utf-8")
    loaded = primed_load(root)
    assert not loaded.from_summary
    same_as_full(loaded, root)
    append(files[6], "\nAfterwards.\n")  # the full load saved a summary of its own
    again = primed_load(root)
    assert again.from_summary
    same_as_full(again, root)


def test_many_changed_files_load_in_full(root):
    for path in sorted((root / "contacts").glob("*.md"))[: load_module.SUMMARY_LIMIT + 1]:
        append(path, "\nx\n")
    loaded = primed_load(root)
    assert not loaded.from_summary
    same_as_full(loaded, root)


def test_a_file_that_cannot_be_read_stays_an_error_in_a_load_from_the_summary(root):
    dangling = root / "contacts" / "gone-away.md"
    dangling.symlink_to(root / "nowhere.md")
    assert not primed_load(root).from_summary  # a new file
    append(sorted((root / "contacts").glob("*.md"))[0], "\nx\n")
    loaded = primed_load(root)
    assert loaded.from_summary
    assert [p.file for p in loaded.errors] == ["contacts/gone-away.md"]
    same_as_full(loaded, root)


def test_the_summary_is_only_written_by_a_load_that_stat_ed_every_file(root):
    summary = root / ".tipscale" / cachefile.SUMMARY
    before = summary.read_bytes()
    append(sorted((root / "contacts").glob("*.md"))[0], "\nx\n")
    load(root, ContactCache(persist=root))  # `crm check`: no stamps from a walk
    assert summary.read_bytes() == before
    primed_load(root)
    assert summary.read_bytes() != before


def test_a_contact_in_a_folder_of_its_own_is_found_by_a_load_from_the_summary(tmp_path):
    root = tmp_path / "crm"
    generate(root, 30, 5)
    files = sorted((root / "contacts").glob("*.md"))
    (root / "contacts" / "team").mkdir()
    moved = root / "contacts" / "team" / files[2].name
    files[2].rename(moved)
    primed_load(root)
    append(moved, "\nSee [[nobody-at-all]].\n")
    loaded = primed_load(root)
    assert loaded.from_summary
    assert loaded.sources()[moved.stem].file == f"contacts/team/{moved.name}"
    assert any(p.file == f"contacts/team/{moved.name}" for p in loaded.warnings)
    same_as_full(loaded, root)


def test_the_child_of_crm_build_finds_what_changed_since_the_summary(root):

    files = sorted((root / "contacts").glob("*.md"))
    walk = list(contact_entries(root))
    stamps = {rel: quick.stamp(path) for path, rel in walk}
    found = quick.summary_delta(root, stamps)
    assert found is not None and found[1] == []
    digest = found[0]
    before = {f"contacts/{p.name}": stamps[f"contacts/{p.name}"] for p in (files[7], files[2])}
    append(files[7], "\nx\n")
    append(files[2], "\ny\n")
    stamps = {rel: quick.stamp(path) for path, rel in contact_entries(root)}
    assert quick.summary_delta(root, stamps) == (digest, [(rel, before[rel]) for rel in stamps if rel in before])
    # another file set, too many changes, no summary: nothing to say
    assert quick.summary_delta(root, {**stamps, "contacts/new.md": (1, 2, 3)}) is None
    many = {rel: (0, 0, 0) for rel in stamps}
    assert quick.summary_delta(root, many) is None
    (root / ".tipscale" / cachefile.SUMMARY).write_bytes(b"garbage")
    assert quick.summary_delta(root, stamps) is None


def test_crm_build_after_an_edit_loads_from_the_summary_without_decoding_its_stamps(root, cli, monkeypatch, tmp_path):
    from generator.site import SiteBuilder

    cli(root, "build")
    path = sorted((root / "contacts").glob("*.md"))[9]
    append(path, "\nSee [[nobody-at-all]].\n")
    decoded: list[bool] = []
    stamps_of = Summary.stamps.fget

    def stamps(self):
        decoded.append(isinstance(self._stamps, bytes))  # as read: decoded now
        return stamps_of(self)

    monkeypatch.setattr(Summary, "stamps", property(stamps))
    summarised: list[bool] = []
    real = load_module._by_summary

    def spy(*args):
        result = real(*args)
        summarised.append(result is not None)
        return result

    monkeypatch.setattr(load_module, "_by_summary", spy)
    result = cli(root, "build", "--verbose")
    assert result.exit_code == 0, result.output
    assert "[[nobody-at-all]] links to no contact" in result.output
    assert summarised == [True] and not any(decoded)
    clean = tmp_path / "clean"
    SiteBuilder(root, clean).build(clean=True)
    built = {p.relative_to(root / "site").as_posix(): p.read_bytes() for p in (root / "site").rglob("*") if p.is_file() and ".tipscale" not in p.parts}
    expected = {p.relative_to(clean).as_posix(): p.read_bytes() for p in clean.rglob("*") if p.is_file() and ".tipscale" not in p.parts}
    assert built == expected
