"""The parse cache in <root>/.tipscale/: faster, never different."""

from __future__ import annotations

import json
import marshal
import os

import pytest

from generator.cachefile import shard_of
from generator.checked import Checked, Reference
from generator.contactcache import ContactCache
from generator.load import load


def cache_index(root):
    """Every row of the parse cache's index (its 32 shards), by file."""
    rows = {}
    for shard in (root / ".tipscale").glob("index-*.bin"):
        rows.update(marshal.loads(shard.read_bytes())["files"])
    return rows


def problems_of(root):
    return [p.format() for p in load(root, ContactCache(persist=root)).problems]


def test_warm_run_equals_cold_run(demo_root, cli):
    (demo_root / "contacts" / "bad.md").write_text("---\nname: A\nemial: x\ninteractions:\n  - date: 2026-02-30\n    type: call\n---\n")
    cold = cli(demo_root, "check", "--format", "json")
    indexes = {p.name[6:8] for p in (demo_root / ".tipscale").glob("index-*.bin")}
    assert indexes and indexes == {p.name[9:11] for p in (demo_root / ".tipscale").glob("contacts-*.bin")}
    assert (demo_root / ".tipscale" / ".gitignore").read_text().endswith("*\n")
    warm = cli(demo_root, "check", "--format", "json")
    assert warm.stdout == cold.stdout and warm.exit_code == cold.exit_code == 1
    follow_cold = cli(demo_root, "followups", "--all", "--format", "json").stdout
    follow_warm = cli(demo_root, "followups", "--all", "--format", "json").stdout
    assert follow_cold == follow_warm
    assert json.loads(follow_warm)["followups"]


def test_edited_file_is_read_again(demo_root):
    first = load(demo_root, ContactCache(persist=demo_root))
    assert first.problems == []
    path = demo_root / "contacts" / "grace-liu.md"
    stat = path.stat()
    text = path.read_text().replace("name: Grace Liu", "name: NO")
    path.write_text(text)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime: size and inode still differ
    again = load(demo_root, ContactCache(persist=demo_root))
    assert [p.field for p in again.errors] == ["name"]


def test_deleted_file_leaves_the_cache(demo_root):
    load(demo_root, ContactCache(persist=demo_root))
    (demo_root / "contacts" / "grace-liu.md").unlink()
    loaded = load(demo_root, ContactCache(persist=demo_root))
    assert "grace-liu" not in loaded.by_slug()
    index = cache_index(demo_root)
    assert "contacts/grace-liu.md" not in index and "contacts/aisha-khan.md" in index


def test_settings_change_invalidates(demo_root):
    text = "---\nname: A\ninteractions:\n  - date: 2026-11-20\n    type: demo-day\n---\n"
    (demo_root / "contacts" / "a.md").write_text(text)
    assert len(problems_of(demo_root)) == 1
    with open(demo_root / "crm.yaml", "a") as handle:
        handle.write("types:\n  demo-day: {thank_you: 2}\n")
    assert problems_of(demo_root) == []


def test_corrupt_or_foreign_cache_is_ignored(demo_root):
    load(demo_root, ContactCache(persist=demo_root))
    folder = demo_root / ".tipscale"
    for shard in folder.glob("index-*.bin"):
        shard.write_text("{not json")
    assert problems_of(demo_root) == []
    for shard in folder.glob("contacts-*.bin"):
        shard.write_bytes(marshal.dumps({"key": "other", "contacts": {}}))
    loaded = load(demo_root, ContactCache(persist=demo_root))
    assert len(loaded.contacts) == 12
    assert loaded.contacts == load(demo_root, ContactCache()).contacts


@pytest.mark.parametrize("damaged", [None, 0, "", {}, [], ("x",)])
def test_an_index_row_with_damaged_problems_or_references_is_not_trusted(demo_root, damaged):
    """A row whose lists are not lists means its shard is read again, never "no problems"."""
    bad = "---\nname: Bad Date\ninteractions:\n  - date: 2026-13-40\n    type: coffee\n---\nSee [[ghost]].\n"
    (demo_root / "contacts" / "bad-date.md").write_text(bad)
    expected = problems_of(demo_root)
    assert any("error" in p for p in expected) and any("ghost" in p for p in expected)
    rel = "contacts/bad-date.md"
    shard = demo_root / ".tipscale" / f"index-{shard_of(rel):02d}.bin"
    doc = marshal.loads(shard.read_bytes())
    stamp, name, _, _ = doc["files"][rel]
    doc["files"][rel] = (stamp, name, damaged, damaged)
    shard.write_bytes(marshal.dumps(doc))
    assert problems_of(demo_root) == expected


@pytest.mark.parametrize("reference", [("ghost", 7, 5, "body"), ["ghost", 7, 5, "body", "link"], "ghost", None])
def test_an_index_row_with_a_damaged_reference_is_not_trusted(demo_root, reference):
    """References are read back as plain tuples (made `Reference`s only when wanted), so each one
    is checked for its shape when its shard is read: a damaged one means reading the shard's
    files again, not a crash later or a link never checked."""
    (demo_root / "contacts" / "links.md").write_text("---\nname: Links\n---\nSee [[ghost]] and [[grace-liu]].\n")
    expected = problems_of(demo_root)
    assert any("ghost" in p for p in expected)
    rel = "contacts/links.md"
    shard = demo_root / ".tipscale" / f"index-{shard_of(rel):02d}.bin"
    doc = marshal.loads(shard.read_bytes())
    stamp, name, problems, references = doc["files"][rel]
    assert len(references) == 2 and all(type(r) is tuple and len(r) == 5 for r in references)
    doc["files"][rel] = (stamp, name, problems, (references[0], reference))
    shard.write_bytes(marshal.dumps(doc))
    assert problems_of(demo_root) == expected


