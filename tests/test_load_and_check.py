"""Loading a CRM root (SPEC §1–3) and `crm check` (SPEC §6)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from generator.load import load
from generator.paths import RootNotFound, find_root

JANE = """
---
name: Jane Doe
email: jane@example.com
---
Knows [[raj-patel]] and [[Raj Patel]].
"""
RAJ = """
---
name: Raj Patel
interactions:
  - date: 2026-11-20
    type: networking
    with: [jane-doe]
---
"""


def test_root_discovery_walks_up(crm_root, tmp_path):
    root = crm_root({"contacts/jane-doe.md": JANE})
    deep = root / "contacts" / "a" / "b"
    deep.mkdir(parents=True)
    assert find_root(deep) == root.resolve()
    with pytest.raises(RootNotFound, match="crm init"):
        find_root(Path("/proc"))


def test_root_option_must_exist(cli, tmp_path):
    result = cli(tmp_path / "missing", "check")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_no_root_found_is_a_clear_error(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli(None, "check")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no CRM here:")
    assert "crm init DIR" in result.stderr


def test_ignored_files_and_subfolders(crm_root):
    root = crm_root(
        {
            "contacts/jane-doe.md": JANE,
            "contacts/raj-patel.md": RAJ,
            "contacts/team/sub/ann-lee.md": "---\nname: Ann Lee\n---\n",
            "contacts/.hidden.md": "garbage",
            "contacts/_draft.md": "garbage",
            "contacts/jane-doe.md~": "garbage",
            "contacts/.jane-doe.md.swp": b"\x00\x01",
            "contacts/.#jane-doe.md": "garbage",
            "contacts/#jane-doe.md#": "garbage",
            "contacts/_archive/old.md": "garbage",
            "contacts/.git/x.md": "garbage",
            "contacts/readme.txt": "not markdown",
        }
    )
    loaded = load(root)
    assert loaded.problems == []
    assert [c.slug for c in loaded.contacts] == ["ann-lee", "jane-doe", "raj-patel"]
    assert loaded.by_slug()["ann-lee"].path == "contacts/team/sub/ann-lee.md"


def test_duplicate_slug_names_both_files(crm_root):
    root = crm_root({"contacts/a/jane-doe.md": JANE, "contacts/b/jane-doe.md": JANE, "contacts/raj-patel.md": RAJ})
    messages = [p.format() for p in load(root).errors]
    assert messages == [
        "contacts/b/jane-doe.md:1:1: error: duplicate slug 'jane-doe': contacts/a/jane-doe.md has the same file name; rename one"
    ]


def test_with_slug_must_exist_and_links_resolve(crm_root):
    raj = RAJ.replace("[jane-doe]", "[jane-do]")
    jane = JANE.replace("[[Raj Patel]]", "[[Raj Patel]] and [[Nobody Here]]")
    root = crm_root({"contacts/jane-doe.md": jane, "contacts/raj-patel.md": raj})
    assert [p.format() for p in load(root).problems] == [
        "contacts/jane-doe.md:5:43: warning: body: [[Nobody Here]] links to no contact",
        "contacts/raj-patel.md:6:12: error: interactions[0].with[0]: no contact 'jane-do'; did you mean jane-doe?",
    ]


def test_broken_file_does_not_stop_others(crm_root):
    root = crm_root({"contacts/jane-doe.md": JANE, "contacts/raj-patel.md": RAJ, "contacts/bad.md": "---\nname: [\n"})
    loaded = load(root)
    assert [c.slug for c in loaded.contacts] == ["jane-doe", "raj-patel"]
    assert [p.file for p in loaded.errors] == ["contacts/bad.md"]
    assert "bad" in loaded.invalid


def test_bad_settings_are_reported_like_contact_errors(crm_root, cli):
    root = crm_root(
        {"contacts/jane-doe.md": JANE},
        settings="upcoming_days: soon\ntoday: 2026-13-01\ntypes:\n  demo-day: {thank_you: two}\nme: {name: 5}\n",
    )
    result = cli(root, "check")
    assert result.exit_code == 1
    assert [line for line in result.stderr.splitlines() if line.startswith("crm.yaml")] == [
        "crm.yaml:1:16: error: upcoming_days: expected a whole number of days (0 to 36,600), found 'soon'",
        "crm.yaml:2:8: error: today: '2026-13-01' is not a date (expected YYYY-MM-DD)",
        "crm.yaml:4:25: error: types.demo-day.thank_you: expected a whole number of days (0 to 36,600), found 'two'",
        'crm.yaml:5:12: error: me.name: expected text, found an integer; put it in quotes',
    ]


def test_custom_type_from_settings_is_accepted(crm_root):
    root = crm_root(
        {"contacts/a.md": "---\nname: A\ninteractions:\n  - date: 2026-11-20\n    type: demo-day\n---\n"},
        settings="types:\n  demo-day: {thank_you: 3, note: networking}\n",
    )
    loaded = load(root)
    assert loaded.problems == []
    assert loaded.settings.rule("demo-day").thank_you == 3
    assert loaded.settings.rule("interview").thank_you == 1  # defaults kept


def test_check_text_output_and_exit_codes(crm_root, cli):
    root = crm_root({"contacts/jane-doe.md": JANE, "contacts/raj-patel.md": RAJ})
    ok = cli(root, "check")
    assert (ok.exit_code, ok.stdout, ok.stderr) == (0, "2 contact files, 0 errors, 0 warnings\n", "")
    (root / "contacts" / "bad.md").write_text("---\nname: A\ninteractions:\n  - date: next tuesday\n    type: call\n---\n")
    bad = cli(root, "check")
    assert bad.exit_code == 1
    assert bad.stderr == (
        "contacts/bad.md:4:11: error: interactions[0].date: 'next tuesday' is not a date (expected YYYY-MM-DD)\n"
    )
    assert bad.stdout == "3 contact files, 1 error, 0 warnings\n"


def test_check_json_shape(crm_root, cli):
    root = crm_root({"contacts/jane-doe.md": JANE.replace("email:", "emial:")})
    result = cli(root, "check", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc == {
        "contacts": 1,
        "problems": [
            {
                "file": "contacts/jane-doe.md",
                "line": 3,
                "column": 1,
                "severity": "warning",
                "field": "emial",
                "message": "unknown field 'emial': did you mean email?",
            },
            {
                "file": "contacts/jane-doe.md",
                "line": 5,
                "column": 7,
                "severity": "warning",
                "field": "body",
                "message": "[[raj-patel]] links to no contact",
            },
            {
                "file": "contacts/jane-doe.md",
                "line": 5,
                "column": 25,
                "severity": "warning",
                "field": "body",
                "message": "[[Raj Patel]] links to no contact",
            },
        ],
    }


def test_strict_makes_warnings_fail(crm_root, cli):
    root = crm_root({"contacts/jane-doe.md": "---\nname: Jane\nemial: x@y.z\n---\n"})
    assert cli(root, "check").exit_code == 0
    assert cli(root, "check", "--strict").exit_code == 1


def test_bad_usage_exits_2(cli, demo_root):
    assert cli(demo_root, "check", "--format", "xml").exit_code == 2
    assert cli(demo_root, "--today", "tomorrow", "followups").exit_code == 2
    assert cli(demo_root, "nonsense").exit_code == 2
    bad_env = cli(demo_root, "followups", env={"CRM_TODAY": "soon"})
    assert bad_env.exit_code == 2
    assert "CRM_TODAY='soon' is not a date" in bad_env.stderr


def test_unreadable_file_is_reported(crm_root, cli):
    if os.geteuid() == 0:
        # root reads everything; use a folder named like a contact file instead
        root = crm_root({"contacts/jane-doe.md": JANE})
        (root / "contacts" / "odd.md").mkdir()
        assert cli(root, "check").exit_code == 0
        return
    root = crm_root({"contacts/jane-doe.md": JANE, "contacts/locked.md": JANE})
    (root / "contacts" / "locked.md").chmod(0)
    result = cli(root, "check")
    assert result.exit_code == 1
    assert "contacts/locked.md:1:1: error: cannot read the file" in result.stderr


def test_hostile_files_never_produce_a_traceback(crm_root, cli):
    files: dict[str, str | bytes] = {
        "contacts/empty.md": b"",
        "contacts/binary.md": bytes(range(256)),
        "contacts/latin1.md": "---\nname: Zoë\n---\n".encode("latin-1"),
        "contacts/unclosed.md": "---\nname: A\n",
        "contacts/tabs.md": "---\nname: A\n\ttags: [x]\n---\n",
        "contacts/bomb.md": "---\nname: A\na: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n---\n",
        "contacts/python.md": "---\nname: !!python/object/apply:os.system [echo hi]\n---\n",
        "contacts/seq.md": "---\n- a\n---\n",
        "contacts/merge.md": "---\nbase: &b {name: A}\n<<: *b\n---\n",
        "contacts/key.md": "---\n? [a, b]\n: 1\nname: A\n---\n",
        "contacts/control.md": "---\nname: A\x07B\n---\n",
    }
    root = crm_root(files)
    for fmt in ("text", "json"):
        result = cli(root, "check", "--format", fmt)
        assert result.exit_code == 1
        assert "Traceback" not in result.stderr + result.stdout
    doc = json.loads(cli(root, "check", "--format", "json").stdout)
    assert {p["file"] for p in doc["problems"]} == set(files)
    assert all(p["severity"] == "error" for p in doc["problems"])
