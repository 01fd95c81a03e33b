"""Property-based fuzzing of the importers, of the YAML writer they use, and of the whole build
(issue 22). Mutated and random export files either import or are refused with a format error
naming a line: never another exception, every record's line inside the file, every text the
import would write a valid contact file. A build over a root with broken files next to good
ones never fails with a traceback, and the good ones' pages are written.

Derandomized in the suite; `FUZZ_EXAMPLES=100000 pytest tests/test_import_fuzz.py` searches longer.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fuzz import DEMO, EXAMPLES, FUZZ, PIECES, SEEDS, mutate, mutation, mutations

from generator.cli import main
from generator.importers import google, linkedin, outlook, vcard
from generator.importers.common import ImportFormatError, Parsed
from generator.importers.merge import plan_import
from generator.load import load
from generator.yamlwrite import flow, prepare_plain, scalar

DATA = Path(__file__).parent / "data" / "imports"
PARSERS = {"linkedin": linkedin.parse, "google": google.parse, "vcard": vcard.parse, "outlook": outlook.parse}
EXPORTS = [(p.stem.split("_")[0].removesuffix("21").removesuffix("30").removesuffix("40"), p.read_bytes())
           for p in sorted(DATA.iterdir())]  # fmt: skip
EXPORTS += [
    ("outlook", b'"First Name","Last Name","E-mail Address","Job Title","Business Fax","Birthday"\r\n'
                b'"Amara","Okafor","amara@contoso.example","Director","+234 1 555 0199","5/17/1980"\r\n'),
    ("vcard", b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN;PREF=1:S\xc3\r\n \xb8ren\r\nTEL;VALUE=uri:tel:+1-555;ext=9\r\n"
              b"KIND:individual\r\nBDAY:--0229\r\nPHOTO;ENCODING=b:QUJD\r\n QUJD\r\nEND:VCARD\r\n"),
]  # fmt: skip
EXPORT_PIECES = PIECES + [
    b"BEGIN:VCARD\r\n", b"END:VCARD\r\n", b"\r\n ", b"=\r\n", b";ENCODING=QUOTED-PRINTABLE", b";CHARSET=latin1",
    b"KIND:group\r\n", b"BDAY:", b"--1209", b"1604-", b"tel:", b";ext=", b"TYPE=fax", b"PREF=1", b"item1.",
    b"PHOTO;ENCODING=b:", b'"', b'""', b",", b";", b"\t", b"urn:li:member:1", b"4/4/18, 10:35 AM", b"5-Jan-26",
    b"07.12.2025", b"0/0/00", b" ::: ", b"* myContacts", b"\x96", b"\xc3", b"\xfe\xff", b"\xff\xfe",
]  # fmt: skip
export_mutation = mutations(EXPORT_PIECES)


def lines_of(data: bytes) -> int:
    """Lines as exports count them: CRLF, LF and a lone CR each end one (old Mac files)."""
    return len(data.splitlines()) + 1


def parse_or_refuse(fmt: str, data: bytes) -> Parsed | None:
    try:
        parsed = PARSERS[fmt](data)
    except ImportFormatError as exc:
        assert exc.message and (exc.line is None or 1 <= exc.line <= lines_of(data) + 1), exc
        return None
    last = lines_of(data) + 1
    for record in parsed.records:
        assert 1 <= record.line <= last, record
    for line, message in parsed.skipped + parsed.warnings:
        assert 1 <= line <= last and message
    return parsed


EMPTY_ROOT = Path(tempfile.mkdtemp(prefix="tipscale-fuzz-")) / "crm"
(EMPTY_ROOT / "contacts").mkdir(parents=True)


@FUZZ
@given(st.sampled_from(EXPORTS), st.lists(export_mutation, min_size=1, max_size=6), st.sampled_from(sorted(PARSERS)))
def test_mutated_exports(export: tuple[str, bytes], edits: list[tuple[str, float, bytes, int]], fmt: str) -> None:
    own, data = export
    data = mutate(data, edits)
    parsed = parse_or_refuse(own if own in PARSERS else fmt, data)
    if parsed is None or not parsed.records:
        return
    plan = plan_import(parsed.records[:20], load(EMPTY_ROOT), distinct=parsed.distinct)
    for path in plan.changed:  # every text is validated; an invalid one is skipped with a reason
        assert path.startswith("contacts/") and path.endswith(".md")
    assert len(plan.changed) + len(plan.skipped) >= sum(1 for a in plan.actions if a.kind == "create")


@FUZZ
@given(st.binary(max_size=600), st.sampled_from(sorted(PARSERS)))
def test_random_bytes_as_exports(data: bytes, fmt: str) -> None:
    parse_or_refuse(fmt, data)


WORDISH = st.text(alphabet="aeoNnYyTtFfxX01289:/.'()@+-_ ~#,é中", max_size=14)  # near YAML's special words


@FUZZ
@given(st.lists(st.one_of(st.text(max_size=40), WORDISH), max_size=8), st.booleans())
def test_written_scalars_read_back_as_the_same_text(values: list[str], batched: bool) -> None:
    if batched:
        prepare_plain(values)
    for value in values:
        for loader in (yaml.CSafeLoader, yaml.SafeLoader):
            assert yaml.load(f"k: {scalar(value)}\n", Loader=loader) == {"k": value}
        written = flow(values)
        assert yaml.load(f"k: {written}\n", Loader=yaml.CSafeLoader) == {"k": values}
        assert yaml.load(f"k: {{a: {scalar(value)}}}\n", Loader=yaml.SafeLoader) == {"k": {"a": value}}


GOOD = DEMO  # the demo root: every cross-reference in it resolves


@settings(FUZZ, max_examples=max(20, EXAMPLES // 40))
@given(st.lists(st.tuples(st.sampled_from(SEEDS), st.lists(mutation, min_size=1, max_size=5)), min_size=1, max_size=3))
def test_a_build_with_broken_files_beside_good_ones(broken: list[tuple[bytes, list[tuple[str, float, bytes, int]]]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "contacts").mkdir()
        for path in GOOD:
            (root / "contacts" / path.name).write_bytes(path.read_bytes())
        for i, (seed, edits) in enumerate(broken):
            (root / "contacts" / f"zz-fuzz-{i}.md").write_bytes(mutate(seed, edits))
        result = CliRunner().invoke(
            main, ["--root", str(root), "build"], env={"CRM_TODAY": dt.date(2026, 11, 25).isoformat(), "NO_COLOR": "1"},
            catch_exceptions=False,
        )  # fmt: skip
        assert result.exit_code in (0, 1), result.output
        assert "Traceback" not in result.output
        for path in GOOD:
            assert (root / "site" / "contacts" / f"{path.stem}.html").stat().st_size > 1000
        assert (root / "site" / "index.html").exists()
