"""`crm import`: creating, merging, conflicts, dry runs, idempotence, bad files, --commit, scale."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from generator.frontmatter import decode, split

DATA = Path(__file__).parent / "data" / "imports"
ALL = [
    ("linkedin", "linkedin_current.csv"),
    ("linkedin", "linkedin_old.csv"),
    ("linkedin", "linkedin_old_url.csv"),
    ("google", "google_current.csv"),
    ("google", "google_legacy.csv"),
    ("vcard", "vcard21.vcf"),
    ("vcard", "vcard30.vcf"),
    ("vcard", "vcard40.vcf"),
]

JANE = """\
---
# my own comment
name: Jane Doe
email: jane@acme.example   # work
title: Engineering Manager
tags: [friends]
---
Notes I wrote.
"""


def snapshot(root: Path) -> dict[str, bytes]:
    """Every user file (not git's, not the loader's cache in .tipscale/)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not {".git", ".tipscale"} & set(p.parts)
    }


def front(path: Path) -> dict:
    return yaml.safe_load(split(decode(path.read_bytes())).yaml_text)


def body(path: Path) -> str:
    return split(decode(path.read_bytes())).body


@pytest.mark.parametrize(("fmt", "name"), ALL)
def test_every_sample_imports_checks_and_is_idempotent(cli, crm_root, fmt, name):
    root = crm_root()
    first = cli(root, "import", fmt, str(DATA / name))
    assert first.exit_code == 0, first.stderr
    assert "created" in first.stdout
    assert cli(root, "check").exit_code == 0
    before = snapshot(root)
    second = cli(root, "import", fmt, str(DATA / name))
    assert second.exit_code == 0, second.stderr
    assert snapshot(root) == before  # not one byte changed
    assert "0 created, 0 merged" in second.stdout
    assert "create " not in second.stdout


def test_linkedin_import_creates_contacts(cli, crm_root):
    root = crm_root()
    result = cli(root, "import", "linkedin", str(DATA / "linkedin_current.csv"))
    assert result.exit_code == 0, result.stderr
    assert (
        "Imported linkedin_current.csv: 6 created, 0 merged, 0 unchanged, 0 conflicts, 1 skipped"
        in result.stdout
    )
    assert "skip      line 11: no name (has https://www.linkedin.com/in/anonymous-member)" in result.stdout
    priya = front(root / "contacts" / "priya-raman.md")
    assert priya["company"] == "Northwind Labs"
    assert priya["title"] == "Engineering Manager, Platform"
    assert priya["links"] == {"linkedin": "https://www.linkedin.com/in/priya-raman-example"}
    assert str(priya["connected_on"]) == "2025-12-07"
    assert front(root / "contacts" / "cher.md")["title"] == "Singer, Actor"
    assert front(root / "contacts" / "sofia-garcia-lopez.md")["name"] == "Sofia García López"


def test_merge_fills_missing_fields_only_and_reports_conflicts(cli, crm_root):
    root = crm_root({"contacts/jane.md": JANE})
    csv_text = (
        "First Name,Middle Name,Last Name,Organization Name,Organization Title,Labels,"
        "E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value,Website 1 - Label,Website 1 - Value,Notes\n"
        "Janet,,Doe,Acme Corp,Director,* myContacts ::: Job search,Work,JANE@acme.example,"
        "Mobile,+1 555 0100,Profile,https://www.linkedin.com/in/janedoe,Other notes\n"
    )
    export = root / "contacts.csv"
    export.write_text(csv_text, encoding="utf-8")
    result = cli(root, "import", "google", str(export))
    assert result.exit_code == 0, result.stderr
    text = (root / "contacts" / "jane.md").read_text(encoding="utf-8")
    assert text.startswith(JANE.split("tags:")[0])  # comments, order and values untouched
    data = front(root / "contacts" / "jane.md")
    assert data["title"] == "Engineering Manager"  # never overwritten
    assert data["company"] == "Acme Corp"  # missing: filled in
    assert data["phone"] == "+1 555 0100"
    assert data["tags"] == ["friends", "Job search"]
    assert data["links"] == {"linkedin": "https://www.linkedin.com/in/janedoe"}
    assert body(root / "contacts" / "jane.md") == "Notes I wrote.\n"
    out = result.stdout
    assert "merge     contacts/jane.md  Jane Doe: + phone, company, tags, links.linkedin (line 2)" in out
    assert "conflict  contacts/jane.md  name: yours 'Jane Doe', theirs 'Janet Doe'" in out
    assert "conflict  contacts/jane.md  title: yours 'Engineering Manager', theirs 'Director'" in out
    assert "conflict  contacts/jane.md  notes:" in out
    assert "1 merged" in out and "3 conflicts" in out
    assert cli(root, "check").exit_code == 0
    again = cli(root, "import", "google", str(export))
    assert "0 created, 0 merged, 1 unchanged, 3 conflicts" in again.stdout
    assert (root / "contacts" / "jane.md").read_text(encoding="utf-8") == text


