"""`crm followups` (text, JSON, ICS) and `crm draft` on the demo CRM and small roots."""

from __future__ import annotations

import json

from icalendar import Calendar

from generator.drafts import PLACEHOLDER

DEMO_TEXT = """\
Overdue (8)
  2026-11-15  10 days overdue   reconnect    Tomás Müller    keep in touch
  2026-11-18  7 days overdue    closing      Emma Johansson  closing note: Fjord Cloud, Platform Engineer, withdrawn on 2026-11-15
  2026-11-18  7 days overdue    closing      Tomás Müller    closing note: Fjord Cloud, Platform Engineer, withdrawn on 2026-11-15
  2026-11-20  5 days overdue    thank-you    Kenji Watanabe  interview at Northwind Labs, Senior Backend Engineer on 2026-11-19
  2026-11-20  5 days overdue    check-in     Marcus Chen     interview on 2026-11-12, thanked 2026-11-13
  2026-11-21  4 days overdue    reminder     Daniel Okafor   Send Daniel the updated résumé for his records
  2026-11-22  3 days overdue    thank-you    Sofia Álvarez   informational interview on 2026-11-20
  2026-11-24  1 day overdue     thank-you    Daniel Okafor   referral on 2026-11-23  [add what you gained to make it personal]

Due today (3)
  2026-11-25  today             reminder     Aisha Khan      Send portfolio link and two code samples
  2026-11-25  today             thank-you    Priya Raman     interview on 2026-11-24
  2026-11-25  today             thank-you    Sofia Álvarez   thank your referrer: applied to Brightwave, Staff Engineer on 2026-11-24

Upcoming (9)
  2026-11-26  tomorrow          thank-you    Kenji Watanabe  networking on 2026-11-24
  2026-11-27  in 2 days         update       Daniel Okafor   update your referrer: Northwind Labs, Senior Backend Engineer, onsite on 2026-11-24
  2026-11-28  in 3 days         check-in     Aisha Khan      interview on 2026-11-20, thanked 2026-11-21
  2026-11-28  in 3 days         closing      Aisha Khan      closing note: Lumen Health, Backend Engineer, Claims, rejected on 2026-11-24
  2026-11-28  in 3 days         reconnect    Hannah Berg     keep in touch
  2026-12-01  in 6 days         reminder     Grace Liu       Ask about the Q1 opening on the data platform team
  2026-12-01  in 6 days         status-check Marcus Chen     status check: Northwind Labs, Senior Backend Engineer (onsite on 2026-11-24, no news since)
  2026-12-01  in 6 days         status-check Sofia Álvarez   status check: Brightwave, Staff Engineer (applied on 2026-11-24, no news since)
  2026-12-02  in 7 days         reminder     Priya Raman     Send the design doc sample she asked about

Follow-up rate (last 90 days): 62% — 5 of 8 thank-you notes sent on time
"""


def test_demo_followups_text(cli, demo_root):
    result = cli(demo_root, "--today", "2026-11-25", "followups")
    assert result.exit_code == 0, result.stderr
    # The "(as of …)" line appears only when the date is not the real one.
    body = result.stdout.split("\n", 1)[1] if result.stdout.startswith("(as of") else result.stdout
    assert body == DEMO_TEXT


def test_as_of_line_when_today_is_fixed(cli, demo_root):
    result = cli(demo_root, "--today", "2001-01-01", "followups")
    assert result.stdout.startswith("(as of 2001-01-01)\n")


def test_today_sources_in_order(cli, demo_root):
    def first_due(*args, env=None):
        doc = json.loads(cli(demo_root, *args, "followups", "--format", "json", env=env).stdout)
        return doc["today"]

    assert first_due() == "2026-11-25"  # crm.yaml's today:
    assert first_due(env={"CRM_TODAY": "2026-12-01"}) == "2026-12-01"
    assert first_due("--today", "2026-12-02", env={"CRM_TODAY": "2026-12-01"}) == "2026-12-02"


def test_followups_json_shape(cli, demo_root):
    result = cli(demo_root, "followups", "--format", "json", "--overdue")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["today"] == "2026-11-25"
    assert doc["followups"][0] == {
        "contact": "tomas-muller",
        "name": "Tomás Müller",
        "kind": "reconnect",
        "due": "2026-11-15",
        "status": "overdue",
        "days": -10,
        "interaction": None,
        "note_missing_gained": False,
    }
    assert doc["followups"][7] == {
        "contact": "daniel-okafor",
        "name": "Daniel Okafor",
        "kind": "thank-you",
        "due": "2026-11-24",
        "status": "overdue",
        "days": -1,
        "interaction": {"date": "2026-11-23", "type": "referral"},
        "note_missing_gained": True,
    }
    assert [f["status"] for f in doc["followups"]] == ["overdue"] * 8
    # a note a job application owes names the application
    assert doc["followups"][1] == {
        "contact": "emma-johansson",
        "name": "Emma Johansson",
        "kind": "closing",
        "due": "2026-11-18",
        "status": "overdue",
        "days": -7,
        "interaction": None,
        "note_missing_gained": False,
        "application": {
            "slug": "fjord-cloud-platform-engineer", "company": "Fjord Cloud", "role": "Platform Engineer",
            "stage": "withdrawn", "date": "2026-11-15", "to": "recruiter",
        },
    }  # fmt: skip


