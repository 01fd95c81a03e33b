"""Rebuilds in one process (the server's) update the last plan instead of planning everything:
after any sequence of edits, the site must be byte-identical to a clean build."""

from __future__ import annotations

import datetime as dt
import random
import re
import sys
from pathlib import Path

import pytest

from generator.load import load
from generator.site import SiteBuilder

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from generate import generate  # noqa: E402

TODAY = dt.date(2026, 11, 25)


def tree(folder: Path) -> dict[str, bytes]:
    files = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}
    return {rel: path.read_bytes() for rel, path in files.items() if not rel.startswith(".tipscale/")}


def edit(path: Path, rng: random.Random, slugs: list[str]) -> str:
    """One random, realistic change to a contact file; returns what it did."""
    text = path.read_text(encoding="utf-8")
    head, _, body = text.partition("\n---\n")
    choice = rng.choice(["notes", "summary", "tag", "drop-tag", "company", "with", "link", "followed",
                         "break", "title"])  # fmt: skip
    if choice == "notes":
        body += f"\nAnother thought {rng.random():.6f}.\n"
    elif choice == "summary" and "summary:" in head:
        head = head.replace("summary:", f"summary: changed {rng.randint(0, 999)}", 1)
    elif choice == "tag":
        tag = rng.choice(["alumni", "brand-new-tag", "Mentor", "zeta"])
        head = re.sub(r"^tags: \[", f"tags: [{tag}, ", head, count=1, flags=re.M) if "\ntags: [" in head else (
            head + f"\ntags: [{tag}]")  # fmt: skip
    elif choice == "drop-tag":
        head = re.sub(r"^tags: .*$", "tags: []", head, count=1, flags=re.M)
    elif choice == "company":
        company = rng.choice(["Brand New Co", "Acme Corp", "Globex"])
        head = re.sub(r"^company: .*$", f"company: {company}", head, count=1, flags=re.M) if "\ncompany:" in head else (
            head + f"\ncompany: {company}")  # fmt: skip
    elif choice == "with" and "interactions:" in head:
        other = rng.choice(slugs)
        head = re.sub(r"^(    type: .*)$", rf"\1\n    with: [{other}]", head, count=1, flags=re.M) if "    with:" not in head else head
    elif choice == "link":
        body += f"\nSee [[{rng.choice(slugs)}]].\n"
    elif choice == "followed":
        head = re.sub(r"^    followed_up: .*\n", "", head, count=1, flags=re.M)
    elif choice == "break":
        head = head + "\nbroken: [\n"
    elif choice == "title":
        head = re.sub(r"^title: .*$", f"title: Title {rng.randint(0, 99)}", head, count=1, flags=re.M)
    path.write_text(head + "\n---\n" + body, encoding="utf-8")
    return choice


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rebuilds_after_random_edits_equal_clean_builds(tmp_path, monkeypatch, seed):
    root = tmp_path / "crm"
    generate(root, 60, seed)
    out = root / "site"
    builder = SiteBuilder(root, out, today=TODAY)
    builder.build()
    updated = []
    real = SiteBuilder._incremental

    def spy(self, loaded, renderer):
        result = real(self, loaded, renderer)
        updated.append(result is not None)
        return result

    monkeypatch.setattr(SiteBuilder, "_incremental", spy)
    rng = random.Random(seed)
    files = sorted((root / "contacts").glob("*.md"))
    slugs = [f.stem for f in files]
    broken: list[Path] = []
    for step in range(25):
        done = []
        for path in rng.sample(files, rng.choice([1, 1, 1, 2])):
            original = path.read_text(encoding="utf-8")
            done.append(edit(path, rng, slugs))
            if done[-1] == "break":
                broken.append(path)
                path.with_suffix(".orig").write_text(original, encoding="utf-8")
        if broken and rng.random() < 0.5:  # fix a broken file again
            fixed = broken.pop()
            fixed.write_text(fixed.with_suffix(".orig").read_text(encoding="utf-8"), encoding="utf-8")
        builder.build()
        clean = tmp_path / f"clean-{step}"
        SiteBuilder(root, clean, today=TODAY).build(clean=True)
        assert tree(out) == tree(clean), f"step {step}: {done}"
    assert sum(updated) >= 8, updated  # most rebuilds really took the update path


def test_renaming_a_contact_plans_everything_again(demo_root):
    builder = SiteBuilder(demo_root, demo_root / "site", today=TODAY)
    builder.build()
    path = demo_root / "contacts" / "kenji-watanabe.md"
    path.write_text(path.read_text().replace("name: Kenji Watanabe", "name: Kenji W."))
    assert builder._incremental(load(demo_root, builder.cache), builder._renderer()) is None
