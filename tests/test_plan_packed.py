"""The plan's parts by contact (`resolved`, `backlinks`): kept a value at a time (`Packed`) and
changed by an update without unpacking the rest (`Changed`)."""

from __future__ import annotations

import marshal

import pytest

from generator import plan

BACKLINKS = {
    "ada": [("grace", "link"), ("linus", "with")],
    "grace": [("ada", "with")],
    "linus": [],
}


def test_a_packed_part_unpacks_each_value_when_asked_and_equals_the_dict_it_was_made_from():
    raw = plan._packed(BACKLINKS)
    assert set(raw) == set(BACKLINKS) and all(type(v) is bytes for v in raw.values())
    packed = plan._unpacked(marshal.loads(marshal.dumps(raw)))  # as read from its file
    assert len(packed._made) == 0
    assert packed["ada"] == [("grace", "link"), ("linus", "with")]
    assert list(packed._made) == ["ada"]  # only what was asked for
    assert packed.get("nobody", []) == [] and "nobody" not in packed and "linus" in packed
    assert dict(packed) == BACKLINKS and packed == BACKLINKS and len(packed) == 3
    assert plan._packed(packed) is packed.raw  # written back as read, nothing packed again


@pytest.mark.parametrize("damaged", [{"ada": [("grace", "link")]}, {"ada": "text"}, ["ada"], None])
def test_a_packed_part_whose_values_are_not_bytes_is_not_a_plan(damaged):
    with pytest.raises(TypeError):
        plan._checked("backlinks", damaged)


def test_an_update_changes_a_part_over_its_base_and_packs_only_what_it_changed():
    base = plan._unpacked(plan._packed(BACKLINKS))
    changed = plan.Changed(base)
    assert changed.same_as(base) and plan.same_part(changed, base)
    changed["grace"] = [("ada", "with")]  # set to what it was: still the same part
    assert plan.same_part(changed, base)
    changed["grace"] = [("ada", "with"), ("linus", "link")]
    changed.pop("linus", None)
    changed["turing"] = [("ada", "link")]
    assert not plan.same_part(changed, base)
    expected = {"ada": BACKLINKS["ada"], "grace": [("ada", "with"), ("linus", "link")], "turing": [("ada", "link")]}
    assert dict(changed) == expected and len(changed) == 3
    assert "linus" not in changed and changed.get("linus") is None
    with pytest.raises(KeyError):
        changed["linus"]
    with pytest.raises(KeyError):
        del changed["linus"]
    assert base == BACKLINKS  # the base is never changed
    packed = plan._packed(changed)
    assert {key: marshal.loads(value) for key, value in packed.items()} == expected
    assert packed["ada"] is base.raw["ada"]  # an unchanged value keeps its bytes
    # a change to a changed part (the server's next rebuild) starts from the same base
    again = plan.Changed(changed)
    assert again.base is base
    again["linus"] = []
    assert dict(again) == {**expected, "linus": []} and dict(changed) == expected
    assert plan.Changed({"a": [1]}).same_as({"a": [1]}) and not plan.Changed({"a": [1]}).same_as({"a": [2]})


def test_histories_as_read_make_a_files_commits_when_asked_and_equal_what_was_saved():
    import datetime as dt

    from generator.gitlog import Commit

    first = Commit(dt.datetime(2026, 1, 2, tzinfo=dt.UTC), "Ada", "add ada", "a" * 40)
    second = Commit(dt.datetime(2026, 2, 3, tzinfo=dt.UTC), "Grace", "notes", "b" * 40)
    saved = {"contacts/ada.md": [second, first], "contacts/grace.md": [second]}
    snapshot = plan.Plan.__new__(plan.Plan)
    snapshot.histories = saved
    data = marshal.loads(marshal.dumps(plan._histories(snapshot)))
    commits = [Commit(dt.datetime.fromtimestamp(c[1], dt.UTC), c[2], c[3], c[0]) for c in data["commits"]]
    histories = plan.Histories(commits, data["files"])
    assert histories._made == {}
    assert histories["contacts/grace.md"] == [second] and list(histories._made) == ["contacts/grace.md"]
    assert histories.get("contacts/nobody.md", []) == [] and "contacts/ada.md" in histories
    assert histories == saved and len(histories) == 2
    with pytest.raises(TypeError):
        plan.Histories(commits, [["contacts/ada.md", [0]]])


def test_follow_ups_by_contact_are_packed_and_made_when_asked():
    import datetime as dt

    from generator.model import FollowUp, Interaction

    meeting = Interaction(0, 9, dt.date(2026, 11, 20), None, "interview", "Panel", "an offer", ("grace",), None, False)
    items = [FollowUp("ada", "Ada", "thank-you", dt.date(2026, 11, 21), "overdue", -4, meeting, None, False)]
    raw = plan._packed({"ada": items}, plan._encode_followups)
    packed = plan._unpacked(marshal.loads(marshal.dumps(raw)), plan._decode_followups)
    assert packed._made == {}
    assert packed["ada"] == items and packed["ada"][0].uid_key == items[0].key_text()
    changed = plan.Changed(packed)
    changed["ada"] = items  # the same follow-ups: the same part
    assert plan.same_part(changed, packed)
    assert plan._packed(changed, plan._encode_followups)["ada"] == raw["ada"]
