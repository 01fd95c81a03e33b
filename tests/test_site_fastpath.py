"""The no-change fast path: when nothing that shapes a page changed, the build skips all work —
and any such change (a file, a template, the day, git's HEAD, a removed page) is never missed."""

from __future__ import annotations

import datetime as dt
import os
import subprocess

from generator import render
from generator.site import SiteBuilder

TODAY = dt.date(2026, 11, 25)


def tree(folder):
    """The site's files (not the build's own state in .tipscale/)."""
    files = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}
    return {rel: path.read_bytes() for rel, path in files.items() if not rel.startswith(".tipscale/")}


def counting_model(monkeypatch):
    """Counts builds that planned pages: in full (`_model`) or by updating the last plan."""
    calls = []
    real_model, real_update = SiteBuilder._model, SiteBuilder._incremental

    def model(self, loaded):
        calls.append(1)
        return real_model(self, loaded)

    def update(self, loaded, renderer):
        result = real_update(self, loaded, renderer)
        if result is not None:
            calls.append(1)
        return result

    monkeypatch.setattr(SiteBuilder, "_model", model)
    monkeypatch.setattr(SiteBuilder, "_incremental", update)
    return calls


def test_no_change_skips_the_model_in_a_new_process_too(demo_root, monkeypatch):
    out = demo_root / "site"
    SiteBuilder(demo_root, out, today=TODAY).build()
    calls = counting_model(monkeypatch)
    report = SiteBuilder(demo_root, out, today=TODAY).build()  # a fresh builder, as a CLI run
    assert calls == [] and report.written == 0 and report.skipped == report.pages > 20


def test_each_kind_of_change_still_rebuilds(demo_root, tmp_path, monkeypatch):
    out = demo_root / "site"
    builder = SiteBuilder(demo_root, out, today=TODAY)
    builder.build()
    calls = counting_model(monkeypatch)

    # a contact file
    path = demo_root / "contacts" / "grace-liu.md"
    path.write_text(path.read_text().replace("VP of Engineering", "CTO"))
    assert builder.build().written >= 1 and len(calls) == 1
    assert b"CTO" in (out / "contacts" / "grace-liu.html").read_bytes()

    # a page template of the user's
    (demo_root / "templates").mkdir()
    source = render.Renderer(None).dirs[-1] / "group.html.j2"
    (demo_root / "templates" / "group.html.j2").write_text(source.read_text().replace("<ul", "<p>mine</p><ul"))
    assert builder.build().written >= 1 and len(calls) == 2
    assert b"<p>mine</p>" in (out / "tags" / "alumni.html").read_bytes()

    # the day
    later = SiteBuilder(demo_root, out, today=TODAY + dt.timedelta(days=1))
    assert later.build().written >= 1 and len(calls) == 3

    # a page removed by hand is written again
    (out / "contacts" / "grace-liu.html").unlink()
    again = SiteBuilder(demo_root, out, today=TODAY + dt.timedelta(days=1))
    assert again.build().written == 1 and len(calls) == 4

    # and the result is always what a clean build makes
    clean = tmp_path / "clean"
    SiteBuilder(demo_root, clean, today=TODAY + dt.timedelta(days=1)).build(clean=True)
    assert tree(clean) == tree(out)


def test_a_new_commit_rebuilds_history(demo_root, monkeypatch):
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip

    def git(*args):
        subprocess.run(["git", "-C", str(demo_root), *args], check=True, capture_output=True, env=env)

    git("init", "-q")
    git("add", "contacts")
    git("commit", "-qm", "first")
    out = demo_root / "site"
    SiteBuilder(demo_root, out, today=TODAY).build()
    git("commit", "-q", "--allow-empty", "-m", "second")  # no file changes, a new HEAD
    calls = counting_model(monkeypatch)
    SiteBuilder(demo_root, out, today=TODAY).build()
    assert calls == [1]


def test_note_template_errors_are_reported_on_the_fast_path_too(demo_root):
    notes = demo_root / "templates" / "notes"
    notes.mkdir(parents=True)
    (notes / "interview.md.j2").write_text("Subject: x\n\n{{ broken \n")
    out = demo_root / "site"
    first = SiteBuilder(demo_root, out, today=TODAY).build()
    second = SiteBuilder(demo_root, out, today=TODAY).build()
    assert first.errors and [p.format() for p in second.errors] == [p.format() for p in first.errors]
    assert second.written == 0


def test_a_new_run_reuses_the_rows_of_the_last_one(demo_root, tmp_path, monkeypatch):
    out = demo_root / "site"
    SiteBuilder(demo_root, out, today=TODAY).build()
    for kept in ("rows", "search", "cards", "events"):
        assert list((out / ".tipscale").glob(f"{kept}-*.bin")), kept
    rows_rendered = []
    real_page = render.Renderer.page

    cards_rendered = []

    def page(self, name, context):
        if name == "_row.html.j2":
            rows_rendered.append(context["href"])
        if name == "_followup.html.j2":
            cards_rendered.append(context["f"]["href"])
        return real_page(self, name, context)

    monkeypatch.setattr(render.Renderer, "page", page)
    path = demo_root / "contacts" / "grace-liu.md"
    path.write_text(path.read_text().replace("VP of Engineering", "CTO"))
    SiteBuilder(demo_root, out, today=TODAY).build()  # a fresh builder, as the next CLI run
    assert rows_rendered == ["../contacts/grace-liu.html"]
    assert cards_rendered == ["contacts/grace-liu.html"]  # the dashboard's other cards were kept
    clean = tmp_path / "clean"
    SiteBuilder(demo_root, clean, today=TODAY).build(clean=True)
    assert tree(clean) == tree(out)


def test_note_template_errors_are_still_reported_after_an_update_that_skips_them(demo_root):
    """A notes edit updates the saved plan without making the dashboard or the feed again;
    the broken note template they met is still reported (and `crm build` still fails)."""
    notes = demo_root / "templates" / "notes"
    notes.mkdir(parents=True)
    (notes / "interview.md.j2").write_text("Subject: x\n\n{{ broken \n")
    out = demo_root / "site"
    first = SiteBuilder(demo_root, out, today=TODAY).build()
    path = demo_root / "contacts" / "grace-liu.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nA new thought.\n", encoding="utf-8")
    again = SiteBuilder(demo_root, out, today=TODAY).build()
    assert again.written >= 1 and first.errors
    assert [p.format() for p in again.errors] == [p.format() for p in first.errors]
