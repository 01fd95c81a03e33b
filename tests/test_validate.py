"""Every validation case of SPEC §2 with exact file:line:column assertions."""

from __future__ import annotations

import datetime as dt
import time
import tracemalloc

import pytest

from generator.settings import default_settings
from generator.validate import check_file

GOOD = """\
---
name: Jane Doe
email: jane@example.com
interactions:
  - date: 2026-11-20
    type: interview
    summary: Onsite
---
Notes.
"""


def check(text: str | bytes, file: str = "contacts/jane-doe.md"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return check_file(data, file, file.rsplit("/", 1)[-1][:-3], default_settings())


def formatted(text: str | bytes) -> list[str]:
    return [p.format() for p in check(text).problems]


def test_valid_file_gives_a_contact():
    result = check(GOOD)
    assert result.problems == ()
    contact = result.contact
    assert contact is not None
    assert contact.name == "Jane Doe"
    assert contact.emails == ("jane@example.com",)
    assert contact.interactions[0].date == dt.date(2026, 11, 20)
    assert contact.body == "Notes.\n"


def test_bad_date_names_file_line_column_and_field():
    text = GOOD.replace("  - date: 2026-11-20\n    type: interview", "  - date: 2026-11-20\n    type: interview\n  - date: next tuesday\n    type: call")
    assert formatted(text) == [
        "contacts/jane-doe.md:7:11: error: interactions[1].date: 'next tuesday' is not a date (expected YYYY-MM-DD)"
    ]


def test_missing_name():
    assert formatted("---\nemail: a@b.c\n---\n") == ["contacts/jane-doe.md:2:1: error: name: is required and empty"]


def test_empty_name():
    assert formatted('---\nname: "  "\n---\n') == ["contacts/jane-doe.md:2:7: error: name: is required and empty"]


def test_name_read_as_boolean_suggests_quotes():
    assert formatted("---\nname: NO\n---\n") == [
        'contacts/jane-doe.md:2:7: error: name: NO is read by YAML as a boolean (false), not text; put it in quotes: "NO"'
    ]


def test_phone_read_as_octal_integer_suggests_quotes():
    assert formatted("---\nname: A\nphone: 0123\n---\n") == [
        'contacts/jane-doe.md:3:8: error: phone: 0123 is read by YAML as an integer (83), not text; put it in quotes: "0123"'
    ]


def test_time_like_value_read_as_sexagesimal():
    assert formatted("---\nname: A\ntitle: 12:30\n---\n") == [
        'contacts/jane-doe.md:3:8: error: title: 12:30 is read by YAML as an integer (750), not text; put it in quotes: "12:30"'
    ]


def test_wrong_type_for_tags():
    assert formatted("---\nname: A\ntags: acme\n---\n") == [
        "contacts/jane-doe.md:3:7: error: tags: expected a list of tags, e.g. [acme, platform], found text"
    ]


def test_impossible_date():
    text = "---\nname: A\ninteractions:\n  - date: 2026-02-30\n    type: call\n---\n"
    assert formatted(text) == [
        "contacts/jane-doe.md:4:11: error: interactions[0].date: '2026-02-30' is not a real date (February 2026 has no day 30)"
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"2026-13-01"', "'2026-13-01' is not a real date (there is no month 13)"),
        ('"2026-04-31 10:00"', "'2026-04-31 10:00' is not a real date (April 2026 has no day 31)"),
        ('"2026-04-03 24:00"', "'2026-04-03 24:00' has an impossible time (expected HH:MM, 00:00 to 23:59)"),
        ('"2026-04-03 9:60"', "'2026-04-03 9:60' has an impossible time (expected HH:MM, 00:00 to 23:59)"),
        ('"next week"', "'next week' is not a date (expected YYYY-MM-DD)"),
    ],
)
def test_dates_in_quotes_say_what_is_wrong(value, message):
    text = f"---\nname: A\ninteractions:\n  - date: {value}\n    type: call\n---\n"
    assert formatted(text) == [f"contacts/jane-doe.md:4:11: error: interactions[0].date: {message}"]


def test_date_read_as_integer():
    text = "---\nname: A\ninteractions:\n  - date: 20261120\n    type: call\n---\n"
    assert formatted(text) == [
        "contacts/jane-doe.md:4:11: error: interactions[0].date: '20261120' is not a date (expected YYYY-MM-DD)"
    ]


