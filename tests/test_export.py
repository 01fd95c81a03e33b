"""`crm export vcard`: vCard 3.0 that vobject parses, folded and escaped, and that imports back
into Tipscale unchanged."""

from __future__ import annotations

from pathlib import Path

import vobject

from generator.load import load

WEIRD = """\
---
name: Zoë "Zed" O'Brien-Łukasz
email: [zed@example.com, "z.obrien@example.org"]
phone: ["+1 555 0100", "+49 30 1234567"]
company: Acme; Sons, Ltd.
title: Head of Things\\Stuff
location: Kraków, Poland
tags: [a,b, "semi;colon", "comma, tag", ünïcode]
links:
  linkedin: https://www.linkedin.com/in/zed-obrien
  blog: https://zed.example/blog?x=1,2;y
department: R&D; Labs
how_we_met: Conference, 2025; hallway
---
# Notes

Line one with a backslash \\ and a comma, and a semicolon;
Line two — with a very long sentence that certainly goes beyond seventy-five octets, so it must be folded.

- 山田 太郎 knows her
"""


def export(cli, root: Path) -> str:
    result = cli(root, "export", "vcard")
    assert result.exit_code == 0, result.stderr
    return result.stdout_bytes.decode("utf-8")


def contacts_by_name(root: Path) -> dict:
    loaded = load(root)
    assert not loaded.errors, loaded.errors
    return {c.name: c for c in loaded.contacts}


def comparable(contact) -> tuple:
    return (
        contact.name, contact.emails, contact.phones, contact.company, contact.title, contact.location,
        tuple(sorted(contact.tags)), dict(contact.links), contact.how_we_met, dict(contact.extra).get("department"),
        contact.body.strip(),
    )  # fmt: skip


def test_demo_export_is_valid_vcard_30(cli, demo_root):
    text = export(cli, demo_root)
    raw = text.encode("utf-8")
    assert raw.count(b"BEGIN:VCARD") == 12
    lines = raw.split(b"\r\n")
    assert lines[-1] == b""  # CRLF after the last line
    assert b"\n" not in raw.replace(b"\r\n", b"")  # no bare LF
    assert all(len(line) <= 75 for line in lines)
    cards = list(vobject.readComponents(text))
    assert len(cards) == 12
    priya = next(c for c in cards if c.fn.value == "Priya Raman")
    assert priya.version.value == "3.0"
    assert priya.n.value.family == "Raman" and priya.n.value.given == "Priya"
    assert priya.email.value == "priya.raman@northwind.example"
    assert priya.tel.value == "+1 555 0142"
    assert priya.org.value == ["Northwind Labs"]
    assert priya.title.value == "Engineering Manager, Platform"
    assert priya.categories.value == ["northwind", "hiring-manager"]
    assert priya.note.value.startswith("# Notes\n\nPriya leads the **Platform** team")
    urls = {u.group: u.value for u in priya.contents["url"]}
    labels = {label.group: label.value for label in priya.contents["x-ablabel"]}
    assert {labels[g]: urls[g] for g in urls} == {
        "linkedin": "https://www.linkedin.com/in/priya-raman-example",
        "github": "https://github.com/priya-raman-example",
    }


def test_escaping_and_folding_survive_vobject(cli, crm_root):
    root = crm_root({"contacts/zed.md": WEIRD})
    text = export(cli, root)
    card = vobject.readOne(text)
    assert card.fn.value == 'Zoë "Zed" O\'Brien-Łukasz'
    assert [e.value for e in card.contents["email"]] == ["zed@example.com", "z.obrien@example.org"]
    assert card.org.value == ["Acme; Sons, Ltd.", "R&D; Labs"]
    assert card.title.value == "Head of Things\\Stuff"
    assert card.adr.value.city == "Kraków, Poland"
    assert card.categories.value == ["a", "b", "semi;colon", "comma, tag", "ünïcode"]
    assert card.note.value == WEIRD.split("---\n")[2].strip()
    assert card.contents["x-tipscale-how-we-met"][0].value == "Conference, 2025; hallway"
    for line in text.encode("utf-8").split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # never folded inside a character


def test_export_imports_back_unchanged(cli, demo_root, crm_root, tmp_path):
    (demo_root / "contacts" / "zed.md").write_text(WEIRD, encoding="utf-8")
    out = tmp_path / "all.vcf"
    result = cli(demo_root, "export", "vcard", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert "Wrote 13 contacts" in result.stderr
    assert out.read_bytes() == export(cli, demo_root).encode("utf-8")
    # into the same CRM: everything matches, nothing changes
    before = {p: p.read_bytes() for p in (demo_root / "contacts").rglob("*.md")}
    again = cli(demo_root, "import", "vcard", str(out))
    assert again.exit_code == 0, again.stderr
    assert "0 created, 0 merged, 13 unchanged, 0 conflicts, 0 skipped" in again.stdout
    assert {p: p.read_bytes() for p in (demo_root / "contacts").rglob("*.md")} == before
    # into an empty CRM: the same contacts come out
    fresh = crm_root()
    created = cli(fresh, "import", "vcard", str(out))
    assert created.exit_code == 0, created.stderr
    assert "13 created" in created.stdout
    assert cli(fresh, "check").exit_code == 0
    original = {name: comparable(c) for name, c in contacts_by_name(demo_root).items()}
    imported = {name: comparable(c) for name, c in contacts_by_name(fresh).items()}
    assert imported == original
    # and exporting the new CRM gives the same file
    cards = sorted(export(cli, fresh).split("BEGIN:VCARD"))
    assert cards == sorted(out.read_bytes().decode("utf-8").split("BEGIN:VCARD"))


def test_export_skips_invalid_files_and_exits_1(cli, crm_root):
    root = crm_root({
        "contacts/ok.md": "---\nname: Ok Person\n---\n",
        "contacts/broken.md": "---\nname: [\n---\n",
    })  # fmt: skip
    result = cli(root, "export", "vcard")
    assert result.exit_code == 1
    assert result.stdout.count("BEGIN:VCARD") == 1
    assert "contacts/broken.md" in result.stderr


def test_export_out_into_missing_folder(cli, crm_root, tmp_path):
    root = crm_root({"contacts/ok.md": "---\nname: Ok Person\n---\n"})
    result = cli(root, "export", "vcard", "--out", str(tmp_path / "nope" / "x.vcf"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: --out")
    assert cli(root, "export", "json").exit_code == 2
