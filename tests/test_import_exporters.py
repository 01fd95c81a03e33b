"""Imports of what real exporters write (issue: never lose, blend or garble a person).

Every fixture is made up here, byte by byte, with one exporter's quirk: a fold inside a UTF-8
character, one Windows-1252 field in a UTF-8 file, FN variants, `tel:` extensions, fax numbers,
contact groups, cards with only an e-mail, LinkedIn's 2018 dates and spreadsheet re-saves,
Outlook's CSV, and birthdays in every vCard form. Each goes through the real `crm import`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import yaml
from click.testing import Result

from generator.frontmatter import decode, split
from generator.importers import google, linkedin, outlook, vcard
from generator.importers.values import parse_birthday, parse_export_date

Cli = Callable[..., Result]


def front(path: Path) -> dict:
    return yaml.safe_load(split(decode(path.read_bytes())).yaml_text)


def cards(*bodies: str) -> bytes:
    return "".join(f"BEGIN:VCARD\r\nVERSION:3.0\r\n{b}END:VCARD\r\n" for b in bodies).encode("utf-8")


def imported(cli: Cli, root: Path, fmt: str, data: bytes, tmp_path: Path, name: str = "export") -> Result:
    export = tmp_path / f"{name}.{'vcf' if fmt == 'vcard' else 'csv'}"
    export.write_bytes(data)
    result = cli(root, "import", fmt, str(export))
    assert result.exit_code == 0, result.output
    again = cli(root, "import", fmt, str(export))
    assert " 0 created, 0 merged" in again.output and "conflict " not in again.output  # idempotent
    assert cli(root, "check").exit_code == 0
    return result


# --- decoding ---------------------------------------------------------------------------------


def test_a_fold_inside_a_utf8_character_is_mended() -> None:
    data = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:S\xc3\r\n \xb8ren Kierkeg\xc3\r\n \xa5rd\r\nEND:VCARD\r\n"
    parsed = vcard.parse(data)
    assert [r.name for r in parsed.records] == ["Søren Kierkegård"]
    assert parsed.warnings == []


def test_one_windows_1252_field_garbles_nothing_else(cli: Cli, crm_root: Callable[..., Path], tmp_path: Path) -> None:
    data = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Søren Kierkegård\r\nORG:Zoë & Co\r\n".encode()
        + b"NOTE:Caf\xe9 in K\xf8benhavn\r\nEND:VCARD\r\n"
    )
    parsed = vcard.parse(data)
    record = parsed.records[0]
    assert (record.name, record.company) == ("Søren Kierkegård", "Zoë & Co")  # not 'SÃ¸ren'
    assert record.notes == "Café in København"
    assert parsed.warnings == [(5, "NOTE is not UTF-8; read as Windows-1252 (check its accents)")]
    root = crm_root()
    result = imported(cli, root, "vcard", data, tmp_path)
    assert "warning   line 5: NOTE is not UTF-8" in result.output
    assert front(root / "contacts/soren-kierkegard.md")["name"] == "Søren Kierkegård"


def test_a_broken_utf8_byte_keeps_the_rest_of_its_line() -> None:
    data = "BEGIN:VCARD\r\nFN:Zoë Ødegaard\r\nTITLE:Ingeniør".encode() + b"\xff\r\nEND:VCARD\r\n"
    parsed = vcard.parse(data)
    assert parsed.records[0].title == "Ingeniør\ufffd"
    assert parsed.warnings == [(3, "TITLE is not valid UTF-8; the broken bytes are shown as \ufffd")]


def test_a_windows_1252_file_is_read_as_one_silently() -> None:
    data = "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:José Müller\r\nEND:VCARD\r\n".encode("cp1252")
    parsed = vcard.parse(data)
    assert ([r.name for r in parsed.records], parsed.warnings) == (["José Müller"], [])


def test_a_csv_line_that_is_not_utf8_is_read_alone_and_reported() -> None:
    head = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
    data = (head + "Zoë,Ødegaard,,,Fjord AS,CTO,01 Feb 2024\n").encode() + b"Jos\xe9,Garc\xeda,,,Acme,PM,02 Feb 2024\n"
    parsed = linkedin.parse(data)
    assert [r.name for r in parsed.records] == ["Zoë Ødegaard", "José García"]
    assert parsed.warnings == [(3, "this line is not UTF-8; read as Windows-1252 (check its accents)")]


# --- vCard: big photos, names, phones, groups, nameless cards, birthdays ------------------------------


def test_photos_are_skipped_and_line_numbers_stay_right() -> None:
    photo = "PHOTO;ENCODING=b;TYPE=JPEG:" + "QUJD" * 19 + "".join("\r\n " + "QUJD" * 18 for _ in range(5000))
    data = cards(f"FN:Big Photo\r\n{photo}\r\nEMAIL:big@photo.example\r\n", "FN:After\r\nNOTE;X:\r\n")
    parsed = vcard.parse(data)
    big, after = parsed.records
    assert (big.name, big.emails) == ("Big Photo", ["big@photo.example"])
    assert after.line == 5 + 5001 + 1  # the second card's BEGIN, after 5,001 photo lines


def test_the_preferred_or_first_fn_wins() -> None:
    first = cards("FN;ALTID=1;LANGUAGE=ja:中村 由紀\r\nFN;ALTID=1;LANGUAGE=en:Yuki Nakamura\r\n")
    preferred = cards("FN;ALTID=1;LANGUAGE=ja:中村 由紀\r\nFN;ALTID=1;LANGUAGE=en;PREF=1:Yuki Nakamura\r\n")
    assert vcard.parse(first).records[0].name == "中村 由紀"
    assert vcard.parse(preferred).records[0].name == "Yuki Nakamura"


def test_phone_extensions_are_kept_and_faxes_are_not_phones(
    cli: Cli, crm_root: Callable[..., Path], tmp_path: Path
) -> None:
    data = cards(
        "FN:Raj Patel\r\nTEL;VALUE=uri;TYPE=work:tel:+1-555-010-2345;ext=678\r\n"
        "TEL;TYPE=WORK,FAX:+1 555 010 9999\r\nTEL;TYPE=CELL:+1 555 010 1111\r\n",
        "FN:Old Card\r\nTEL;WORK;FAX:+44 20 7946 0000\r\n",  # vCard 2.1 bare parameters
    )
    root = crm_root()
    imported(cli, root, "vcard", data, tmp_path)
    raj = front(root / "contacts/raj-patel.md")
    assert raj["phone"] == ["+1-555-010-2345 ext. 678", "+1 555 010 1111"]
    assert raj["fax"] == "+1 555 010 9999"
    old = front(root / "contacts/old-card.md")
    assert "phone" not in old and old["fax"] == "+44 20 7946 0000"
    exported = cli(root, "export", "vcard").output
    assert "TEL;TYPE=FAX:+1 555 010 9999" in exported and "TEL;TYPE=VOICE:+1-555-010-2345 ext. 678" in exported


def test_contact_groups_are_not_people(cli: Cli, crm_root: Callable[..., Path], tmp_path: Path) -> None:
    data = cards(
        "UID:a\r\nFN:Ana Lima\r\nEMAIL:ana@lima.example\r\n",
        "UID:b\r\nEMAIL:bo.chen@chen.example\r\n",  # Fastmail: a card with only an address
        "KIND:group\r\nFN:Climbing friends\r\nMEMBER:urn:uuid:a\r\nMEMBER:urn:uuid:b\r\n",
        "X-ADDRESSBOOKSERVER-KIND:group\r\nFN:Family\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:a\r\n",
    )
    root = crm_root()
    result = imported(cli, root, "vcard", data, tmp_path)
    assert sorted(p.name for p in (root / "contacts").glob("*.md")) == ["ana-lima.md", "bo-chen.md"]
    assert "skip      line 12: a contact group 'Climbing friends' (2 members), not a person" in result.output
    assert "skip      line 19: a contact group 'Family' (1 member), not a person" in result.output
    assert "2 created, 0 merged, 0 unchanged, 0 conflicts, 2 skipped" in result.output


def test_cards_without_a_name_are_named_and_say_so(cli: Cli, crm_root: Callable[..., Path], tmp_path: Path) -> None:
    data = cards("EMAIL:jane.doe+news@example.com\r\n", "ORG:Initech\r\nEMAIL:info@initech.example\r\n", "NOTE:x\r\n")
    root = crm_root()
    result = imported(cli, root, "vcard", data, tmp_path)
    assert front(root / "contacts/jane-doe.md") == {"name": "Jane Doe", "email": "jane.doe+news@example.com"}
    assert front(root / "contacts/initech.md")["email"] == "info@initech.example"
    assert "warning   line 1: no name in the file; named 'Jane Doe' after jane.doe+news@example.com" in result.output
    assert "warning   line 5: no name in the file; named 'Initech' after the organisation" in result.output
    assert "skip      line 10: no name (an empty entry)" in result.output


def test_a_made_up_name_is_no_conflict_once_the_user_renames(
    cli: Cli, crm_root: Callable[..., Path], tmp_path: Path
) -> None:
    root = crm_root({"contacts/jane.md": "---\nname: Jane Q. Doe\nemail: jane.doe@example.com\n---\n"})
    result = imported(cli, root, "vcard", cards("EMAIL:jane.doe@example.com\r\n"), tmp_path)
    assert "0 created, 0 merged, 1 unchanged, 0 conflicts" in result.output


def test_birthdays_in_every_form(cli: Cli, crm_root: Callable[..., Path], tmp_path: Path) -> None:
    data = cards(
        "FN:Full Date\r\nBDAY:1985-12-09\r\n",
        "FN:Basic Form\r\nBDAY:19851209\r\n",
        "FN:No Year\r\nBDAY:--1209\r\n",
        "FN:Leap Day\r\nBDAY:--02-29\r\n",
        "FN:Apple No Year\r\nBDAY;X-APPLE-OMIT-YEAR=1604:1604-12-09\r\n",
        "FN:With Time\r\nBDAY:1985-12-09T00:00:00Z\r\n",
        "FN:As Text\r\nBDAY;VALUE=text:circa 1980\r\n",
    )
    root = crm_root()
    result = imported(cli, root, "vcard", data, tmp_path)
    got = {p.stem: front(p).get("birthday") for p in (root / "contacts").glob("*.md")}
    assert got == {
        "full-date": dt.date(1985, 12, 9), "basic-form": dt.date(1985, 12, 9), "no-year": "--12-09",
        "leap-day": "--02-29", "apple-no-year": "--12-09", "with-time": dt.date(1985, 12, 9),
        "as-text": "circa 1980",
    }  # fmt: skip
    assert "warning" not in result.output  # VALUE=text is text on purpose
    exported = cli(root, "export", "vcard").output
    assert "BDAY:1985-12-09" in exported and "BDAY:--02-29" in exported
    export = tmp_path / "again.vcf"
    export.write_text(exported, encoding="utf-8")
    assert "0 created, 0 merged, 7 unchanged" in cli(root, "import", "vcard", str(export)).output


def test_birthday_forms_that_are_not_dates() -> None:
    assert parse_birthday("--13-01") is None and parse_birthday("--02-30") is None
    assert parse_birthday("1985-02-30") is None and parse_birthday("soon") is None
    parsed = vcard.parse(cards("FN:Odd\r\nBDAY:soon\r\n"))
    assert parsed.records[0].extra["birthday"] == "soon"
    assert parsed.warnings == [(4, "BDAY 'soon' is not a date; kept as text")]


# --- LinkedIn ---------------------------------------------------------------------------------------


def test_linkedin_dates_as_2018_exports_and_spreadsheets_write_them() -> None:
    assert parse_export_date("4/4/18, 10:35 AM") == dt.date(2018, 4, 4)
    assert parse_export_date("12/31/18, 9:05 PM") == dt.date(2018, 12, 31)
    assert parse_export_date("5-Jan-26") == dt.date(2026, 1, 5)
    assert parse_export_date("07.12.2025") == dt.date(2025, 12, 7)
    assert parse_export_date("2025/12/07") == dt.date(2025, 12, 7)
    assert parse_export_date("07/12/2025") == dt.date(2025, 7, 12)  # month first, as LinkedIn writes
    assert parse_export_date("07/12/2025", day_first=True) == dt.date(2025, 12, 7)
    assert parse_export_date("31 Feb 2024") is None and parse_export_date("soon") is None


def test_an_excel_resave_with_semicolons_and_windows_1252(
    cli: Cli, crm_root: Callable[..., Path], tmp_path: Path
) -> None:
    data = (
        "First Name;Last Name;Email Address;Company;Position;Connected On\r\n"
        "José;García;urn:li:member:123456;Acme;Engineer;13/01/2026\r\n"
        "Zoë;Brandt;zoe@brandt.example;Globex;CTO;07/12/2025\r\n"
        "Li;Wei;;Initech;PM;someday\r\n"
    ).encode("cp1252")
    parsed = linkedin.parse(data)
    assert [r.name for r in parsed.records] == ["José García", "Zoë Brandt", "Li Wei"]
    assert parsed.records[0].emails == []  # the placeholder is no address
    assert [r.extra.get("connected_on") for r in parsed.records] == [dt.date(2026, 1, 13), dt.date(2025, 12, 7), None]
    assert parsed.warnings == [(4, "Connected On 'someday' is not a date (like 07 Dec 2025); left out")]
    root = crm_root()
    result = imported(cli, root, "linkedin", data, tmp_path)
    assert "warning   line 4: Connected On 'someday'" in result.output
    assert "email" not in front(root / "contacts/jose-garcia.md")


def test_two_connections_with_one_name_are_two_people(
    cli: Cli, crm_root: Callable[..., Path], tmp_path: Path
) -> None:
    data = (
        b"First Name,Last Name,Email Address,Company,Position,Connected On\n"
        b"Jane,Doe,,Acme,PM,07 Dec 2025\n"
        b"Jane,Doe,,Globex,CTO,4/4/18\n"
    )
    root = crm_root()
    imported(cli, root, "linkedin", data, tmp_path)
    assert front(root / "contacts/jane-doe.md")["company"] == "Acme"
    assert front(root / "contacts/jane-doe-2.md")["company"] == "Globex"
    swapped = data.split(b"\n")
    reordered = b"\n".join([swapped[0], swapped[2], swapped[1], b""])
    export = tmp_path / "reordered.csv"
    export.write_bytes(reordered)
    again = cli(root, "import", "linkedin", str(export))
    assert "0 created, 0 merged, 2 unchanged, 0 conflicts" in again.output  # matched by company


def test_google_and_vcard_still_match_a_repeated_name_as_one_person(
    cli: Cli, crm_root: Callable[..., Path], tmp_path: Path
) -> None:
    result = imported(cli, crm_root(), "vcard", cards("FN:Ana Lima\r\n", "FN:Ana Lima\r\nTITLE:Chef\r\n"), tmp_path)
    assert "1 created, 1 merged" in result.output


# --- Outlook and Google ------------------------------------------------------------------------------

OUTLOOK = (
    '"Title","First Name","Middle Name","Last Name","Suffix","Company","Department","Job Title",'
    '"Business City","Business State","Business Country/Region","Business Fax","Business Phone",'
    '"Mobile Phone","Birthday","Categories","E-mail Address","E-mail Type","E-mail Display Name","Notes","Web Page"\r\n'
    '"Dr.","Amara","N.","Okafor","","Contoso","Research","Director","Lagos","","Nigeria","+234 1 555 0199",'
    '"+234 1 555 0100","+234 80 555 0101","5/17/1980","VIP;Mentors","amara@contoso.example","SMTP",'
    '"Amara Okafor (amara@contoso.example)","Met at a\r\nconference.","https://contoso.example/amara"\r\n'
    '"","Lars","","Berg","","Fabrikam","","","","","","","","","0/0/00","",'
    '"/o=ExchangeLabs/ou=Exchange/cn=Recipients/cn=lars","EX","Lars Berg","",""\r\n'
)


def test_outlook_csv(cli: Cli, crm_root: Callable[..., Path], tmp_path: Path) -> None:
    root = crm_root()
    result = imported(cli, root, "outlook", OUTLOOK.encode("cp1252"), tmp_path)
    amara = front(root / "contacts/amara-n-okafor.md")
    assert amara == {
        "name": "Amara N. Okafor", "email": "amara@contoso.example", "phone": ["+234 80 555 0101", "+234 1 555 0100"],
        "company": "Contoso", "title": "Director", "location": "Lagos, Nigeria", "tags": ["VIP", "Mentors"],
        "links": {"website": "https://contoso.example/amara"}, "fax": "+234 1 555 0199", "department": "Research",
        "birthday": dt.date(1980, 5, 17),
    }  # fmt: skip
    lars = front(root / "contacts/lars-berg.md")
    assert "birthday" not in lars and "email" not in lars  # 0/0/00 is Outlook's empty date
    assert "line 4: E-mail Address '/o=ExchangeLabs/ou=Exchange/cn=Recipients/cn=lars' is not an e-mail" in result.output


def test_outlook_birthdays_are_day_first_when_the_file_says_so() -> None:
    head = "First Name,Last Name,E-mail Address,Job Title,Birthday\r\n"
    month_first = outlook.parse((head + "Ada,Lee,,,3/4/1990\r\n").encode()).records
    day_first = outlook.parse((head + "Ada,Lee,,,3/4/1990\r\nBo,Li,,,17/5/1980\r\n").encode()).records
    assert month_first[0].extra["birthday"] == dt.date(1990, 3, 4)
    assert [r.extra["birthday"] for r in day_first] == [dt.date(1990, 4, 3), dt.date(1980, 5, 17)]


def test_the_wrong_importer_names_the_right_one(cli: Cli, crm_root: Callable[..., Path], tmp_path: Path) -> None:
    export = tmp_path / "contacts.csv"
    export.write_text(OUTLOOK, encoding="utf-8")
    for fmt in ("google", "linkedin"):
        result = cli(crm_root(), "import", fmt, str(export))
        assert result.exit_code == 1
        assert "it looks like an Outlook Contacts CSV (try 'crm import outlook'); nothing was imported" in result.stderr


def test_google_birthdays_faxes_and_nameless_rows() -> None:
    data = (
        b"First Name,Last Name,Birthday,E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value,"
        b"Phone 2 - Label,Phone 2 - Value\n"
        b"Ana,Lima,--02-29,Work,ana@lima.example,Mobile,+55 11 5555 0100,Work Fax,+55 11 5555 0199\n"
        b",,1990-04-03,,bo@chen.example,,,,\n"
    )
    ana, bo = google.parse(data).records
    assert (ana.extra, ana.phones) == ({"fax": "+55 11 5555 0199", "birthday": "--02-29"}, ["+55 11 5555 0100"])
    assert (bo.name, bo.extra["birthday"]) == ("Bo", dt.date(1990, 4, 3))