def test_quoted_date_and_date_with_time_are_accepted():
    text = '---\nname: A\ninteractions:\n  - date: "2026-11-20"\n    type: call\n  - date: 2026-11-21 14:30\n    type: call\n---\n'
    result = check(text)
    assert result.problems == ()
    assert result.contact is not None
    first, second = result.contact.interactions
    assert (first.date, first.time) == (dt.date(2026, 11, 20), None)
    assert (second.date, second.time) == (dt.date(2026, 11, 21), "14:30")


def test_unknown_interaction_type_lists_known_types():
    text = "---\nname: A\ninteractions:\n  - date: 2026-11-20\n    type: intervew\n---\n"
    (message,) = formatted(text)
    assert message.startswith(
        "contacts/jane-doe.md:5:11: error: interactions[0].type: unknown interaction type 'intervew'; did you mean interview? known types: interview, informational-interview,"
    )


def test_followed_up_before_interaction():
    text = "---\nname: A\ninteractions:\n  - date: 2026-11-20\n    type: interview\n    followed_up: 2026-11-19\n---\n"
    assert formatted(text) == [
        "contacts/jane-doe.md:6:18: error: interactions[0].followed_up: 2026-11-19 is before the interaction's date 2026-11-20"
    ]


def test_followed_up_skip_is_valid():
    text = "---\nname: A\ninteractions:\n  - date: 2026-11-20\n    type: interview\n    followed_up: skip\n---\n"
    result = check(text)
    assert result.problems == ()
    assert result.contact is not None and result.contact.interactions[0].skip


def test_unclosed_front_matter():
    assert formatted("---\nname: A\n") == [
        "contacts/jane-doe.md:1:1: error: the front matter is not closed: add a '---' line after the YAML"
    ]


def test_no_front_matter():
    assert formatted("# Jane\n") == [
        "contacts/jane-doe.md:1:1: error: no front matter: a contact file starts with a '---' line, then YAML, then another '---' line"
    ]


def test_yaml_syntax_error_has_parser_line():
    text = "---\nname: A\ntags: [a, b\nemail: x@y.z\n---\n"
    (message,) = formatted(text)
    assert message.startswith("contacts/jane-doe.md:4:6: error: YAML syntax error:")


def test_tab_indentation_is_explained():
    text = "---\nname: A\nlinks:\n\tlinkedin: https://x\n---\n"
    (message,) = formatted(text)
    assert message.startswith("contacts/jane-doe.md:4:1: error: YAML syntax error:")
    assert "tabs" in message


def test_empty_file():
    assert formatted(b"") == [
        "contacts/jane-doe.md:1:1: error: the file is empty (expected '---', YAML front matter with at least a name, '---')"
    ]


def test_binary_file():
    assert formatted(b"\x89PNG\r\n\x1a\n\x00\x00\x00") == [
        "contacts/jane-doe.md:1:1: error: this is a binary file, not a Markdown contact file"
    ]


def test_non_utf8_bytes_name_the_line():
    data = b"---\nname: A\ncompany: Caf" + b"\xe9\n---\n"
    assert formatted(data) == [
        "contacts/jane-doe.md:3:1: error: the file is not valid UTF-8 (byte 0xe9 at offset 24); save it as UTF-8"
    ]


def test_bom_and_crlf_are_valid():
    data = b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode()
    result = check(data)
    assert result.problems == ()
    assert result.contact is not None and result.contact.name == "Jane Doe"
    assert result.contact.body == "Notes.\n"


def test_python_tag_is_rejected_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    text = f"---\nname: !!python/object/apply:os.system ['touch {marker}']\n---\n"
    (message,) = formatted(text)
    assert message == (
        "contacts/jane-doe.md:2:7: error: the tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"
    )
    assert not marker.exists()


def test_python_scalar_tag_is_rejected():
    (message,) = formatted("---\nname: !!python/name:os.system x\n---\n")
    assert "is not allowed" in message and message.startswith("contacts/jane-doe.md:2:7: error:")


def test_alias_bomb_is_rejected_fast_with_bounded_memory():
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = "---\nname: A\n" + "\n".join(lines) + "\n---\n"
    tracemalloc.start()
    started = time.perf_counter()
    (message,) = formatted(text)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "too many values" in message
    assert message.startswith("contacts/jane-doe.md:")
    # Generous bounds: 9**9 values expanded would take minutes and gigabytes.
    assert elapsed < 10 and peak < 200 * 1024 * 1024