def test_followups_filters(cli, demo_root):
    def slugs(*args):
        return [f["contact"] for f in json.loads(cli(demo_root, "followups", "--format", "json", *args).stdout)["followups"]]

    assert slugs("--tag", "northwind") == ["kenji-watanabe", "marcus-chen", "priya-raman", "kenji-watanabe",
                                           "marcus-chen", "priya-raman"]  # fmt: skip
    assert slugs("--within", "0") == ["tomas-muller", "emma-johansson", "tomas-muller", "kenji-watanabe",
                                      "marcus-chen", "daniel-okafor", "sofia-alvarez", "daniel-okafor", "aisha-khan",
                                      "priya-raman", "sofia-alvarez"]  # fmt: skip
    everything = slugs("--all")
    assert len(everything) > len(slugs())
    assert "olivia-brooks" in everything and "olivia-brooks" not in slugs()
    assert cli(demo_root, "followups", "--all", "--overdue").exit_code == 2


def test_followups_ics_is_a_valid_calendar(cli, demo_root):
    result = cli(demo_root, "followups", "--format", "ics")
    assert result.exit_code == 0
    text = result.stdout_bytes.decode()  # .stdout would fold CRLF into LF
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    cal = Calendar.from_ical(text)
    events = [c for c in cal.walk("VEVENT")]
    doc = json.loads(cli(demo_root, "followups", "--format", "json", "--all").stdout)
    assert len(events) == len(doc["followups"])
    first = events[0]
    assert str(first["SUMMARY"]) == "Reconnect with Tomás Müller"
    assert first["DTSTART"].dt.isoformat() == "2026-11-15"
    assert first.walk("VALARM"), "each event carries an alarm"
    priya = next(e for e in events if str(e["SUMMARY"]) == "Send a thank-you to Priya Raman")
    description = str(priya["DESCRIPTION"])
    assert "Subject: Thank you for the interview at Northwind Labs" in description
    assert "Dear Priya," in description
    # UIDs are unique and stable across runs
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == len(uids)
    again = Calendar.from_ical(cli(demo_root, "followups", "--format", "ics").stdout_bytes.decode())
    assert [str(e["UID"]) for e in again.walk("VEVENT")] == uids


def test_draft_for_the_demo_interview(cli, demo_root):
    result = cli(demo_root, "draft", "priya-raman")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Subject: Thank you for the interview at Northwind Labs"
    assert lines[2] == "Dear Priya,"
    assert "Thank you for taking the time to interview me yesterday." in result.stdout
    assert "how Northwind shards its event store" in result.stdout
    assert result.stdout.rstrip().endswith("Alex Rivera\nBackend engineer · alex.rivera@example.com · +1 555 0199")


def test_draft_check_in_and_by_date(cli, demo_root):
    check_in = cli(demo_root, "draft", "marcus-chen").stdout
    assert check_in.startswith("Subject: Checking in on the role at Northwind Labs\n")
    assert "the note I sent on 13 November" in check_in
    by_date = cli(demo_root, "draft", "priya-raman", "--date", "2026-11-24")
    assert by_date.exit_code == 0
    none = cli(demo_root, "draft", "priya-raman", "--date", "2026-10-30")
    assert none.exit_code == 1
    assert "no pending thank-you or check-in for 2026-10-30" in none.stderr


def test_draft_missing_gained_has_placeholder_and_flag(cli, demo_root):
    result = cli(demo_root, "draft", "daniel-okafor")
    assert result.exit_code == 0
    assert PLACEHOLDER in result.stdout
    assert "add what you gained to make it personal" in result.stderr


def test_draft_errors(cli, demo_root):
    unknown = cli(demo_root, "draft", "priya-ramen")
    assert unknown.exit_code == 1
    assert unknown.stderr.startswith("Error: no contact 'priya-ramen' — did you mean priya-raman?")
    nothing = cli(demo_root, "draft", "olivia-brooks")
    assert nothing.exit_code == 1
    assert nothing.stderr == "Error: nothing to draft: Olivia Brooks has no pending thank-you or check-in\n"


def test_user_note_template_overrides_builtin(cli, demo_root):
    notes = demo_root / "templates" / "notes"
    notes.mkdir(parents=True)
    (notes / "interview.md.j2").write_text("Subject: Thanks, {{ first_name }}!\n\nGained: {{ gained }}\n-- {{ signature }}\n")
    result = cli(demo_root, "draft", "priya-raman")
    assert result.stdout.startswith("Subject: Thanks, Priya!\n\nGained: how Northwind shards")


def test_template_error_names_file_and_line(cli, demo_root):
    notes = demo_root / "templates" / "notes"
    notes.mkdir(parents=True)
    (notes / "interview.md.j2").write_text("Subject: x\n\nHello\n{{ first_name \n")
    syntax = cli(demo_root, "draft", "priya-raman")
    assert syntax.exit_code == 1
    assert syntax.stderr.startswith("Error: templates/notes/interview.md.j2:4: template error:")
    (notes / "interview.md.j2").write_text("Subject: x\n\nHello\n\n{{ no_such_thing }}\n")
    undefined = cli(demo_root, "draft", "priya-raman")
    assert undefined.exit_code == 1
    assert undefined.stderr.startswith("Error: templates/notes/interview.md.j2:5: template error:")
    assert "no_such_thing" in undefined.stderr


def test_invalid_files_still_list_followups_then_exit_1(cli, demo_root):
    (demo_root / "contacts" / "broken.md").write_text("---\nname: [\n---\n")
    result = cli(demo_root, "followups")
    assert result.exit_code == 1
    assert "Priya Raman" in result.stdout
    assert "1 file with errors: contacts/broken.md" in result.stderr
