"""`crm apply / stage / applications / snooze` and `crm done` for the notes job applications owe,
on real files in temporary folders (and real git repositories for --commit)."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from generator import appedit
from generator.settings import default_settings
from generator.userfiles import EditError

TODAY = "2026-12-03"
PEOPLE = {"raj-patel": "Raj Patel", "mia-chen": "Mia Chen", "tom-ross": "Tom Ross"}
GLOBEX = "applications/globex-staff-engineer.md"

# Referred by Raj (thanked), the recruiter is Mia, an interview with Tom two days ago. On 2026-12-03
# it owes: Tom's thank-you (due 12-02, overdue), Raj's update (12-04), a status check with Mia (12-08).
GLOBEX_TEXT = """\
---
company: Globex
role: Staff Engineer
via: raj-patel
contacts: [mia-chen]
stages:
  - stage: applied
    date: 2026-11-20
    followed_up: {raj-patel: 2026-11-20}
  - stage: interview
    date: 2026-12-01
    with: [tom-ross]
---
"""


@pytest.fixture(autouse=True)
def git_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "GIT_AUTHOR_NAME": "Alex Tester", "GIT_AUTHOR_EMAIL": "alex@example.com",
        "GIT_COMMITTER_NAME": "Alex Tester", "GIT_COMMITTER_EMAIL": "alex@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


def people(extra: dict[str, str | bytes] | None = None) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {f"contacts/{slug}.md": f"---\nname: {name}\n---\n" for slug, name in PEOPLE.items()}
    files.update(extra or {})
    return files


@pytest.fixture
def root(crm_root):
    return crm_root(people({GLOBEX: GLOBEX_TEXT}))


@pytest.fixture
def run(cli):
    def call(root: Path, *args: str, today: str = TODAY):
        return cli(root, "--today", today, *args)

    return call


def pending(run, root: Path, today: str = TODAY) -> list[tuple[str, str, str, str]]:
    """(contact, kind, due, status) of every pending follow-up, as `crm followups` lists them."""
    result = run(root, "followups", "--all", "--format", "json", today=today)
    assert result.exit_code == 0, result.stderr
    return [(f["contact"], f["kind"], f["due"], f["status"]) for f in json.loads(result.stdout)["followups"]]


GLOBEX_OWED = [
    ("tom-ross", "thank-you", "2026-12-02", "overdue"),
    ("raj-patel", "update", "2026-12-04", "upcoming"),
    ("mia-chen", "status-check", "2026-12-08", "upcoming"),
]


# --- apply ------------------------------------------------------------------------------------


def test_apply_creates_a_valid_commented_file(run, crm_root):
    root = crm_root(people())
    result = run(root, "apply", "Globex", "Staff Engineer", "--via", "raj-patel", "--contact", "mia-chen",
                 "--url", "https://globex.example/jobs/42", "--date", "2026-11-20", "--next", "2026-12-10")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Created applications/globex-staff-engineer.md: Globex, Staff Engineer — applied on 2026-11-20\n"
        "Owed: thank-you to Raj Patel by 2026-11-21 — crm draft raj-patel\n"
        "Owed: status-check to Mia Chen by 2026-12-10 — crm draft mia-chen\n"
    )
    assert (root / GLOBEX).read_text(encoding="utf-8") == (
        "---\n"
        "# A job application: YAML between the two --- lines, then your notes in Markdown.\n"
        "# Add what happens with `crm stage SLUG STAGE`; record notes sent with `crm done`.\n"
        "# Stages: applied, screen, interview, onsite, offer; an outcome ends it: accepted, rejected, withdrawn.\n"
        "company: Globex\n"
        "role: Staff Engineer\n"
        "url: https://globex.example/jobs/42\n"
        "via: raj-patel                      # who referred you (a contact's slug)\n"
        "contacts: [mia-chen]                # recruiter, hiring manager… (slugs)\n"
        "next: 2026-12-10                    # when you expect news\n"
        "stages:                             # in the order they happen\n"
        "  - stage: applied\n"
        "    date: 2026-11-20\n"
        "---\n"
    )
    check = run(root, "check", "--strict")
    assert check.exit_code == 0, check.stderr
    assert pending(run, root, "2026-11-20") == [
        ("raj-patel", "thank-you", "2026-11-21", "upcoming"),
        ("mia-chen", "status-check", "2026-12-10", "later"),
    ]


def test_apply_never_overwrites(run, root):
    before = (root / GLOBEX).read_bytes()
    result = run(root, "apply", "Globex", "Staff Engineer")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Created applications/globex-staff-engineer-2.md: Globex, Staff Engineer — applied on 2026-12-03\n"
        "(applications/globex-staff-engineer.md was there already: this is another application)\n"
        "Owed: status-check (no one to ask) by 2026-12-10 — crm done globex-staff-engineer-2 once you have checked\n"
    )
    assert (root / GLOBEX).read_bytes() == before
    # The file appearing between choosing the name and writing it: refused, the file left alone.
    text = (root / "applications/globex-staff-engineer-2.md").read_text(encoding="utf-8")
    with pytest.raises(EditError, match="already exists; not overwriting it"):
        appedit.create_application(root / GLOBEX, text, default_settings(), set(PEOPLE), GLOBEX)
    assert (root / GLOBEX).read_bytes() == before
    assert sorted(p.name for p in (root / "applications").iterdir()) == [
        "globex-staff-engineer-2.md", "globex-staff-engineer.md",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--via", "raj-patl"], "Error: --via raj-patl: no contact 'raj-patl'; did you mean raj-patel?\n"),
        (["--contact", "mia"], "Error: --contact mia: no contact 'mia'; did you mean mia-chen?\n"),
        (["--contact", "Tom"], "Error: --contact Tom: no contact 'Tom'; did you mean tom-ross?\n"),
    ],
)
def test_apply_unknown_slug_hints(run, crm_root, args, message):
    root = crm_root(people())
    result = run(root, "apply", "Globex", "Staff Engineer", *args)
    assert (result.exit_code, result.stderr) == (1, message)
    assert not (root / "applications").exists()


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["--date", "2026-02-30"], "--date"),
        (["--next", "2026-11-01", "--date", "2026-11-20"], "--next"),
        (["--url", "globex.example/jobs"], "--url"),
    ],
)
def test_apply_bad_usage(run, crm_root, args, hint):
    root = crm_root(people())
    result = run(root, "apply", "Globex", "Staff Engineer", *args)
    assert result.exit_code == 2 and hint in result.stderr
    assert not (root / "applications").exists()


# --- stage ------------------------------------------------------------------------------------

CRLF_FILE = (
    "\ufeff---\r\n"
    "# Globex, via Raj\r\n"
    'company: "Globex"        # quoted on purpose\r\n'
    "role: Staff Engineer\r\n"
    "via: raj-patel\r\n"
    "next: 2026-12-10   # they said two weeks\r\n"
    "stages:\r\n"
    "  - {stage: applied, date: 2026-11-20, followed_up: {raj-patel: 2026-11-20}}\r\n"
    "  - stage: screen\r\n"
    "    date: 2026-11-25\r\n"
    "    with: [mia-chen]\r\n"
    "    # Mia was friendly\r\n"
    "\r\n"
    "---\r\n"
    "# Notes\r\n"
    "\r\n"
    "Ask about on-call.\r\n"
)


def test_stage_appends_keeping_every_other_byte(run, crm_root):
    root = crm_root(people({GLOBEX: CRLF_FILE.encode("utf-8")}))
    result = run(root, "stage", "globex-staff-engineer", "interview", "--date", "2026-12-01",
                 "--with", "tom-ross", "--note", "system design: 45 minutes", "--next", "2026-12-12")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert (root / GLOBEX).read_bytes() == CRLF_FILE.replace(
        "next: 2026-12-10   #", "next: 2026-12-12   #"
    ).replace(
        "    # Mia was friendly\r\n",
        "    # Mia was friendly\r\n"
        "  - stage: interview\r\n"
        "    date: 2026-12-01\r\n"
        "    with: [tom-ross]\r\n"
        '    note: "system design: 45 minutes"\r\n',
    ).encode("utf-8")
    assert result.stdout == (
        "Added interview on 2026-12-01 to applications/globex-staff-engineer.md (Globex, Staff Engineer)\n"
        "Owed: thank-you to Tom Ross by 2026-12-02 — crm draft tom-ross\n"
        "Owed: update to Raj Patel by 2026-12-04 — crm draft raj-patel\n"
        "Owed: status-check to Raj Patel by 2026-12-12 — crm draft raj-patel\n"
    )
    assert run(root, "check").exit_code == 0


def test_stage_in_a_flow_list_and_adding_next(run, crm_root):
    before = "---\ncompany: Initech\nrole: Backend\nstages: [{stage: applied, date: 2026-11-20}]  # all of it\n---\nNotes\n"
    root = crm_root(people({"applications/initech.md": before}))
    result = run(root, "stage", "initech", "screen", "--date", "2026-11-25", "--next", "2026-12-01")
    assert result.exit_code == 0, result.stderr
    assert (root / "applications/initech.md").read_text(encoding="utf-8") == (
        "---\ncompany: Initech\nrole: Backend\n"
        "stages: [{stage: applied, date: 2026-11-20}, {stage: screen, date: 2026-11-25}]  # all of it\n"
        "next: 2026-12-01\n---\nNotes\n"
    )


@pytest.mark.parametrize(
    ("text_stages", "args", "message"),
    [
        ("", ["screen"], "stages[2].stage: 'screen' after 'interview': stages go in the order applied, screen, "
         "interview, onsite, offer, accepted, rejected, withdrawn"),
        ("  - stage: rejected\n    date: 2026-12-02\n", ["offer"],
         "stages[3].stage: 'offer' after 'rejected': an outcome ends the application"),
        ("", ["onsite", "--date", "2026-11-30"], "stages[2].date: 2026-11-30 is before the stage above it "
         "(interview, 2026-12-01): list stages in the order they happened"),
    ],
)  # fmt: skip
def test_stage_refusals_leave_the_file_unchanged(run, crm_root, text_stages, args, message):
    text = GLOBEX_TEXT.replace("    with: [tom-ross]\n", "    with: [tom-ross]\n" + text_stages)
    root = crm_root(people({GLOBEX: text}))
    before = (root / GLOBEX).read_bytes()
    result = run(root, "stage", "globex-staff-engineer", *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: applications/globex-staff-engineer.md: the edited file would not be valid, so nothing was written:\n"
        "  applications/globex-staff-engineer.md:"
    )
    assert message in result.stderr
    assert (root / GLOBEX).read_bytes() == before


def test_stage_unknown_stage_lists_the_configured_ones(run, root):
    before = (root / GLOBEX).read_bytes()
    result = run(root, "stage", "globex-staff-engineer", "intervew")
    assert result.exit_code == 2
    assert (
        "unknown stage 'intervew' (did you mean interview? stages: applied, screen, interview, onsite, offer, "
        "accepted, rejected, withdrawn; more can be added under applications: stages: in crm.yaml)"
    ) in result.stderr
    assert (root / GLOBEX).read_bytes() == before


def test_stage_unknown_application_and_contact(run, root):
    result = run(root, "stage", "globx", "offer")
    assert (result.exit_code, result.stderr) == (1, "Error: no application 'globx' — did you mean globex-staff-engineer?\n")
    result = run(root, "stage", "globex-staff-engineer", "onsite", "--with", "tom-rss")
    assert (result.exit_code, result.stderr) == (1, "Error: --with tom-rss: no contact 'tom-rss'; did you mean tom-ross?\n")


def test_stage_on_an_invalid_application_names_its_error(run, crm_root):
    root = crm_root(people({GLOBEX: "---\ncompany: Globex\nrole: X\nstages: [{stage: aplied, date: 2026-11-20}]\n---\n"}))
    result = run(root, "stage", "globex-staff-engineer", "screen")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: application 'globex-staff-engineer' has errors; fix them first:\n"
        "  applications/globex-staff-engineer.md:4:18: error: stages[0].stage: unknown stage 'aplied'"
    )


# --- applications -----------------------------------------------------------------------------

CLOSED = "---\ncompany: Initech\nrole: Backend Engineer\nstages:\n  - {stage: applied, date: 2026-10-01}\n  - {stage: rejected, date: 2026-10-20}\n---\n"
NOBODY = "---\ncompany: Hooli\nrole: SRE\nnext: 2026-12-20\nstages:\n  - {stage: applied, date: 2026-11-25}\n---\n"


@pytest.fixture
def three(crm_root):
    return crm_root(people({GLOBEX: GLOBEX_TEXT, "applications/initech.md": CLOSED, "applications/hooli.md": NOBODY}))


def test_applications_text(run, three):
    result = run(three, "applications")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == textwrap.dedent("""\
        (as of 2026-12-03)
        SLUG                   COMPANY  ROLE            STAGE                 NEXT        OWED
        globex-staff-engineer  Globex   Staff Engineer  interview 2026-12-01  -           thank-you to Tom Ross by 2026-12-02 (overdue)
                                                                                          update to Raj Patel by 2026-12-04 (upcoming)
                                                                                          status-check to Mia Chen by 2026-12-08 (upcoming)
        hooli                  Hooli    SRE             applied 2026-11-25    2026-12-20  status-check (no one to ask) by 2026-12-20 (later)

        1 closed application not shown (crm applications --all)
        """)
    every = run(three, "applications", "--all").stdout.splitlines()
    assert every[-1] == "initech                Initech  Backend Engineer  rejected 2026-10-20   -           -"
    assert run(three, "applications", "--open", "--all").exit_code == 2


def test_applications_json(run, three):
    result = run(three, "applications", "--all", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["today"] == TODAY
    assert [a["slug"] for a in doc["applications"]] == ["globex-staff-engineer", "hooli", "initech"]
    assert doc["applications"][0] == {
        "slug": "globex-staff-engineer", "company": "Globex", "role": "Staff Engineer", "url": None,
        "via": "raj-patel", "contacts": ["mia-chen"], "stage": "interview", "date": "2026-12-01", "next": None,
        "open": True,
        "stages": [
            {"stage": "applied", "date": "2026-11-20", "with": [], "note": None},
            {"stage": "interview", "date": "2026-12-01", "with": ["tom-ross"], "note": None},
        ],
        "owed": [
            {"to": "tom-ross", "kind": "thank-you", "due": "2026-12-02", "status": "overdue"},
            {"to": "raj-patel", "kind": "update", "due": "2026-12-04", "status": "upcoming"},
            {"to": "mia-chen", "kind": "status-check", "due": "2026-12-08", "status": "upcoming"},
        ],
    }  # fmt: skip
    assert doc["applications"][1]["owed"] == [{"to": None, "kind": "status-check", "due": "2026-12-20", "status": "later"}]
    assert (doc["applications"][2]["open"], doc["applications"][2]["owed"]) == (False, [])
    default = json.loads(run(three, "applications", "--format", "json").stdout)
    assert [a["slug"] for a in default["applications"]] == ["globex-staff-engineer", "hooli"]


def test_applications_with_a_broken_file_lists_the_rest_and_exits_1(run, crm_root):
    root = crm_root(people({GLOBEX: GLOBEX_TEXT, "applications/bad.md": "---\ncompany: X\n---\n"}))
    result = run(root, "applications", "--format", "json")
    assert result.exit_code == 1
    assert [a["slug"] for a in json.loads(result.stdout)["applications"]] == ["globex-staff-engineer"]
    assert "applications/bad.md" in result.stderr


# --- snooze -----------------------------------------------------------------------------------

JANE = """\
---
name: Jane Doe
keep_in_touch: 2w
reminders:
  - date: 2026-12-05
    note: Send the article   # she asked