def test_matching_by_email_then_linkedin_then_name(cli, crm_root):
    root = crm_root({
        "contacts/by-email.md": "---\nname: Someone Else\nemail: a@x.example\n---\n",
        "contacts/by-url.md": "---\nname: Other Name\nlinks: {linkedin: 'https://linkedin.com/in/bee/'}\n---\n",
        "contacts/by-name.md": "---\nname: cee SEE\n---\n",
    })  # fmt: skip
    export = root / "in.csv"
    export.write_text(
        "First Name,Last name,URL,Email Address,Company,Position,Connected On\n".replace("name", "Name")
        + "Aa,Aa,,a@x.example,A Co,,\n"
        + "Bee,Bee,https://www.linkedin.com/in/bee,,B Co,,\n"
        + "Cee,See,,,C Co,,\n",
        encoding="utf-8",
    )
    result = cli(root, "import", "linkedin", str(export))
    assert result.exit_code == 0, result.stderr
    assert front(root / "contacts" / "by-email.md")["company"] == "A Co"
    assert front(root / "contacts" / "by-url.md")["company"] == "B Co"
    assert front(root / "contacts" / "by-name.md")["company"] == "C Co"
    assert sorted(p.name for p in (root / "contacts").iterdir()) == ["by-email.md", "by-name.md", "by-url.md"]


def test_slugs_unique_against_files_and_within_the_import(cli, crm_root):
    root = crm_root({"contacts/old/john-smith.md": "---\nname: Johnny\n---\n"})
    export = root / "in.csv"
    export.write_text(
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        "John,Smith,https://www.linkedin.com/in/js1,,One,,\n"
        "John,Smith,https://www.linkedin.com/in/js2,,Two,,\n"
        "John,Smith,https://www.linkedin.com/in/js1,,,,\n",
        encoding="utf-8",
    )
    result = cli(root, "import", "linkedin", str(export))
    assert result.exit_code == 0, result.stderr
    assert front(root / "contacts" / "john-smith-2.md")["company"] == "One"
    assert front(root / "contacts" / "john-smith-3.md")["company"] == "Two"
    assert "2 created, 0 merged, 1 unchanged" in result.stdout
    assert cli(root, "check").exit_code == 0


def test_dry_run_writes_nothing(cli, crm_root):
    root = crm_root({"contacts/jane.md": JANE})
    before = snapshot(root)
    result = cli(root, "import", "vcard", str(DATA / "vcard30.vcf"), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "create    contacts/daniel-okafor.md  Daniel Okafor (line 1)" in result.stdout
    assert "Would import vcard30.vcf: 2 created" in result.stdout
    assert "Dry run: nothing was written." in result.stdout
    assert snapshot(root) == before
    assert not [p for p in (root / "contacts").iterdir() if p.name.startswith(".")]  # no lock files


def test_quiet_prints_only_the_summary_conflicts_and_skips(cli, crm_root):
    root = crm_root()
    result = cli(root, "import", "linkedin", str(DATA / "linkedin_current.csv"), "--quiet")
    assert result.exit_code == 0
    assert "create    " not in result.stdout
    assert "skip      line 11" in result.stdout
    assert result.stderr == ""


def test_the_same_person_twice_in_one_file_merges(cli, crm_root):
    root = crm_root()
    export = root / "two.vcf"
    export.write_text(
        "BEGIN:VCARD\nVERSION:3.0\nFN:Ann Lee\nEMAIL:ann@x.example\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nFN:Ann Lee\nEMAIL:ann@x.example\nTITLE:CTO\nNOTE:hi\nEND:VCARD\n",
        encoding="utf-8",
    )
    result = cli(root, "import", "vcard", str(export))
    assert "1 created, 1 merged" in result.stdout, result.stdout
    assert front(root / "contacts" / "ann-lee.md")["title"] == "CTO"
    assert body(root / "contacts" / "ann-lee.md") == "hi\n"


def test_invalid_contact_files_are_named_and_not_duplicated(cli, crm_root):
    root = crm_root({"contacts/grace-hopper.md": "---\nname: Grace Hopper\nemail: [\n---\n"})
    result = cli(root, "import", "linkedin", str(DATA / "linkedin_old.csv"))
    assert result.exit_code == 1
    assert "contacts/grace-hopper.md has errors" in result.stdout
    assert "grace-hopper.md" in result.stderr
    assert not (root / "contacts" / "grace-hopper-2.md").exists()
    assert (root / "contacts" / "alan-turing.md").exists()


# --- bad input files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "content", "message"),
    [
        ("linkedin", (DATA / "vcard30.vcf").read_bytes(), "not a LinkedIn Connections.csv"),
        ("linkedin", (DATA / "google_legacy.csv").read_bytes(), "try 'crm import google'"),
        ("google", (DATA / "linkedin_current.csv").read_bytes(), "try 'crm import linkedin'"),
        ("google", b"Date,Description,Amount\n2026-01-01,Coffee,3.50\n", "not a Google Contacts CSV"),
        ("vcard", (DATA / "linkedin_old.csv").read_bytes(), "does not start with BEGIN:VCARD"),
        ("linkedin", bytes(range(256)) * 40, "binary file"),
        ("google", b"", "the file is empty"),
        ("vcard", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(300), "binary file"),
        (
            "linkedin",
            b'First Name,Last Name,Company\nA,B,C\n"Unclosed,quote\n',
            "bad.file:3: broken CSV: a quoted",
        ),
    ],
)
def test_bad_files_fail_cleanly_and_write_nothing(cli, crm_root, fmt, content, message):
    root = crm_root({"contacts/jane.md": JANE})
    bad = root / "bad.file"
    bad.write_bytes(content)
    before = snapshot(root)
    result = cli(root, "import", fmt, str(bad))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr
    assert "nothing was imported" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert snapshot(root) == before


