"""Slugs made from names: accents folded, other scripts kept, never empty, unique on demand."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.paths import is_ignored
from generator.slugs import FALLBACK, MAX_LENGTH, is_valid_slug, slugify, unique_slug


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Tomás Müller", "tomas-muller"),
        ("Ødegård", "odegard"),
        ("Straße", "strasse"),
        ("Jane Doe", "jane-doe"),
        ("  Jane   DOE  ", "jane-doe"),
        ("O'Brien", "obrien"),
        ("D’Angelo", "dangelo"),
        ("Jean-Luc Picard, PhD", "jean-luc-picard-phd"),
        ("Æsa Þórsdóttir", "aesa-thorsdottir"),
        ("Łukasz Żółć", "lukasz-zolc"),
        ("François Œuvre", "francois-oeuvre"),
        ("İstanbul Çağ", "istanbul-cag"),
        ("Ｆｕｌｌ Ｗｉｄｔｈ", "full-width"),
        ("Иван Петров", "иван-петров"),
        ("山田 太郎", "山田-太郎"),
        ("김민준", "김민준"),
        ("محمد علي", "محمد-علي"),
        ("हिन्दी नाम", "हिन्दी-नाम"),
        ("Ελένη", "ελένη"),
        ("Anna (Annie) Smith", "anna-annie-smith"),
        ("R2-D2", "r2-d2"),
        ("", FALLBACK),
        ("  ", FALLBACK),
        ("---", FALLBACK),
        ("😀 🎉", FALLBACK),
        ("../../etc/passwd", "etc-passwd"),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_long_names_are_cut_at_a_hyphen() -> None:
    slug = slugify("word " * 40)
    assert len(slug) <= MAX_LENGTH
    assert not slug.endswith("-")
    assert slug.startswith("word-word")


@given(st.text(max_size=120))
def test_slug_is_always_a_safe_file_name(name: str) -> None:
    slug = slugify(name)
    assert slug
    assert slug == slug.lower() or not slug.isascii()
    assert "/" not in slug and "\\" not in slug and "\x00" not in slug
    assert not slug.startswith("-") and not slug.endswith("-") and "--" not in slug
    assert not is_ignored(slug + ".md")
    assert is_valid_slug(slug)
    assert len(slug) <= MAX_LENGTH
    assert slugify(slug) == slug  # idempotent


def test_unique_slug() -> None:
    assert unique_slug("Jane Doe", set()) == "jane-doe"
    assert unique_slug("Jane Doe", {"jane-doe"}) == "jane-doe-2"
    assert unique_slug("Jane Doe", {"jane-doe", "jane-doe-2", "jane-doe-3"}) == "jane-doe-4"
    assert unique_slug("Index", set()) == "index-2"  # contacts/index.html is the contact list


@pytest.mark.parametrize("bad", ["", ".hidden", "_draft", "-x", "a/b", "a\\b", "x.md", "x~", " x", "index"])
def test_invalid_slugs(bad: str) -> None:
    assert not is_valid_slug(bad)


@given(st.from_regex(r"[a-z0-9]{1,12}(-[a-z0-9]{1,12}){0,8}", fullmatch=True))
@settings(max_examples=300)
def test_a_slug_is_its_own_slug_without_the_long_way(slug: str) -> None:
    """slugify returns a canonical slug as it is, without normalising it: the same answer."""
    from generator.slugs import _slugify

    assert slugify(slug) == _slugify(slug)
    if len(slug) <= MAX_LENGTH:
        assert slugify(slug) == slug


@given(st.text(alphabet="aZé-_ 1.'’ß中", max_size=30))
@settings(max_examples=300)
def test_slugify_is_the_same_with_or_without_the_shortcut(text: str) -> None:
    from generator.slugs import _slugify

    assert slugify(text) == _slugify(text)