interactions:
  - {date: 2026-11-28, type: interview, summary: Round one}
---
Notes
"""
JANE_PATH = "contacts/jane-doe.md"


@pytest.fixture
def jane(crm_root):
    return crm_root(people({JANE_PATH: JANE, GLOBEX: GLOBEX_TEXT}))


def jane_owed(run, root):
    return [f for f in pending(run, root) if f[0] == "jane-doe"]


def test_snooze_an_interactions_thank_you(run, jane):
    assert jane_owed(run, jane)[0] == ("jane-doe", "thank-you", "2026-11-29", "overdue")
    result = run(jane, "snooze", "jane-doe", "--until", "2026-12-07")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Snoozed the thank-you to Jane Doe (interview on 2026-11-28) until 2026-12-07 in contacts/jane-doe.md: "
        "now due 2026-12-07\n"
    )
    assert (jane / JANE_PATH).read_text(encoding="utf-8") == JANE.replace(
        "summary: Round one}", "summary: Round one, snooze: 2026-12-07}"
    )
    assert jane_owed(run, jane) == [
        ("jane-doe", "reminder", "2026-12-05", "upcoming"),
        ("jane-doe", "thank-you", "2026-12-07", "upcoming"),
        ("jane-doe", "reconnect", "2026-12-12", "later"),
    ]


def test_snooze_a_reminder_by_its_date(run, jane):
    result = run(jane, "snooze", "jane-doe", "--on", "2026-12-05", "--until", "2026-12-09")
    assert result.exit_code == 0, result.stderr
    assert (jane / JANE_PATH).read_text(encoding="utf-8") == JANE.replace(
        "# she asked\n", "# she asked\n    snooze: 2026-12-09\n"
    )
    assert ("jane-doe", "reminder", "2026-12-09", "upcoming") in jane_owed(run, jane)


def test_snooze_an_application(run, jane):
    result = run(jane, "snooze", "globex-staff-engineer", "--until", "2026-12-10")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Snoozed applications/globex-staff-engineer.md until 2026-12-10: its notes are due then at the earliest\n"
        "  thank-you to Tom Ross by 2026-12-10\n  update to Raj Patel by 2026-12-10\n  status-check to Mia Chen by 2026-12-10\n"
    )
    assert (jane / GLOBEX).read_text(encoding="utf-8") == GLOBEX_TEXT.replace("\n---\n", "\nsnooze: 2026-12-10\n---\n")
    assert [f for f in pending(run, jane) if f[0] != "jane-doe"] == [
        ("mia-chen", "status-check", "2026-12-10", "upcoming"),
        ("raj-patel", "update", "2026-12-10", "upcoming"),
        ("tom-ross", "thank-you", "2026-12-10", "upcoming"),
    ]
    # A contact whose most urgent note is an application's: the application is snoozed (again).
    result = run(jane, "snooze", "tom-ross", "--until", "2026-12-11")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("The thank-you to Tom Ross is a note globex-staff-engineer owes; snoozing the application:\n")
    assert "snooze: 2026-12-11\n---\n" in (jane / GLOBEX).read_text(encoding="utf-8")


def test_snooze_past_due_makes_the_snooze_day_the_due_day(run, jane):
    # Until today: the overdue thank-you is due today.
    assert run(jane, "snooze", "jane-doe", "--until", TODAY).exit_code == 0
    assert jane_owed(run, jane)[0] == ("jane-doe", "thank-you", TODAY, "due")
    # A snooze day already past (written by hand, or the days went by): overdue since that day.
    (jane / JANE_PATH).write_text(JANE.replace("summary: Round one}", "summary: Round one, snooze: 2026-12-01}"), encoding="utf-8")
    doc = json.loads(run(jane, "followups", "--format", "json").stdout)
    thanks = [f for f in doc["followups"] if f["contact"] == "jane-doe" and f["kind"] == "thank-you"]
    assert [(f["due"], f["status"], f["days"]) for f in thanks] == [("2026-12-01", "overdue", -2)]


def test_snooze_refusals(run, jane):
    before = {p: (jane / p).read_bytes() for p in (JANE_PATH, GLOBEX)}
    result = run(jane, "snooze", "jane-doe", "--until", "2026-12-02")
    assert result.exit_code == 2
    assert "Invalid value for --until: 2026-12-02 is before today (2026-12-03)" in result.stderr
    result = run(jane, "snooze", "jane-doe", "--until", "2026-12-20", "--on", "2026-12-12")
    assert (result.exit_code, result.stderr) == (1, "Error: nothing to snooze: Jane Doe has no pending follow-up for 2026-12-12\n")
    result = run(jane, "snooze", "jane-do", "--until", "2026-12-20")
    assert (result.exit_code, result.stderr) == (1, "Error: no contact or application 'jane-do' — did you mean jane-doe?\n")
    result = run(jane, "snooze", "jane-doe", "--on", "2026-12-05", "--until", "2026-12-04")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: nothing to snooze: the reminder for Jane Doe (reminder on 2026-12-05: Send the article) "
        "is due on 2026-12-05, not before 2026-12-04\n"
    )
    assert {p: (jane / p).read_bytes() for p in before} == before


def test_a_reconnect_cannot_be_snoozed(run, crm_root):
    text = "---\nname: Hannah Berg\nkeep_in_touch: 1m\ninteractions:\n  - {date: 2026-10-01, type: call}\n---\n"
    root = crm_root(people({"contacts/hannah-berg.md": text}))
    result = run(root, "snooze", "hannah-berg", "--until", "2026-12-20")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: Hannah Berg's most urgent follow-up is a reconnect (due 2026-11-01), which cannot be snoozed: "
        "log an interaction (crm log hannah-berg --type …) or change keep_in_touch in contacts/hannah-berg.md\n"
    )
    assert (root / "contacts/hannah-berg.md").read_text(encoding="utf-8") == text


# --- done -------------------------------------------------------------------------------------


def test_done_an_interviewers_thank_you(run, root):
    assert pending(run, root) == GLOBEX_OWED
    result = run(root, "done", "tom-ross")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Recorded the thank-you to Tom Ross for Globex, Staff Engineer (interview on 2026-12-01) as sent on 2026-12-03\n"
    )
    assert (root / GLOBEX).read_text(encoding="utf-8") == GLOBEX_TEXT.replace(
        "    with: [tom-ross]\n", "    with: [tom-ross]\n    followed_up: {tom-ross: 2026-12-03}\n"
    )
    assert pending(run, root) == GLOBEX_OWED[1:]


def test_done_a_referrers_update_into_an_existing_mapping(run, crm_root):
    flow = GLOBEX_TEXT.replace("    with: [tom-ross]\n", "    with: [tom-ross]\n    followed_up: {tom-ross: 2026-12-02}\n")
    block = GLOBEX_TEXT.replace("    with: [tom-ross]\n", "    with: [tom-ross]\n    followed_up:\n      tom-ross: 2026-12-02\n")
    for text, expected in (
        (flow, flow.replace("{tom-ross: 2026-12-02}", "{tom-ross: 2026-12-02, raj-patel: 2026-12-03}")),
        (block, block.replace("      tom-ross: 2026-12-02\n", "      tom-ross: 2026-12-02\n      raj-patel: 2026-12-03\n")),
    ):
        root = crm_root(people({GLOBEX: text}))
        assert pending(run, root) == GLOBEX_OWED[1:]
        result = run(root, "done", "raj-patel")
        assert result.exit_code == 0, result.stderr
        assert result.stdout == (
            "Recorded the update to Raj Patel for Globex, Staff Engineer (interview on 2026-12-01) as sent on 2026-12-03\n"
        )
        assert (root / GLOBEX).read_text(encoding="utf-8") == expected
        assert pending(run, root) == GLOBEX_OWED[2:]


def test_done_the_status_check_of_an_application(run, root):
    result = run(root, "done", "globex-staff-engineer")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Recorded the status check with Mia Chen for Globex, Staff Engineer (interview on 2026-12-01) on 2026-12-03\n"
    )
    assert (root / GLOBEX).read_text(encoding="utf-8") == GLOBEX_TEXT.replace(
        "    with: [tom-ross]\n", "    with: [tom-ross]\n    checked: 2026-12-03\n"
    )
    assert pending(run, root) == GLOBEX_OWED[:2]
    again = run(root, "done", "globex-staff-engineer")
    assert again.exit_code == 1
    assert again.stderr == (
        "Error: no status check is owed for globex-staff-engineer (interview on 2026-12-01): it was recorded on "
        "2026-12-03; for a note to someone, add --to SLUG\n"
    )


def test_done_application_to_a_person(run, root):
    result = run(root, "done", "globex-staff-engineer", "--to", "raj-patel", "--date", "2026-12-02")
    assert result.exit_code == 0, result.stderr
    assert "followed_up: {raj-patel: 2026-12-02}" in (root / GLOBEX).read_text(encoding="utf-8")
    assert pending(run, root) == [GLOBEX_OWED[0], GLOBEX_OWED[2]]
    result = run(root, "done", "globex-staff-engineer", "--to", "raj-patel")
    assert (result.exit_code, result.stderr) == (
        1, "Error: no note to Raj Patel is pending for globex-staff-engineer (interview on 2026-12-01)\n"
    )
    result = run(root, "done", "globex-staff-engineer", "--to", "tom-ross", "--date", "2026-11-30")
    assert result.exit_code == 1 and "--date 2026-11-30 is before the interview on 2026-12-01" in result.stderr
    assert run(root, "done", "raj-patel", "--to", "tom-ross").exit_code == 2
    result = run(root, "done", "globx", "--to", "tom-ross")
    assert (result.exit_code, result.stderr) == (1, "Error: no application 'globx' — did you mean globex-staff-engineer?\n")


def test_done_picks_the_most_urgent_between_interactions_and_applications(run, crm_root):
    tom = "---\nname: Tom Ross\ninteractions:\n  - {date: 2026-11-30, type: coffee}\n---\n"
    root = crm_root(people({GLOBEX: GLOBEX_TEXT, "contacts/tom-ross.md": tom}))
    # The coffee's thank-you is due 2026-12-02, as is the interview's: the interaction goes first.
    result = run(root, "done", "tom-ross")
    assert result.stdout == "Recorded the thank-you to Tom Ross for the coffee on 2026-11-30 as sent on 2026-12-03\n"
    result = run(root, "done", "tom-ross")
    assert result.stdout.startswith("Recorded the thank-you to Tom Ross for Globex, Staff Engineer (interview")
    result = run(root, "done", "tom-ross")
    assert (result.exit_code, result.stderr) == (1, "Error: nothing to record: Tom Ross has no pending thank-you\n")


def test_a_referrer_who_is_also_the_recruiter_gets_one_closing_note(run, crm_root):
    text = (
        "---\ncompany: Globex\nrole: Staff Engineer\nvia: raj-patel\ncontacts: [raj-patel]\nstages:\n"
        "  - {stage: applied, date: 2026-11-20, followed_up: {raj-patel: 2026-11-20}}\n"
        "  - {stage: rejected, date: 2026-12-01}\n---\n"
    )
    root = crm_root(people({GLOBEX: text}))
    assert pending(run, root) == [("raj-patel", "closing", "2026-12-04", "upcoming")]
    result = run(root, "done", "raj-patel")
    assert result.stdout == (
        "Recorded the closing note to Raj Patel for Globex, Staff Engineer (rejected on 2026-12-01) as sent on 2026-12-03\n"
    )
    assert pending(run, root) == []


def test_a_withdrawn_application_still_owes_the_closing_notes(run, root):
    result = run(root, "stage", "globex-staff-engineer", "withdrawn", "--note", "took another offer")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Added withdrawn on 2026-12-03 to applications/globex-staff-engineer.md (Globex, Staff Engineer)\n"
        "Owed: closing to Raj Patel by 2026-12-06 — crm draft raj-patel\n"
        "Owed: closing to Mia Chen by 2026-12-06 — crm draft mia-chen\n"
    )
    assert pending(run, root) == [
        ("tom-ross", "thank-you", "2026-12-02", "overdue"),
        ("mia-chen", "closing", "2026-12-06", "upcoming"),
        ("raj-patel", "closing", "2026-12-06", "upcoming"),
    ]
    assert run(root, "applications").stdout.endswith("1 closed application not shown (crm applications --all)\n")


# --- --commit ---------------------------------------------------------------------------------


def test_commit_scopes_to_the_changed_file(run, root):
    (root / JANE_PATH).write_text(JANE, encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    (root / "contacts/mia-chen.md").write_text("---\nname: Mia Chen, edited\n---\n", encoding="utf-8")

    def last() -> list[str]:
        return git(root, "show", "--name-only", "--format=%s", "HEAD").strip().split("\n")

    result = run(root, "stage", "globex-staff-engineer", "onsite", "--with", "tom-ross", "--commit")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1].endswith(": stage onsite for globex-staff-engineer")
    assert last() == ["stage onsite for globex-staff-engineer", "", GLOBEX]
    assert run(root, "done", "tom-ross", "--commit").exit_code == 0
    assert last() == ["thank-you sent to Tom Ross for globex-staff-engineer (interview on 2026-12-01)", "", GLOBEX]
    assert run(root, "done", "globex-staff-engineer", "--commit").exit_code == 0
    assert last() == ["status check for globex-staff-engineer (onsite on 2026-12-03)", "", GLOBEX]
    assert run(root, "snooze", "jane-doe", "--until", "2026-12-08", "--commit").exit_code == 0
    assert last() == ["snooze thank-you to Jane Doe until 2026-12-08", "", JANE_PATH]
    assert run(root, "apply", "Hooli", "SRE", "--commit").exit_code == 0
    assert last() == ["apply to Hooli, SRE", "", "applications/hooli-sre.md"]
    assert git(root, "status", "--porcelain") == " M contacts/mia-chen.md\n"


def test_commit_outside_git_fails_before_writing(run, root):
    before = (root / GLOBEX).read_bytes()
    for args in (["stage", "globex-staff-engineer", "onsite"], ["done", "globex-staff-engineer"],
                 ["snooze", "globex-staff-engineer", "--until", "2026-12-09"], ["apply", "Hooli", "SRE"]):  # fmt: skip
        result = run(root, *args, "--commit")
        assert result.exit_code == 1 and "not in a git repository" in result.stderr, args
    assert (root / GLOBEX).read_bytes() == before
    assert not (root / "applications/hooli-sre.md").exists()