def test_broken_csv_row_names_its_line(cli, crm_root):
    root = crm_root()
    bad = root / "bad.csv"
    bad.write_bytes(b'First Name,Last Name,Company,Position\nA,B,C,D\nE,F,"G"x,H\n')
    result = cli(root, "import", "linkedin", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:3: broken CSV" in result.stderr
    assert list((root / "contacts").iterdir()) == []


def test_missing_file_and_bad_usage(cli, crm_root, tmp_path):
    root = crm_root()
    missing = cli(root, "import", "linkedin", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 1
    assert missing.stderr == f"Error: {tmp_path / 'nope.csv'}: no such file\n"
    folder = cli(root, "import", "vcard", str(tmp_path))
    assert folder.exit_code in (1, 2) and "Traceback" not in folder.stderr
    assert cli(root, "import", "palm", str(DATA / "vcard30.vcf")).exit_code == 2
    assert cli(root, "import", "linkedin").exit_code == 2


# --- git --------------------------------------------------------------------------------------

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def git(root: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True, env=env
    ).stdout


def test_commit_commits_exactly_the_changed_files(cli, crm_root, monkeypatch):
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    root = crm_root({"contacts/jane.md": JANE, "contacts/other.md": "---\nname: Other\n---\n"})
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "start")
    (root / "contacts" / "other.md").write_text("---\nname: Other\ntitle: wip\n---\n", encoding="utf-8")
    export = root / "in.vcf"
    export.write_text(
        "BEGIN:VCARD\nVERSION:3.0\nFN:Jane Doe\nEMAIL:jane@acme.example\nORG:Acme\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nFN:New Person\nEND:VCARD\n",
        encoding="utf-8",
    )
    result = cli(root, "import", "vcard", str(export), "--commit", env=GIT_ENV)
    assert result.exit_code == 0, result.stderr
    assert "Committed 2 files" in result.stdout
    assert git(root, "log", "-1", "--format=%s") == "import vcard in.vcf: 1 created, 1 updated\n"
    changed = git(root, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(changed) == ["contacts/jane.md", "contacts/new-person.md"]
    status = git(root, "status", "--porcelain")
    assert " M contacts/other.md" in status and "?? in.vcf" in status
    again = cli(root, "import", "vcard", str(export), "--commit", env=GIT_ENV)
    assert "Nothing changed, nothing to commit." in again.stdout
    assert git(root, "rev-list", "--count", "HEAD") == "2\n"


def test_commit_outside_git_fails_before_writing(cli, crm_root):
    root = crm_root()
    result = cli(root, "import", "vcard", str(DATA / "vcard40.vcf"), "--commit")
    assert result.exit_code == 1
    assert "not in a git repository" in result.stderr
    assert list((root / "contacts").iterdir()) == []


# --- scale ------------------------------------------------------------------------------------


def test_five_thousand_linkedin_connections(cli, crm_root, tmp_path):
    root = crm_root()
    out = io.StringIO()
    out.write('Notes:\n"When exporting your connection data, you may notice..."\n\n')
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On"]
    )
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    firsts = ["Ana", "Ben", "Chloé", "Dev", "Eun-ji", "Femi", "Greta", "Hiro", "Ines", "Jonas"]
    for i in range(5000):
        first = firsts[i % len(firsts)]
        last = f"Person{i // 10}"
        writer.writerow([
            first, last, f"https://www.linkedin.com/in/{first.lower()}-{i}",
            f"{first.lower()}.{i}@example.com" if i % 7 == 0 else "",
            f"Company {i % 300}, Inc.", f"Engineer \"L{i % 5}\"", f"{i % 28 + 1:02d} {months[i % 12]} 20{10 + i % 15}",
        ])  # fmt: skip
    export = tmp_path / "Connections.csv"
    export.write_text(out.getvalue(), encoding="utf-8")
    started = time.perf_counter()
    result = cli(root, "import", "linkedin", str(export), "--quiet")
    elapsed = time.perf_counter() - started
    print(f"\n5,000-row LinkedIn import: {elapsed:.2f} s")
    assert result.exit_code == 0, result.stderr
    assert "5000 created" in result.stdout
    assert len(list((root / "contacts").glob("*.md"))) == 5000
    started = time.perf_counter()
    again = cli(root, "import", "linkedin", str(export), "--quiet")
    print(f"5,000-row LinkedIn re-import (all unchanged): {time.perf_counter() - started:.2f} s")
    assert "0 created, 0 merged, 5000 unchanged" in again.stdout
    shutil.rmtree(root)


def test_linkedin_into_the_demo_crm(cli, demo_root):
    priya_path = demo_root / "contacts" / "priya-raman.md"
    priya_before = priya_path.read_text(encoding="utf-8")
    result = cli(demo_root, "import", "linkedin", str(DATA / "linkedin_current.csv"))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    # matched by LinkedIn URL: only the missing connected_on is added, right after the YAML
    assert "merge     contacts/priya-raman.md  Priya Raman: + connected_on (line 5)" in out
    yaml_part, rest = priya_before.split("\n---\n", 1)
    assert priya_path.read_text(encoding="utf-8") == yaml_part + "\nconnected_on: 2025-12-07\n---\n" + rest
    # matched by name: a different LinkedIn URL is a conflict, not a second contact
    assert (
        "conflict  contacts/marcus-chen.md  links.linkedin: yours 'https://www.linkedin.com/in/marcus-chen-example'"
        in out
    )
    assert not (demo_root / "contacts" / "marcus-chen-2.md").exists()
    assert cli(demo_root, "check").exit_code == 0


def test_progress_only_for_large_files_on_a_terminal(capsys):
    from generator.cli_io import _Progress

    small = _Progress("reading", 10, enabled=True)
    small(10)
    off = _Progress("reading", 5000, enabled=False)
    off(5000)
    assert capsys.readouterr().err == ""
    big = _Progress("reading", 5000, enabled=True)
    big(1)
    big(5000)
    err = capsys.readouterr().err
    assert err.startswith("\rreading 1/5000") and err.endswith("\rreading 5000/5000\n")


def test_notes_become_the_markdown_body_of_new_contacts(cli, crm_root):
    root = crm_root()
    assert cli(root, "import", "google", str(DATA / "google_current.csv")).exit_code == 0
    assert (
        body(root / "contacts" / "jane-q-doe.md")
        == 'Met at PyCon 2026.\nLoves rock climbing, and "real" coffee.\n'
    )
    jane = front(root / "contacts" / "jane-q-doe.md")
    assert jane["email"] == ["jane@acme.example", "jane.doe@mail.example"]
    assert jane["department"] == "Platform"
    assert jane["tags"] == ["Job search"]
    assert cli(root, "import", "vcard", str(DATA / "vcard21.vcf")).exit_code == 0
    assert body(root / "contacts" / "bjorn-astrom.md") == (
        "Met at the Stockholm meetup.\nWants an intro to the platform team.\n"
    )


def test_the_files_an_import_creates_are_in_the_parse_cache_as_a_parse_reads_them(cli, crm_root):
    """The next command does not parse the new files again (a re-import of 30,000 rows would
    spend seconds on it), and what it takes from the cache is what parsing the file gives."""
    from generator.contactcache import ContactCache
    from generator.contactfile import check_path
    from generator.settings import load_settings

    root = crm_root({"contacts/jane-doe.md": JANE})
    result = cli(root, "import", "linkedin", str(DATA / "linkedin_current.csv"))
    assert result.exit_code == 0, result.stderr
    created = sorted(p for p in (root / "contacts").glob("*.md") if p.name != "jane-doe.md")
    assert len(created) == 6
    cache = ContactCache(persist=root)
    cache.use_settings(load_settings(root)[0])
    for path in created:
        rel = f"contacts/{path.name}"
        _, hit = cache.lookup(str(path), rel)  # a hit only for the very bytes on disk (stamp)
        assert hit is not None, rel
        parsed = check_path(str(path), rel, path.stem, load_settings(root)[0])
        assert hit.contact == parsed.contact and hit.problems == parsed.problems
    # An edit after the import is read from the file, not the cache.
    first = created[0]
    first.write_text(first.read_text() + "Edited after the import.\n")
    _, hit = cache.lookup(str(first), f"contacts/{first.name}")
    assert hit is None