def test_deep_nesting_is_rejected():
    text = "---\nname: A\nx: " + "[" * 70 + "]" * 70 + "\n---\n"
    (message,) = formatted(text)
    assert message.endswith("nested deeper than 64 levels")
    assert message.startswith("contacts/jane-doe.md:3:")


def test_very_deep_nesting_is_rejected_by_the_parser():
    text = "---\nname: A\nx: " + "[" * 100_000 + "]" * 100_000 + "\n---\n"
    (message,) = formatted(text)
    assert "nested deeper than 64 levels" in message


def test_unknown_key_typo_warns_with_suggestion():
    result = check("---\nname: A\nemial: a@b.c\n---\n")
    assert [p.format() for p in result.problems] == [
        "contacts/jane-doe.md:3:1: warning: emial: unknown field 'emial': did you mean email?"
    ]
    assert result.contact is not None
    assert result.contact.extra == (("emial", "a@b.c"),)


def test_unknown_key_that_is_not_a_typo_is_kept_silently():
    result = check("---\nname: A\nbirthday: 1990-01-02\n---\n")
    assert result.problems == ()
    assert result.contact is not None and result.contact.extra == (("birthday", "1990-01-02"),)


def test_duplicate_key_warns():
    assert formatted("---\nname: A\nname: B\n---\n") == [
        "contacts/jane-doe.md:3:1: warning: name: key 'name' appears twice; the last one is used"
    ]


def test_keep_in_touch_forms():
    for value, expected in (("90d", "90d"), ("2w", "2w"), ("3m", "3m"), ("1y", "1y"), ("30", "30d")):
        result = check(f"---\nname: A\nkeep_in_touch: {value}\n---\n")
        assert result.contact is not None, value
        assert str(result.contact.keep_in_touch) == expected
    assert formatted("---\nname: A\nkeep_in_touch: sometimes\n---\n") == [
        "contacts/jane-doe.md:3:16: error: keep_in_touch: 'sometimes' is not a period (expected e.g. 30d, 6w, 3m, 1y or a number of days, at most 100 years)"
    ]


def test_reminder_done_forms():
    text = (
        "---\nname: A\nreminders:\n  - date: 2026-12-01\n    note: one\n  - date: 2026-12-02\n    note: two\n"
        "    done: true\n  - date: 2026-12-03\n    note: three\n    done: 2026-12-03\n---\n"
    )
    result = check(text)
    assert result.problems == ()
    assert result.contact is not None
    assert [(r.note, r.done, r.done_on) for r in result.contact.reminders] == [
        ("one", False, None),
        ("two", True, None),
        ("three", True, dt.date(2026, 12, 3)),
    ]


def test_unsafe_link_scheme_warns():
    (message,) = formatted("---\nname: A\nlinks:\n  site: javascript:alert(1)\n---\n")
    assert message.startswith("contacts/jane-doe.md:4:9: warning: links.site: 'javascript:alert(1)' is not a web link")


def test_several_problems_are_all_reported():
    text = "---\nname: A\ntags: 3\ninteractions:\n  - date: nope\n    type: what\n---\n"
    assert [p.line for p in check(text).problems] == [3, 5, 6]


@pytest.mark.parametrize("front", ["[1, 2]", "just text"])
def test_front_matter_must_be_a_mapping(front):
    (message,) = formatted(f"---\n{front}\n---\n")
    assert message.startswith("contacts/jane-doe.md:2:1: error: the front matter must be a mapping")


def test_explicit_scalar_tags_that_pyyaml_cannot_build_are_errors_not_crashes():
    # PyYAML itself raises KeyError / AttributeError on these: never a traceback for the user.
    assert formatted("---\nname: !!bool maybe\n---\n") == [
        "contacts/jane-doe.md:2:7: error: name: 'maybe' is an invalid boolean (expected text)"
    ]
    assert formatted("---\nname: A\ninteractions:\n  - date: !!timestamp nope\n    type: call\n---\n") == [
        "contacts/jane-doe.md:4:11: error: interactions[0].date: 'nope' is not a date (expected YYYY-MM-DD)"
    ]
    result = check("---\nname: A\nx: !!timestamp nope\n---\n")
    assert result.problems == ()
    assert result.contact is not None and result.contact.extra == (("x", "nope"),)
