"""`crm new / log / done / history / init / hook` against real git repositories in temporary
folders (identity from the environment, never from the global git config)."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator import gitlog
from generator.gitops import GitError, commit_paths

PRIYA = "contacts/priya-raman.md"


@pytest.fixture(autouse=True)
def git_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "GIT_AUTHOR_NAME": "Alex Tester",
        "GIT_AUTHOR_EMAIL": "alex@example.com",
        "GIT_COMMITTER_NAME": "Alex Tester",
        "GIT_COMMITTER_EMAIL": "alex@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }.items():
        monkeypatch.setenv(key, value)


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout


def make_repo(root: Path) -> Path:
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def front(path: Path) -> dict:
    text = path.read_text(encoding="utf-8").removeprefix("\ufeff").replace("\r\n", "\n")
    return yaml.safe_load(text.split("\n---\n", 1)[0].removeprefix("---\n") + "\n")


# --- new --------------------------------------------------------------------------------------


def test_new_creates_a_valid_commented_contact(cli, demo_root):
    result = cli(demo_root, "new", "Tomás Ruiz", "--email", "t@example.com", "--company", "Acme",
                 "--title", "CTO", "--tag", "acme", "--tag", "cto", "--phone", "0123")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Created contacts/tomas-ruiz.md\n"
    path = demo_root / "contacts" / "tomas-ruiz.md"
    assert front(path) == {
        "name": "Tomás Ruiz", "email": "t@example.com", "phone": "0123", "company": "Acme",
        "title": "CTO", "tags": ["acme", "cto"],
    }  # fmt: skip
    assert "# " in path.read_text(encoding="utf-8")
    assert stat.S_IMODE(path.stat().st_mode) & 0o644 == 0o644
    assert cli(demo_root, "check").exit_code == 0


def test_new_never_overwrites_and_suggests_slug(cli, demo_root):
    before = (demo_root / "contacts" / "tomas-muller.md").read_bytes()
    result = cli(demo_root, "new", "Tomás Müller")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: contacts/tomas-muller.md already exists; to add another contact, choose a file name "
        "with --slug, e.g. --slug tomas-muller-2\n"
    )
    assert (demo_root / "contacts" / "tomas-muller.md").read_bytes() == before
    result = cli(demo_root, "new", "Tomás Müller", "--slug", "tomas-muller-2")
    assert result.exit_code == 0, result.stderr
    assert front(demo_root / "contacts" / "tomas-muller-2.md")["name"] == "Tomás Müller"


def test_new_collision_in_a_sub_folder(cli, crm_root):
    root = crm_root({"contacts/work/jane-doe.md": "---\nname: Jane\n---\n"})
    result = cli(root, "new", "Jane Doe")
    assert result.exit_code == 1
    assert "contacts/work/jane-doe.md already exists" in result.stderr
    assert not (root / "contacts" / "jane-doe.md").exists()


@pytest.mark.parametrize("slug", ["../evil", ".hidden", "a/b", "_draft", "index"])
def test_new_rejects_bad_slugs(cli, demo_root, slug):
    result = cli(demo_root, "new", "X", "--slug", slug)
    assert result.exit_code == 2
    assert "--slug" in result.stderr


def test_new_refuses_the_contact_lists_name(cli, demo_root):
    result = cli(demo_root, "new", "Index")
    assert result.exit_code == 1 and "--slug index-2" in result.stderr
    assert not (demo_root / "contacts" / "index.md").exists()
    assert cli(demo_root, "new", "Index", "--slug", "index-2").exit_code == 0


def test_new_non_latin_name(cli, crm_root):
    root = crm_root()
    assert cli(root, "new", "Иван Петров").exit_code == 0
    assert (root / "contacts" / "иван-петров.md").is_file()


# --- log --------------------------------------------------------------------------------------


def test_log_appends_an_interaction_keeping_every_other_byte(cli, demo_root):
    path = demo_root / PRIYA
    before = path.read_text(encoding="utf-8")
    result = cli(demo_root, "log", "priya-raman", "--type", "coffee", "--summary", "Catch-up: next steps",
                 "--gained", "an intro to the SRE lead", "--with", "kenji-watanabe", "--with", "marcus-chen")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Logged coffee with Priya Raman on 2026-11-25 in contacts/priya-raman.md\n"
        "Thank-you due 2026-11-27: crm draft priya-raman, then crm done priya-raman\n"
    )
    after = path.read_text(encoding="utf-8")
    added = (
        "  - date: 2026-11-25\n"
        "    type: coffee\n"
        '    summary: "Catch-up: next steps"\n'
        "    gained: an intro to the SRE lead\n"
        "    with: [kenji-watanabe, marcus-chen]\n"
    )
    fence = before.index("---\n# Notes")
    assert after == before[:fence] + added + before[fence:]
    assert cli(demo_root, "check").exit_code == 0


def test_log_date_option_and_today(cli, demo_root):
    result = cli(demo_root, "--today", "2026-12-01", "log", "ravi-patel", "--type", "call")
    assert result.exit_code == 0, result.stderr
    assert front(demo_root / "contacts" / "ravi-patel.md")["interactions"][-1] == {
        "date": dt.date(2026, 12, 1), "type": "call"
    }  # fmt: skip
    assert cli(demo_root, "log", "ravi-patel", "--type", "email", "--date", "2026-10-02").exit_code == 0
    assert front(demo_root / "contacts" / "ravi-patel.md")["interactions"][-1]["date"] == dt.date(2026, 10, 2)


def test_log_unknown_type_lists_the_known_ones(cli, demo_root):
    before = (demo_root / PRIYA).read_bytes()
    result = cli(demo_root, "log", "priya-raman", "--type", "intervew")
    assert result.exit_code == 2
    assert "unknown interaction type 'intervew'; did you mean interview?" in result.stderr
    assert "known types: interview, informational-interview, networking, referral, coffee" in result.stderr
    assert (demo_root / PRIYA).read_bytes() == before


def test_log_unknown_with_slug_suggests_the_nearest(cli, demo_root):
    before = (demo_root / PRIYA).read_bytes()
    result = cli(demo_root, "log", "priya-raman", "--type", "call", "--with", "kenji-watanbe")
    assert result.exit_code == 1
    assert result.stderr == "Error: --with kenji-watanbe: no contact 'kenji-watanbe'; did you mean kenji-watanabe?\n"
    assert (demo_root / PRIYA).read_bytes() == before


def test_log_unknown_contact(cli, demo_root):
    result = cli(demo_root, "log", "priya-ramen", "--type", "call")
    assert result.exit_code == 1
    assert "no contact 'priya-ramen' — did you mean priya-raman?" in result.stderr


def test_log_keeps_crlf_and_bom(cli, crm_root):
    original = b"\xef\xbb\xbf---\r\nname: Jo   # hi\r\ntags: [a]\r\n---\r\nBody\r\n"
    root = crm_root({"contacts/jo.md": original})
    assert cli(root, "--today", "2026-01-02", "log", "jo", "--type", "call").exit_code == 0
    assert (root / "contacts/jo.md").read_bytes() == (
        b"\xef\xbb\xbf---\r\nname: Jo   # hi\r\ntags: [a]\r\n"
        b"interactions:\r\n  - date: 2026-01-02\r\n    type: call\r\n---\r\nBody\r\n"
    )


def test_concurrent_log_processes_lose_no_interaction(crm_root):
    root = crm_root({"contacts/jo.md": "---\nname: Jo\n---\n"})
    env = {**os.environ, "CRM_TODAY": "2026-01-02"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "generator", "--root", str(root), "log", "jo", "--type", "call",
             "--summary", f"call {n}"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        for n in range(8)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    summaries = sorted(i["summary"] for i in front(root / "contacts/jo.md")["interactions"])
    assert summaries == sorted(f"call {n}" for n in range(8))
    assert [p.name for p in (root / "contacts").iterdir()] == ["jo.md"]


# --- done -------------------------------------------------------------------------------------


def test_done_records_the_most_urgent_thank_you(cli, demo_root):
    path = demo_root / PRIYA
    before = path.read_text(encoding="utf-8")
    result = cli(demo_root, "done", "priya-raman")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Recorded the thank-you to Priya Raman for the interview on 2026-11-24 as sent on 2026-11-25\n"
    )
    after = path.read_text(encoding="utf-8")
    marker = "    # followed_up: 2026-11-25       # uncomment (or run `crm done priya-raman`) once sent\n"
    assert after == before.replace(marker, marker + "    followed_up: 2026-11-25\n")
    followups = cli(demo_root, "followups", "--format", "json", "--all")
    assert "priya-raman" not in [
        f["contact"] for f in __import__("json").loads(followups.stdout)["followups"] if f["kind"] == "thank-you"
    ]


def test_done_with_on_and_date(cli, crm_root):
    root = crm_root({"contacts/jo.md": """\
        ---
        name: Jo
        interactions:
          - {date: 2026-01-02, type: interview}
          - date: 2026-01-05
            type: networking
        ---
        """})  # fmt: skip
    result = cli(root, "--today", "2026-01-10", "done", "jo", "--on", "2026-01-05", "--date", "2026-01-06")
    assert result.exit_code == 0, result.stderr
    interactions = front(root / "contacts/jo.md")["interactions"]
    assert interactions[1]["followed_up"] == dt.date(2026, 1, 6)
    assert "followed_up" not in interactions[0]
    assert cli(root, "--today", "2026-01-10", "done", "jo").exit_code == 0
    assert "{date: 2026-01-02, type: interview, followed_up: 2026-01-10}" in (root / "contacts/jo.md").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["done", "nobody"], "Error: no contact 'nobody'"),
        (["done", "hannah-berg"], "Error: nothing to record: Hannah Berg has no pending thank-you\n"),
        (["done", "priya-raman", "--on", "2026-10-30"],
         "Error: Priya Raman has no pending thank-you for an interaction on 2026-10-30 "
         "(interactions: 2026-11-24, 2026-10-30)\n"),
        (["done", "priya-raman", "--date", "2026-11-20"],
         "Error: --date 2026-11-20 is before the interview on 2026-11-24; a thank-you cannot go out before "
         "the meeting\n"),
    ],
)  # fmt: skip
def test_done_errors_leave_the_files_untouched(cli, demo_root, args, message):
    before = {p.name: p.read_bytes() for p in (demo_root / "contacts").iterdir()}
    result = cli(demo_root, *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(message)
    assert {p.name: p.read_bytes() for p in (demo_root / "contacts").iterdir()} == before


def test_done_on_an_invalid_file_says_so(cli, crm_root):
    original = b"---\nname: Jo\ninteractions:\n  - date: 2026-13-01\n    type: call\n---\n"
    root = crm_root({"contacts/jo.md": original})
    result = cli(root, "done", "jo")
    assert result.exit_code == 1
    assert "contact 'jo' has errors; fix them first" in result.stderr
    assert (root / "contacts/jo.md").read_bytes() == original


def test_bad_dates_are_usage_errors(cli, demo_root):
    assert cli(demo_root, "done", "priya-raman", "--date", "tomorrow").exit_code == 2
    assert cli(demo_root, "log", "priya-raman", "--type", "call", "--date", "2026-02-30").exit_code == 2


# --- --commit ---------------------------------------------------------------------------------


def test_commit_scopes_to_the_changed_file(cli, demo_root):
    make_repo(demo_root)
    (demo_root / "contacts/ravi-patel.md").write_text("---\nname: Ravi, edited\n---\n", encoding="utf-8")
    (demo_root / "contacts/grace-liu.md").write_text("---\nname: Grace, staged\n---\n", encoding="utf-8")
    (demo_root / "notes.txt").write_text("untracked\n", encoding="utf-8")
    git(demo_root, "add", "contacts/grace-liu.md")
    result = cli(demo_root, "log", "priya-raman", "--type", "interview", "--commit")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1].endswith(": log interview with Priya Raman")
    assert git(demo_root, "show", "--name-only", "--format=%s", "HEAD").split() == [
        "log", "interview", "with", "Priya", "Raman", PRIYA,
    ]  # fmt: skip
    assert git(demo_root, "diff", "--cached", "--name-only").split() == ["contacts/grace-liu.md"]
    assert git(demo_root, "diff", "--name-only").split() == ["contacts/ravi-patel.md"]
    assert "?? notes.txt" in git(demo_root, "status", "--porcelain")
    assert git(demo_root, "status", "--porcelain", "--", PRIYA) == ""

    assert cli(demo_root, "done", "priya-raman", "--commit").exit_code == 0
    assert git(demo_root, "log", "-1", "--format=%s").strip() == (
        "thank-you sent to Priya Raman for the interview on 2026-11-24"
    )
    assert cli(demo_root, "new", "Zed Zee", "--commit").exit_code == 0
    assert git(demo_root, "show", "--name-only", "--format=%s", "HEAD").split() == [
        "new", "contact", "Zed", "Zee", "contacts/zed-zee.md",
    ]  # fmt: skip
    assert git(demo_root, "diff", "--cached", "--name-only").split() == ["contacts/grace-liu.md"]


def test_commit_outside_git_fails_before_writing(cli, demo_root):
    before = (demo_root / PRIYA).read_bytes()
    for args in (["log", "priya-raman", "--type", "call"], ["done", "priya-raman"], ["new", "New Person"]):
        result = cli(demo_root, *args, "--commit")
        assert result.exit_code == 1
        assert "is not in a git repository" in result.stderr
    assert (demo_root / PRIYA).read_bytes() == before
    assert not (demo_root / "contacts/new-person.md").exists()


def test_commit_paths_helper(tmp_path):
    root = tmp_path / "r"
    (root / "contacts").mkdir(parents=True)
    (root / "contacts/a.md").write_text("a\n", encoding="utf-8")
    (root / "other.txt").write_text("o\n", encoding="utf-8")
    git(root, "init", "-q")
    sha = commit_paths(root, [root / "contacts/a.md"], "import 1 contact")
    assert git(root, "show", "--name-only", "--format=%H %s", "HEAD").split() == [sha, "import", "1", "contact", "contacts/a.md"]
    assert "?? other.txt" in git(root, "status", "--porcelain")
    with pytest.raises(GitError, match="nothing to commit"):
        commit_paths(root, [], "x")


# --- history ----------------------------------------------------------------------------------


def test_history_follows_renames(cli, demo_root):
    make_repo(demo_root)
    git(demo_root, "mv", "contacts/ravi-patel.md", "contacts/ravi-patel-acme.md")
    git(demo_root, "commit", "-q", "-m", "rename ravi")
    assert cli(demo_root, "log", "ravi-patel-acme", "--type", "call", "--commit").exit_code == 0
    result = cli(demo_root, "history", "ravi-patel-acme")
    assert result.exit_code == 0, result.stderr
    rows = result.stdout.splitlines()
    assert [row.split("  ", 3)[3] for row in rows] == ["log call with Ravi Patel", "rename ravi", "initial"]
    assert all("Alex Tester" in row for row in rows)
    assert all(row[:4].isdigit() for row in rows)
    commits = gitlog.file_history(demo_root, "contacts/ravi-patel-acme.md")
    assert [c.message for c in commits] == ["log call with Ravi Patel", "rename ravi", "initial"]


def test_history_errors(cli, demo_root):
    result = cli(demo_root, "history", "priya-raman")
    assert result.exit_code == 1
    assert "not in a git repository" in result.stderr
    make_repo(demo_root)
    result = cli(demo_root, "history", "priya-ramen")
    assert result.exit_code == 1
    assert "did you mean priya-raman?" in result.stderr
    assert cli(demo_root, "new", "Fresh One").exit_code == 0
    result = cli(demo_root, "history", "fresh-one")
    assert result.exit_code == 0
    assert result.stdout == "contacts/fresh-one.md has no commits yet.\n"


# --- init and hook ----------------------------------------------------------------------------


def test_init_makes_a_private_crm(cli, tmp_path):
    root = tmp_path / "mycrm"
    result = cli(None, "--today", "2026-11-25", "init", str(root))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (root / "contacts").iterdir()) == ["jane-doe-example.md"]
    assert "me:" in (root / "crm.yaml").read_text(encoding="utf-8")
    assert (root / ".gitignore").read_text(encoding="utf-8") == "site/\n.*.tmp\n.*.lock\n"
    assert git(root, "log", "--format=%s").strip() == "Start a Tipscale CRM"
    assert git(root, "status", "--porcelain") == ""
    check = cli(root, "check", "--strict")
    assert check.exit_code == 0, check.stderr
    assert cli(root, "followups", "--all").exit_code == 0
    # Running it again refuses and changes nothing.
    again = cli(None, "init", str(root))
    assert again.exit_code == 1
    assert "already holds a CRM" in again.stderr
    assert git(root, "log", "--format=%s").strip() == "Start a Tipscale CRM"


def test_init_in_an_existing_non_empty_folder_without_contacts(cli, tmp_path):
    root = tmp_path / "d"
    root.mkdir()
    (root / "README.txt").write_text("mine\n", encoding="utf-8")
    (root / ".gitignore").write_text("*.bak", encoding="utf-8")
    assert cli(None, "init", str(root)).exit_code == 0
    assert (root / ".gitignore").read_text(encoding="utf-8") == "*.bak\nsite/\n.*.tmp\n.*.lock\n"
    assert "?? README.txt" in git(root, "status", "--porcelain")


def test_init_refuses_an_empty_name_and_leaves_this_folder_alone(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("", "  "):
        result = cli(None, "init", name)
        assert result.exit_code == 1 and "DIR is empty" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_leftovers_of_a_killed_edit_are_ignored_by_git(cli, tmp_path):
    root = tmp_path / "c"
    assert cli(None, "init", str(root)).exit_code == 0
    (root / "contacts" / ".jane-doe-example.md.k3j9.tmp").write_text("half", encoding="utf-8")
    (root / "contacts" / ".jane-doe-example.md.lock").write_text("", encoding="utf-8")
    assert git(root, "status", "--porcelain") == ""


def test_init_refuses_a_folder_with_contacts(cli, crm_root):
    root = crm_root({"contacts/jo.md": "---\nname: Jo\n---\n"})
    result = cli(None, "init", str(root))
    assert result.exit_code == 1
    assert not (root / "crm.yaml").exists()
    assert not (root / ".git").exists()


def test_pre_commit_hook_blocks_a_broken_file(cli, tmp_path):
    root = tmp_path / "crm"
    result = cli(None, "init", str(root), "--hook")
    assert result.exit_code == 0, result.stderr
    hook = root / ".git" / "hooks" / "pre-commit"
    assert os.access(hook, os.X_OK)
    assert sys.executable in hook.read_text(encoding="utf-8")
    assert git(root, "log", "--format=%s").strip() == "Start a Tipscale CRM"  # the hook let it pass

    (root / "contacts/bad.md").write_text("---\nname: NO\n---\n", encoding="utf-8")
    subprocess.run(["git", "-C", str(root), "add", "contacts/bad.md"], check=True)
    blocked = subprocess.run(
        ["git", "-C", str(root), "commit", "-m", "add bad"], capture_output=True, text=True, check=False
    )
    assert blocked.returncode != 0
    assert "contacts/bad.md:2:7: error: name: NO is read by YAML as a boolean" in blocked.stderr
    assert git(root, "log", "--format=%s").strip() == "Start a Tipscale CRM"

    (root / "contacts/bad.md").write_text('---\nname: "NO"\n---\n', encoding="utf-8")
    subprocess.run(["git", "-C", str(root), "add", "contacts/bad.md"], check=True)
    ok = subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", "fix"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr

    # --commit reports a blocked commit clearly; the edit itself is kept.
    (root / "contacts/other.md").write_text("---\nname:\n---\n", encoding="utf-8")
    result = cli(root, "log", "bad", "--type", "call", "--commit")
    assert result.exit_code == 1
    assert "git commit failed, so the change was saved but not committed" in result.stderr


def test_hook_install_for_an_existing_root_in_a_sub_folder(cli, tmp_path):
    repo = tmp_path / "repo"
    root = repo / "crm"
    (root / "contacts").mkdir(parents=True)
    (root / "contacts/jo.md").write_text("---\nname: Jo\n---\n", encoding="utf-8")
    make_repo(repo)
    result = cli(root, "hook", "install")
    assert result.exit_code == 0, result.stderr
    (root / "contacts/jo.md").write_text("---\nname: [Jo\n---\n", encoding="utf-8")
    blocked = subprocess.run(["git", "-C", str(repo), "commit", "-am", "x"], capture_output=True, text=True)
    assert blocked.returncode != 0
    assert "contacts/jo.md:3:1: error: YAML syntax error" in blocked.stderr
    assert "Commit blocked" in blocked.stderr
    # A second install replaces Tipscale's hook; someone else's hook is never overwritten.
    assert cli(root, "hook", "install").exit_code == 0
    (repo / ".git/hooks/pre-commit").write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    result = cli(root, "hook", "install")
    assert result.exit_code == 1
    assert "already exists and is not Tipscale's" in result.stderr


def test_hook_install_outside_git(cli, demo_root):
    result = cli(demo_root, "hook", "install")
    assert result.exit_code == 1
    assert "not in a git repository" in result.stderr
