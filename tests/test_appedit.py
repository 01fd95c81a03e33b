"""`appedit`: the text edits of application files change only the bytes they must."""

from __future__ import annotations

import datetime as dt

import pytest

from generator import appedit
from generator.userfiles import EditError

D = dt.date(2026, 12, 3)
BLOCK = (
    "---\ncompany: X\nrole: Y\nstages:\n"
    "  - stage: applied\n    date: 2026-11-20\n    note: |\n      line one\n\n"
    "  - stage: screen\n    date: 2026-11-21\n    followed_up:\n---\nBody\n"
)


def test_a_key_added_to_an_item_ending_in_a_block_scalar():
    assert appedit.set_item_field(BLOCK, "stages", 0, "checked", D) == BLOCK.replace(
        "      line one\n\n", "      line one\n\n    checked: 2026-12-03\n"
    )


def test_followed_up_fills_an_empty_mapping_and_quotes_odd_keys():
    assert appedit.add_followed_up(BLOCK, 1, "иван", D) == BLOCK.replace(
        "    followed_up:\n", '    followed_up:\n      "иван": 2026-12-03\n'
    )
    added = appedit.add_followed_up(BLOCK, 0, "true", D)  # YAML would read a bare `true:` as a boolean
    assert '    followed_up: {"true": 2026-12-03}\n  - stage: screen' in added


def test_followed_up_twice_and_missing_items_are_refused():
    once = appedit.add_followed_up(BLOCK, 1, "a", D)
    with pytest.raises(EditError, match=r"stages\[1\].followed_up already has a: 2026-12-03"):
        appedit.add_followed_up(once, 1, "a", D)
    with pytest.raises(EditError, match=r"there is no stages\[5\] \(the file has 2\)"):
        appedit.set_item_field(BLOCK, "stages", 5, "checked", D)
    with pytest.raises(EditError, match=r"stages\[1\] already has date: 2026-11-21"):
        appedit.set_item_field(BLOCK, "stages", 1, "date", D, replace=False)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("---\ncompany: X\nrole: Y\n---\n", "---\ncompany: X\nrole: Y\nstages:\n  - stage: applied\n    date: 2026-12-03\n---\n"),
        ("---\ncompany: X\nrole: Y\nstages:\n---\n", "---\ncompany: X\nrole: Y\nstages:\n  - stage: applied\n    date: 2026-12-03\n---\n"),
        ("---\n{company: X, role: Y}\n---\n", "---\n{company: X, role: Y, stages: [{stage: applied, date: 2026-12-03}]}\n---\n"),
    ],
)
def test_append_item_makes_the_list_when_there_is_none(before, after):
    assert appedit.append_item(before, "stages", {"stage": "applied", "date": D, "with": [], "note": None}) == after


def test_set_field_replaces_only_the_value_or_adds_the_key():
    assert appedit.set_field("---\ncompany: X\nsnooze: 2026-01-01 # c\nrole: Y\n---\n", "snooze", D) == (
        "---\ncompany: X\nsnooze: 2026-12-03 # c\nrole: Y\n---\n"
    )
    assert appedit.set_field("---\n  company: X\n  role: Y\n---\n", "snooze", D) == (
        "---\n  company: X\n  role: Y\n  snooze: 2026-12-03\n---\n"
    )
    with pytest.raises(EditError, match="'next' is not a single value on one line"):
        appedit.set_field("---\ncompany: X\nnext:\n  - 1\n---\n", "next", D)
