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
