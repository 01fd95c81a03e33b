"""The importers' readers on realistic hand-written exports (tests/data/imports/) and edge cases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from generator.importers import google, linkedin, vcard, vcard_text
from generator.importers.common import ImportFormatError, linkedin_key, url_key
from generator.importers.values import parse_export_date

DATA = Path(__file__).parent / "data" / "imports"


def by_name(parsed):
    return {r.name: r for r in parsed.records}


# --- LinkedIn ---------------------------------------------------------------------------------


def test_linkedin_current_export_with_notes_preamble():
    parsed = linkedin.parse((DATA / "linkedin_current.csv").read_bytes())
    people = by_name(parsed)
    priya = people["Priya Raman"]
    assert priya.line == 5
    assert priya.company == "Northwind Labs"
    assert priya.title == "Engineering Manager, Platform"  # quoted comma
    assert priya.links == {"linkedin": "https://www.linkedin.com/in/priya-raman-example"}
    assert priya.extra == {"connected_on": dt.date(2025, 12, 7)}
    assert priya.emails == []
    assert people["Marcus Chen"].emails == ["marcus.chen@example.com"]
    assert people["Marcus Chen"].company == "Acme, Inc."
    assert people["Sofia García López"].title == 'Profesora "Titular"'  # doubled quotes
    assert people["Cher"].title == "Singer,\nActor"  # a newline inside quotes; no last name
    assert people["Cher"].line == 8
    assert people["Dmitri Volkov"].line == 10  # line numbers stay right after a multi-line cell
    assert people["Dmitri Volkov"].extra["connected_on"] == dt.date(2023, 3, 1)
    assert people["Aisha Bello 🚀"].emails == ["aisha@bello.example"]
    assert "" in people  # the row without a name is passed on; the merge step skips it


def test_linkedin_old_exports_without_preamble_or_url():
    old = linkedin.parse((DATA / "linkedin_old.csv").read_bytes())
    assert [r.name for r in old.records] == ["Grace Hopper", "Alan Turing"]
    assert old.records[0].links == {}
    assert old.records[0].emails == ["grace@navy.example"]
    assert old.records[1].company == "Bletchley Park, Hut 8"
    assert old.records[1].extra == {"connected_on": dt.date(2017, 6, 23)}
    crlf = linkedin.parse((DATA / "linkedin_old_url.csv").read_bytes())
    assert crlf.records[0].links["linkedin"] == "https://www.linkedin.com/in/ada-lovelace"


def test_linkedin_current_company_alias_and_bom():
    data = "\ufeffFirst Name,Last Name,Email Address,Current Company,Current Position\nAl,Bo,,X,Y\n"
    record = linkedin.parse(data.encode()).records[0]
    assert (record.name, record.company, record.title) == ("Al Bo", "X", "Y")


@pytest.mark.parametrize("name", ["google_current.csv", "google_legacy.csv", "vcard30.vcf"])
def test_linkedin_rejects_other_formats(name):
    with pytest.raises(ImportFormatError) as info:
        linkedin.parse((DATA / name).read_bytes())
    assert "not a LinkedIn Connections.csv" in str(info.value)
    assert "looks like" in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07 Dec 2025", dt.date(2025, 12, 7)),
        ("7 December 2025", dt.date(2025, 12, 7)),
        ("Dec 7, 2025", dt.date(2025, 12, 7)),
        ("2025-12-07", dt.date(2025, 12, 7)),
        ("12/7/25", dt.date(2025, 12, 7)),
        ("31 Feb 2025", None),
        ("yesterday", None),
    ],
)
def test_export_dates(text, expected):
    assert parse_export_date(text) == expected


# --- Google -----------------------------------------------------------------------------------


def test_google_current_header():
    parsed = google.parse((DATA / "google_current.csv").read_bytes())
    people = by_name(parsed)
    jane = people["Jane Q. Doe"]
    assert jane.emails == ["jane@acme.example", "jane.doe@mail.example"]  # " ::: " in one cell
    assert jane.phones == ["+1 555 0100", "+1 555 0101"]
    assert (jane.company, jane.title) == ("Acme Corp", "Engineering Manager")
    assert jane.extra == {"department": "Platform", "birthday": "--12-09"}  # a birthday without a year
    assert jane.tags == ["Job search"]  # * myContacts and * starred dropped
    assert jane.location == "Berlin, Germany"
    assert jane.links == {"linkedin": "https://www.linkedin.com/in/janedoe"}
    assert jane.notes == 'Met at PyCon 2026.\nLoves rock climbing, and "real" coffee.'
    assert people["Kenji Watanabe"].links == {"blog": "https://kenji.example/blog"}
    assert people["Olu Adeyemi"].tags == ["Mentors", "Job search"]
    assert people["Olu Adeyemi"].location == "Lagos, Nigeria"
    nameless = people["Someone"]  # a row with only an e-mail is named after the address, and says so
    assert (nameless.emails, nameless.named_from) == (["someone@nowhere.example"], "someone@nowhere.example")
    assert (nameless.line, "no name in the file; named 'Someone' after someone@nowhere.example") in parsed.warnings


def test_google_legacy_header():
    parsed = google.parse((DATA / "google_legacy.csv").read_bytes())
    raj, zoe = parsed.records
    assert raj.name == "Raj Patel"
    assert raj.emails == ["raj@globex.example", "raj.patel@mail.example"]
    assert raj.tags == ["Friends", "Referrers"]  # * My Contacts dropped
    assert (raj.company, raj.title, raj.location) == ("Globex", "Director of Engineering", "Bangalore")
    assert raj.links == {"github": "https://github.com/rajpatel"}
    assert raj.notes == "Old university friend; knows everyone at Globex."
    assert zoe.name == "Zoë Müller"


@pytest.mark.parametrize("name", ["linkedin_current.csv", "vcard21.vcf"])
def test_google_rejects_other_formats(name):
    with pytest.raises(ImportFormatError, match="not a Google Contacts CSV"):
        google.parse((DATA / name).read_bytes())


# --- vCard ------------------------------------------------------------------------------------


def test_vcard_21_quoted_printable_and_base64_photo():
    parsed = vcard.parse((DATA / "vcard21.vcf").read_bytes())
    bjorn, francois = parsed.records
    assert bjorn.name == "Björn Åström"
    assert (bjorn.company, bjorn.extra) == ("Ericsson", {"department": "Radio"})
    assert bjorn.phones == ["+46 8 719 0000", "+46 70 123 4567"]
    assert bjorn.emails == ["bjorn@ericsson.example"]
    assert bjorn.notes == "Met at the Stockholm meetup.\nWants an intro to the platform team."
    assert francois.name == "François Dupont"  # from N, ISO-8859-1 quoted-printable
    assert francois.line == 17


def test_vcard_30_apple_export():
    parsed = vcard.parse((DATA / "vcard30.vcf").read_bytes())
    daniel, yuki = parsed.records
    assert daniel.name == "Daniel Okafor"
    assert daniel.title == "Senior Engineer, Infrastructure"
    assert daniel.emails == ["daniel.okafor@acme.example", "dan@okafor.example"]
    assert daniel.phones == ["+1 (555) 010-7788", "+1 555 010 9900"]
    assert daniel.links == {
        "linkedin": "https://www.linkedin.com/in/daniel-okafor",
        "homepage": "https://daniel.example",
    }
    assert daniel.location == "Seattle, WA, USA"
    assert daniel.tags == ["referrer", "Job Search, 2026"]  # myContacts dropped, \, kept
    assert daniel.notes == (
        "Referred me to the platform team; very generous with time.\nAsk about the Q1 opening.\n"
        "Likes backslashes: \\ ok."
    )
    assert yuki.name == "中村 由紀"
    assert yuki.links == {"linkedin": "https://linkedin.com/in/yuki-nakamura/"}


def test_vcard_40():
    lea = vcard.parse((DATA / "vcard40.vcf").read_bytes()).records[0]
    assert lea.name == "Léa Martin"
    assert lea.emails == ["lea.martin@globex.example", "lea@martin.example"]
    assert lea.phones == ["+33-1-23-45-67-89", "+33-6-12-34-56-78 ext. 12"]  # tel: URI with ;ext=
    assert lea.location == "Paris, France"
    assert lea.links == {"website": "https://globex.example/team/lea"}
    assert lea.tags == ["mentor", "paris"]
    assert lea.notes == "Keynote speaker at DevOpsDays Paris."


def test_vcard_preferred_email_first_and_name_from_n():
    text = "BEGIN:VCARD\nVERSION:3.0\nN:Doe;Jane;Q;;\nEMAIL:b@x.example\nEMAIL;TYPE=pref:a@x.example\nEND:VCARD\n"
    record = vcard.parse(text.encode()).records[0]
    assert record.name == "Jane Q Doe"
    assert record.emails == ["a@x.example", "b@x.example"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, "binary"),
        (b"First Name,Last Name,URL\nA,B,C\n", "does not start with BEGIN:VCARD"),
        (b"BEGIN:VCARD\nVERSION:3.0\nFN:Jane\n", "no END:VCARD"),
        (b"BEGIN:VCARD\nVERSION:3.0\nFN:Jane\nthis is junk\nEND:VCARD\n", "line 4"),
    ],
)
def test_vcard_bad_files(data, message):
    with pytest.raises(ImportFormatError) as info:
        vcard.parse(data)
    assert message in str(info.value)


def test_escape_and_split_round_trip():
    for value in ["a,b;c\\d", "line1\nline2", "plain", "trailing\\"]:
        assert vcard_text.split_escaped(vcard_text.escape(value), ";") == [value]
    assert vcard_text.split_escaped("a\\,b,c", ",") == ["a,b", "c"]
    assert vcard_text.split_escaped("a\\\\,b", ",") == ["a\\", "b"]


def test_fold_never_splits_a_character():
    line = "NOTE:" + "ä€😀" * 40
    folded = vcard_text.fold(line)
    assert folded.endswith("\r\n")
    for part in folded[:-2].split("\r\n"):
        assert len(part.encode("utf-8")) <= 75
    assert folded[:-2].replace("\r\n ", "") == line


def test_url_keys():
    assert url_key("https://www.LinkedIn.com/in/jane-doe/?trk=x") == "linkedin.com/in/jane-doe"
    assert linkedin_key("http://uk.linkedin.com/in/Jane-Doe") == linkedin_key("linkedin.com/in/jane-doe/")
    assert linkedin_key("https://github.com/jane") is None


def test_linkedin_resaved_by_a_spreadsheet_with_semicolons():
    data = 'First Name;Last Name;URL;Email Address;Company;Position;Connected On\r\nAl;Bo;;;"X; Y";Z;07 Dec 2025\r\n'
    record = linkedin.parse(data.encode("cp1252")).records[0]
    assert (record.name, record.company, record.title) == ("Al Bo", "X; Y", "Z")


def test_cp1252_and_utf16_files():
    data = "First Name,Last Name,Company,Position\nJosé,Núñez,Café,Chef\n"
    assert linkedin.parse(data.encode("cp1252")).records[0].name == "José Núñez"
    assert linkedin.parse(data.encode("utf-16")).records[0].company == "Café"