def test_references_read_back_from_the_cache_are_the_ones_checked(demo_root):
    (demo_root / "contacts" / "links.md").write_text("---\nname: Links\n---\nSee [[ghost]] and [[grace-liu]].\n")
    fresh = load(demo_root, ContactCache(persist=demo_root))
    again = load(demo_root, ContactCache(persist=demo_root))  # from the cache
    by_file = {item.file: item for item in fresh.checked}
    for item in again.checked:
        assert Checked.all_targets([item]) == {r.target for r in by_file[item.file].references}
        assert item.references == by_file[item.file].references
        assert all(type(r) is Reference for r in item.references)
    assert [p.format() for p in again.problems] == [p.format() for p in fresh.problems]
    assert any("ghost" in p.message for p in again.problems)


def test_cache_and_index_disagreeing_is_survived(demo_root):
    load(demo_root, ContactCache(persist=demo_root))
    folder = demo_root / ".tipscale"

    def tamper(rel, change):
        shard = folder / f"contacts-{shard_of(rel):02d}.bin"
        doc = marshal.loads(shard.read_bytes())
        change(doc["contacts"])
        shard.write_bytes(marshal.dumps(doc))

    tamper("contacts/grace-liu.md", lambda contacts: contacts.pop("contacts/grace-liu.md"))

    def stale(contacts):  # saved with another stamp than the index says: not trusted
        (size, *rest), record = contacts["contacts/hannah-berg.md"]
        changed = record.replace(b"Minneapolis", b"Stale-Towns")  # as long: still a valid record
        assert changed != record
        contacts["contacts/hannah-berg.md"] = ((size + 1, *rest), changed)

    tamper("contacts/hannah-berg.md", stale)
    cache = ContactCache(persist=demo_root)
    loaded = load(demo_root, cache)
    # a lazily decoded contact missing from its shard is re-read from its file
    assert "grace-liu" in loaded.by_slug()
    assert loaded.contacts == load(demo_root, ContactCache()).contacts
    assert loaded.by_slug()["hannah-berg"].location == "Minneapolis, MN"


def test_read_only_root_still_works(demo_root, cli):
    folder = demo_root / ".tipscale"
    folder.write_text("a file where the cache folder would go")
    result = cli(demo_root, "check")
    assert result.exit_code == 0


def test_saving_after_a_change_keeps_every_other_entry_exact(demo_root):
    load(demo_root, ContactCache(persist=demo_root))  # cold: writes the cache
    path = demo_root / "contacts" / "hannah-berg.md"
    path.write_text(path.read_text().replace("Minneapolis, MN", "St Paul, MN"))
    load(demo_root, ContactCache(persist=demo_root))  # warm: rewrites it, unchanged entries as read
    from_cache = load(demo_root, ContactCache(persist=demo_root))
    from_files = load(demo_root, ContactCache())
    assert from_cache.contacts == from_files.contacts
    assert from_cache.by_slug()["hannah-berg"].location == "St Paul, MN"


def test_one_changed_contact_rewrites_one_shard(demo_root):
    load(demo_root, ContactCache(persist=demo_root))
    folder = demo_root / ".tipscale"
    before = {p.name: p.stat().st_mtime_ns for p in folder.glob("contacts-*.bin")}
    assert len(before) > 3
    path = demo_root / "contacts" / "hannah-berg.md"
    path.write_text(path.read_text().replace("Minneapolis, MN", "St Paul, MN"))
    load(demo_root, ContactCache(persist=demo_root))
    after = {p.name: p.stat().st_mtime_ns for p in folder.glob("contacts-*.bin")}
    assert [name for name in after if after[name] != before.get(name)] == [
        f"contacts-{shard_of('contacts/hannah-berg.md'):02d}.bin"
    ]


def test_an_edit_rewrites_one_shard_of_the_index(demo_root):
    load(demo_root, ContactCache(persist=demo_root))
    folder = demo_root / ".tipscale"
    before = {p.name: p.stat().st_mtime_ns for p in folder.glob("*-*.*")}
    path = demo_root / "contacts" / "grace-liu.md"
    path.write_text(path.read_text() + "\nOne more line.\n")
    again = load(demo_root, ContactCache(persist=demo_root))
    after = {p.name: p.stat().st_mtime_ns for p in folder.glob("*-*.*")}
    rewritten = sorted(name for name in after if after[name] != before.get(name))
    number = f"{shard_of('contacts/grace-liu.md'):02d}"
    assert rewritten == [f"contacts-{number}.bin", f"index-{number}.bin"]
    assert cache_index(demo_root)["contacts/grace-liu.md"][0][0] == path.stat().st_size
    assert again.problems == [] and len(again.contacts) == 12


def test_a_decoded_contact_has_every_field_its_class_has(demo_root):
    """Contacts are decoded without their dataclasses' __init__ (cachefile.py): each object
    must still carry every field, equal to the contact read from its file."""
    import dataclasses

    from generator.cachefile import decode_contact, encode_contact

    for contact in load(demo_root, ContactCache()).contacts:
        back = decode_contact(encode_contact(contact))
        assert back == contact and hash(back) == hash(contact)
        for made in (back, *back.interactions, *back.reminders):
            assert set(vars(made)) == {f.name for f in dataclasses.fields(made)}, type(made)
    assert any(c.reminders for c in load(demo_root, ContactCache()).contacts)
