"""Slugs: the file names of contacts (`contacts/<slug>.md`), made from their names.

Rules (standard library only):

- Latin letters are folded to lower-case ASCII: accents are dropped (`Tomás Müller` →
  `tomas-muller`) and letters that do not decompose are spelled out (`Ø` → `o`, `ß` → `ss`,
  `Æ` → `ae`, `Ł` → `l`, `Þ` → `th`).
- Letters of other scripts (CJK, Cyrillic, Greek, Arabic, Devanagari…) are kept as they are,
  lower-cased where the script has case, in NFC form with their combining marks:
  `Иван Петров` → `иван-петров`, `山田 太郎` → `山田-太郎`. We do not transliterate: a guess
  at romanisation is often wrong, and the file name should be recognisable to the user.
- Apostrophes vanish (`O'Brien` → `obrien`); every other run of non-letters and non-digits
  becomes one hyphen; no leading or trailing hyphen; at most 80 characters (cut at a hyphen).
- Never empty: a name with no letters or digits gives `contact`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Container

FALLBACK = "contact"
MAX_LENGTH = 80
MAX_SLUG_BYTES = 200  # a contact's slug, in UTF-8: room for `.slug.md.XXXXXXXX.tmp` and `slug.html`
_CANONICAL = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # what slugify leaves as it is

# Latin letters without a Unicode decomposition into an ASCII base letter.
_SPECIAL = {
    "ß": "ss", "ẞ": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ø": "o", "Ø": "o",
    "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "ł": "l", "Ł": "l",
    "ı": "i", "ħ": "h", "Ħ": "h", "ŋ": "ng", "Ŋ": "ng", "ĸ": "k", "ŀ": "l", "Ŀ": "l",
    "ſ": "s", "ƒ": "f", "ɖ": "d", "ɛ": "e", "Ɛ": "e", "ɔ": "o", "Ɔ": "o",
}  # fmt: skip
_APOSTROPHES = {"'", "’", "ʼ", "‘", "`", "´"}


@functools.cache  # a few hundred distinct characters, looked up per character of every name
def _fold(ch: str) -> str | None:
    """The ASCII spelling of a Latin letter or digit, or None if `ch` is not one."""
    if ch in _SPECIAL:
        return _SPECIAL[ch]
    if ch.isascii():
        return ch.lower() if ch.isalnum() else None
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if base and base.isascii() and base.isalnum():
        return base.lower()
    return None


def slugify(name: str) -> str:
    """A file-name slug for `name` (see the module docstring for the rules).

    >>> slugify("Tomás Müller"), slugify("Ødegård"), slugify("Straße"), slugify("Иван Петров")
    ('tomas-muller', 'odegard', 'strasse', 'иван-петров')
    """
    if len(name) <= MAX_LENGTH and _CANONICAL.fullmatch(name):
        return name  # already a slug (anchors made of slugs and dates: thousands a build)
    return _slugify(name)


def _slugify(name: str) -> str:
    text = unicodedata.normalize("NFKC", name)
    out: list[str] = []
    last_kept_native = False  # the previous kept character was a non-Latin letter
    for ch in text:
        if ch in _APOSTROPHES:
            continue
        folded = _fold(ch)
        if folded is not None:
            out.append(folded)
            last_kept_native = False
        elif unicodedata.category(ch).startswith("M"):
            if last_kept_native:  # a vowel sign or diacritic of a non-Latin script
                out.append(ch)
        elif ch.isalnum():
            out.append(ch.lower())
            last_kept_native = True
        else:
            out.append("-")
            last_kept_native = False
    slug = "-".join(part for part in unicodedata.normalize("NFC", "".join(out)).split("-") if part)
    if len(slug) > MAX_LENGTH:
        cut = slug[:MAX_LENGTH]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else cut
    return slug or FALLBACK


RESERVED = frozenset({"index"})  # contacts/index.html is the contact list


def unique_slug(name: str, taken: Container[str]) -> str:
    """`slugify(name)`, or with `-2`, `-3`… appended until it is not in `taken` (nor reserved)."""
    base = slugify(name)
    if base not in taken and base not in RESERVED:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def is_valid_slug(slug: str) -> bool:
    """A slug a user may pass with --slug: non-empty, no path separators, not hidden or ignored."""
    return (
        bool(slug)
        and slug == slug.strip()
        and "/" not in slug
        and "\\" not in slug
        and "\x00" not in slug
        and not slug.startswith((".", "_", "#", "-"))
        and not slug.endswith(("~", ".md"))
        and slug not in (".", "..")
        and slug not in RESERVED
        and len(slug.encode("utf-8", "surrogateescape")) <= MAX_SLUG_BYTES
    )


def long_name_problem(slug: str) -> str | None:
    """The message for a contact file whose name is too long to build pages from, or None."""
    size = len(slug.encode("utf-8", "surrogateescape"))
    if size <= MAX_SLUG_BYTES:
        return None
    return (
        f"the file name is {size} bytes long; at most {MAX_SLUG_BYTES} are allowed "
        f"(the page and the temporary files need the rest); rename the file to a shorter slug"
    )
