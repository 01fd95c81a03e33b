"""Property: whatever text a contact holds, the vCard writer and reader give it back."""

from __future__ import annotations

import vobject
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.importers import vcard, vcard_text

text = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\r\n"),
        min_size=1,
        max_size=120,
    )
    .map(lambda s: " ".join(s.split()))
    .filter(bool)
)
note = st.text(
    # contact files never hold control characters other than newlines and tabs (they read as binary)
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n\t"),
    max_size=300,
)


@settings(max_examples=150, deadline=None)
@given(
    name=text,
    company=text,
    title=text,
    location=text,
    # Google's own groups ("myContacts", "starred") are dropped on import by design.
    tags=st.lists(text.filter(lambda t: t.casefold() not in vcard.SYSTEM_CATEGORIES), max_size=4, unique_by=str.casefold),
    body=note,
)
def test_vcard_write_then_read(name, company, title, location, tags, body):
    card = vcard_text.write_card(
        name=name, company=company, title=title, location=location, tags=tags, note=body,
        emails=["a@example.com"], links=[("blog", "https://example.com/a,b;c")],
    )  # fmt: skip
    for line in card.encode("utf-8").split(b"\r\n"):
        assert len(line) <= 75
    record = vcard.parse(card.encode("utf-8")).records[0]
    assert record.name == name
    assert (record.company, record.title, record.location) == (company, title, location)
    assert record.tags == tags
    assert record.notes == body.strip()
    assert record.links == {"blog": "https://example.com/a,b;c"}
    parsed = vobject.readOne(card)
    assert parsed.fn.value == name
    assert parsed.org.value == [company]
