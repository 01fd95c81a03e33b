"""`crm build` and the SiteBuilder: pages at the SPEC §8 URLs, their content, incremental builds."""

from __future__ import annotations

import datetime as dt
import json
import marshal
import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from generator.site import SiteBuilder
from generator.write import UnsafePath, Writer

DEMO_TODAY = dt.date(2026, 11, 25)
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


# --- a tiny DOM for exact assertions ---------------------------------------------------------


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def norm(self) -> str:
        return " ".join(self.text().split())

    def iter(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[Node]:
        out = []
        for node in self.iter():
            if tag is not None and node.tag != tag:
                continue
            if cls is not None and cls not in (node.attrs.get("class") or "").split():
                continue
            if any(node.attrs.get(k.rstrip("_").replace("_", "-")) != v for k, v in attrs.items()):
                continue
            out.append(node)
        return out

    def find(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> Node:
        found = self.find_all(tag, cls, **attrs)
        assert found, f"no <{tag} class={cls} {attrs}>"
        return found[0]

    def by_id(self, ident: str) -> Node:
        return self.find(id=ident)


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Node(tag, dict(attrs), self.current))

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse_html(text: str) -> Node:
    builder = _Builder()
    builder.feed(text)
    builder.close()
    return builder.root


def page(site: Path, rel: str) -> Node:
    return parse_html((site / rel).read_text(encoding="utf-8"))


def tree(site: Path) -> dict[str, bytes]:
    """Every built file (the build's own state folder aside) → bytes."""
    return {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in sorted(site.rglob("*"))
        if p.is_file() and not p.relative_to(site).as_posix().startswith(".tipscale/")
    }


def stamps(site: Path) -> dict[str, int]:
    return {p.relative_to(site).as_posix(): p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}


SUMMARY = re.compile(r"^built (.+): (\d+) pages, (\d+) written, (\d+) unchanged, (\d+) removed in \d+\.\d\d s$")


# --- pages and URLs --------------------------------------------------------------------------


def test_build_writes_every_page_at_the_spec_urls(cli, demo_root):
    result = cli(demo_root, "build")
    assert result.exit_code == 0, result.stderr
    match = SUMMARY.match(result.stdout.strip())
    assert match, result.stdout
    site = demo_root / "site"
    files = set(tree(site))
    slugs = sorted(p.name[:-3] for p in (demo_root / "contacts").glob("*.md"))
    assert len(slugs) == 12
    for slug in slugs:
        assert f"contacts/{slug}.html" in files
    for rel in ["index.html", "contacts/index.html", "followups.ics", "static/style.css", "static/app.js",
                "tags/northwind.html", "tags/hiring-manager.html", "companies/northwind-labs.html",
                "companies/fjord-cloud.html"]:  # fmt: skip
        assert rel in files, rel
    pages, written = int(match.group(2)), int(match.group(3))
    assert written == pages == len(files)
    manifest = marshal.loads((site / ".tipscale" / "manifest.bin").read_bytes())
    assert set(manifest["pages"]) == files
    assert not (site / ".tipscale" / "manifest.json").exists()


def test_out_option_and_quiet(cli, demo_root, tmp_path):
    out = tmp_path / "elsewhere"
    result = cli(demo_root, "build", "--out", str(out), "-q")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert (out / "index.html").is_file()
    assert not (demo_root / "site").exists()


def _demo_build(demo_root: Path, today: dt.date | None = DEMO_TODAY) -> tuple[Path, SiteBuilder]:
    site = demo_root / "site"
    builder = SiteBuilder(demo_root, site, today=today)
    report = builder.build()
    assert report.errors == []
    return site, builder


def test_dashboard_lists_followups_with_drafts_rate_and_recent(cli, demo_root):
    site, _ = _demo_build(demo_root)
    doc = page(site, "index.html")

    def cards(section: str) -> list[tuple[str, str, str]]:
        return [
            (a.find("h3").norm(), a.find(cls="badge").norm(), a.find(cls="fu-when").norm())
            for a in doc.by_id(section).find_all("article")
        ]

    assert cards("overdue") == [
        ("Tomás Müller", "Reconnect", "2026-11-15 · 10 days overdue"),
        ("Emma Johansson", "Closing note", "2026-11-18 · 7 days overdue"),  # a withdrawn application's
        ("Tomás Müller", "Closing note", "2026-11-18 · 7 days overdue"),
        ("Kenji Watanabe", "Thank-you", "2026-11-20 · 5 days overdue"),  # met at an interview stage
        ("Marcus Chen", "Check-in", "2026-11-20 · 5 days overdue"),
        ("Daniel Okafor", "Reminder", "2026-11-21 · 4 days overdue"),
        ("Sofia Álvarez", "Thank-you", "2026-11-22 · 3 days overdue"),
        ("Daniel Okafor", "Thank-you", "2026-11-24 · 1 day overdue"),
    ]
    assert cards("due") == [
        ("Aisha Khan", "Reminder", "2026-11-25 · today"),
        ("Priya Raman", "Thank-you", "2026-11-25 · today"),
        ("Sofia Álvarez", "Thank-you", "2026-11-25 · today"),  # she referred you: thanked when you apply
    ]
    assert [c[:2] for c in cards("upcoming")] == [
        ("Kenji Watanabe", "Thank-you"), ("Daniel Okafor", "Update"), ("Aisha Khan", "Check-in"),
        ("Aisha Khan", "Closing note"), ("Hannah Berg", "Reconnect"), ("Grace Liu", "Reminder"),
        ("Marcus Chen", "Status check"), ("Sofia Álvarez", "Status check"), ("Priya Raman", "Reminder"),
    ]  # fmt: skip

    # The draft on the dashboard is the one `crm draft` prints, and the mailto link carries it.
    expected = cli(demo_root, "draft", "priya-raman", env={"CRM_TODAY": "2026-11-25"}).stdout
    card = doc.by_id("f-priya-raman-thank-you-2026-11-24-1")
    draft = card.find("pre", cls="draft-text")
    assert draft.text() == expected.rstrip("\n")
    button = card.find("button", cls="copy")
    assert button.attrs["data-copy"] == draft.attrs["id"]
    (mail_href,) = [a.attrs["href"] for a in card.find_all("a") if a.attrs["href"].startswith("mailto:")]
    mail = urlsplit(mail_href)
    assert mail.path == "priya.raman@northwind.example"
    query = parse_qs(mail.query)
    subject, _, body = expected.partition("\n")
    assert query["subject"] == [subject.removeprefix("Subject: ")]
    assert query["body"] == [body.strip("\n").replace("\n", "\r\n")]

    # Missing `gained` is flagged on the follow-up that needs it.
    flagged = [a.find("h3").norm() for a in doc.find_all("article") if a.find_all(cls="flag")]
    assert flagged == ["Daniel Okafor"]

    rate = doc.find(cls="stat-rate")
    assert rate.find(cls="stat-num").norm() == "62%"
    assert "5 of 8 thank-you notes sent on time" in rate.norm()

    recent = doc.find("ol", cls="recent").find_all("li")
    assert len(recent) == 12
    assert recent[0].norm() == "2026-11-25 Emma Johansson event Fjord Cloud's online open house"
    assert recent[0].find("a").attrs["href"] == "contacts/emma-johansson.html"

    assert doc.by_id("problems").find(cls="empty").norm() == "All 12 contact files are valid."


def test_dashboard_says_as_of_only_when_today_is_not_the_real_date(demo_root):
    (demo_root / "crm.yaml").write_text("upcoming_days: 7\n", encoding="utf-8")
    site = demo_root / "site"
    SiteBuilder(demo_root, site).build()
    assert page(site, "index.html").find_all(cls="asof") == []
    SiteBuilder(demo_root, site, today=dt.date(2001, 2, 3)).build()
    assert page(site, "index.html").find(cls="asof").find("time").attrs["datetime"] == "2001-02-03"


def test_contact_page_profile_notes_timeline_backlinks(demo_root):
    site, _ = _demo_build(demo_root)
    doc = page(site, "contacts/priya-raman.html")
    assert doc.find("h1").norm() == "Priya Raman"
    assert doc.find(cls="profile-role").norm() == "Engineering Manager, Platform at Northwind Labs"
    assert doc.find(cls="profile-role").find("a").attrs["href"] == "../companies/northwind-labs.html"
    assert [a.attrs["href"] for a in doc.find(cls="profile").find_all("a", cls="tag")] == [
        "../tags/northwind.html", "../tags/hiring-manager.html"]  # fmt: skip
    details = {dt_.norm(): dd for dt_, dd in zip(doc.find("dl").find_all("dt"), doc.find("dl").find_all("dd"), strict=True)}
    assert details["linkedin"].find("a").attrs["href"] == "https://www.linkedin.com/in/priya-raman-example"
    assert details["Email"].find("a").attrs["href"] == "mailto:priya.raman@northwind.example"
    assert details["Keep in touch"].norm() == "every 3 months"

    notes = doc.find(cls="notes")
    assert notes.find("strong").norm() == "Platform"
    wiki = [(a.attrs["href"], a.norm()) for a in notes.find_all("a", cls="wiki")]
    assert wiki == [("kenji-watanabe.html", "Kenji Watanabe"), ("marcus-chen.html", "Marcus Chen")]

    timeline = doc.find("ol", cls="timeline").find_all("li", cls="tl-item")
    assert [t.find("time").attrs["datetime"] for t in timeline] == ["2026-11-24", "2026-10-30"]
    assert timeline[0].find(cls="tl-with").find("a").attrs["href"] == "kenji-watanabe.html"
    assert timeline[0].find(cls="tl-status").norm() == "Thank-you pending"

    followups = doc.find(cls="fu-list").find_all("article")
    assert [f.find(cls="badge").norm() for f in followups] == ["Thank-you", "Reminder", "Reconnect"]
    assert followups[0].find("pre").text().startswith("Subject: Thank you for the interview at Northwind Labs\n")

    backlinks = [(a.attrs["href"], a.norm()) for a in doc.find(cls="card", **{"aria_labelledby": "backlinks-h"}).find_all("a")]
    assert backlinks == [("daniel-okafor.html", "Daniel Okafor"), ("daniel-okafor.html", "Daniel Okafor"),
                         ("kenji-watanabe.html", "Kenji Watanabe")]  # fmt: skip
    assert doc.find(cls="history").norm() == "History Not in a git repository."


def test_extra_fields_unresolved_links_and_unsafe_link_text(crm_root):
    root = crm_root(
        {
            "contacts/jane-doe.md": """\
                ---
                name: Jane Doe
                favourite_tea: Earl Grey
                links:
                  site: ftp://files.example.com
                ---
                Knows [[nobody-here]] and [[Jane Doe|herself]].
                """
        }
    )
    site = root / "site"
    report = SiteBuilder(root, site, today=DEMO_TODAY).build()
    assert [p.message for p in report.warnings] == [
        "'ftp://files.example.com' is not a web link (expected http:// or https://); it is shown as text, not a link",
        "[[nobody-here]] links to no contact",
    ]
    doc = page(site, "contacts/jane-doe.html")
    dl = doc.find("dl")
    pairs = [(a.norm(), b.norm()) for a, b in zip(dl.find_all("dt"), dl.find_all("dd"), strict=True)]
    assert ("favourite_tea", "Earl Grey") in pairs
    assert ("site", "ftp://files.example.com") in pairs
    assert [a.attrs["href"] for a in dl.find_all("a")] == []
    notes = doc.find(cls="notes")
    assert notes.find(cls="wiki-missing").norm() == "[[nobody-here]]"
    assert [(a.attrs["href"], a.norm()) for a in notes.find_all("a")] == [("jane-doe.html", "herself")]
    assert len(doc.find(cls="banner-warn").find_all("li")) == 2


# --- incremental builds ----------------------------------------------------------------------


def test_rebuild_without_changes_writes_nothing(cli, demo_root):
    assert cli(demo_root, "build").exit_code == 0
    site = demo_root / "site"
    before = stamps(site)
    result = cli(demo_root, "build")
    match = SUMMARY.match(result.stdout.strip())
    assert match and match.group(3) == "0" and match.group(4) == match.group(2), result.stdout
    assert stamps(site) == before


def test_one_changed_contact_rewrites_only_its_pages_and_summaries(demo_root, tmp_path):
    site, builder = _demo_build(demo_root)
    before_bytes, before_stamps = tree(site), stamps(site)
    path = demo_root / "contacts" / "priya-raman.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("title: Engineering Manager, Platform", "title: Director of Platform"), "utf-8")
    report = builder.build()
    after_bytes, after_stamps = tree(site), stamps(site)
    changed = {rel for rel in after_bytes if after_bytes[rel] != before_bytes.get(rel)}
    search = {rel for rel in changed if rel.startswith("contacts/search-")}
    assert changed - search == {
        "contacts/priya-raman.html", "contacts/index.html",
        "tags/northwind.html", "tags/hiring-manager.html", "companies/northwind-labs.html",
    }  # fmt: skip
    assert len(search) == 1  # the part of the search index that holds the contact
    rewritten = {rel for rel in after_bytes if after_stamps[rel] != before_stamps[rel]}
    assert rewritten == changed
    assert report.written == len(changed) and report.removed == 0
    # Same bytes as a clean build from scratch.
    clean = tmp_path / "clean"
    SiteBuilder(demo_root, clean, today=DEMO_TODAY).build(clean=True)
    assert tree(clean) == after_bytes


def test_incremental_equals_clean_after_many_kinds_of_change(cli, demo_root, tmp_path):
    assert cli(demo_root, "--today", "2026-11-25", "build").exit_code == 0
    contacts = demo_root / "contacts"
    (contacts / "olivia-brooks.md").unlink()  # the only `coach`
    kenji = contacts / "kenji-watanabe.md"
    kenji.write_text(kenji.read_text(encoding="utf-8").replace("name: Kenji Watanabe", "name: Kenji W."), "utf-8")
    (contacts / "new-person.md").write_text("---\nname: New Person\ncompany: Brand New Co\n---\nMet [[Kenji W.]].\n", "utf-8")
    result = cli(demo_root, "--today", "2026-11-25", "build")
    assert result.exit_code == 0
    match = SUMMARY.match(result.stdout.strip())
    assert match and match.group(5) == "2", result.stdout  # olivia's page and the coach tag
    site = demo_root / "site"
    assert not (site / "contacts" / "olivia-brooks.html").exists()
    assert not (site / "tags" / "coach.html").exists()
    assert (site / "companies" / "brand-new-co.html").is_file()
    # Priya's page links Kenji by his new name.
    wiki = page(site, "contacts/priya-raman.html").find(cls="notes").find_all("a", cls="wiki")
    assert wiki[0].norm() == "Kenji W."
    assert cli(demo_root, "--today", "2026-11-25", "build", "--out", str(tmp_path / "c"), "--clean").exit_code == 0
    assert tree(tmp_path / "c") == tree(site)


def test_template_override_in_the_crm_root(demo_root):
    site, builder = _demo_build(demo_root)
    (demo_root / "templates").mkdir()
    (demo_root / "templates" / "invalid.html.j2").write_text("unused\n", encoding="utf-8")
    builtin = Path(__file__).resolve().parent.parent / "templates" / "base.html.j2"
    (demo_root / "templates" / "base.html.j2").write_text(
        builtin.read_text(encoding="utf-8").replace("<span>Tipscale</span>", "<span>My CRM</span>"), "utf-8"
    )
    report = builder.build()
    # every HTML page: not the 3 assets, the feed, the parts of the search index
    assert report.written == report.pages - 4 - len(list((site / "contacts").glob("search-*.js")))
    assert page(site, "index.html").find(cls="brand").norm() == "My CRM"


# --- safety of the output folder -------------------------------------------------------------


def test_writer_refuses_paths_outside_the_output_folder(tmp_path):
    out = tmp_path / "site"
    writer = Writer(out)
    for bad in ["../evil.html", "/etc/passwd", "a/../../evil.html", "", "a//b.html", "./x.html", "C:/x.html", "a\\..\\b"]:
        with pytest.raises(UnsafePath):
            writer.write(bad, b"x")
    out.mkdir()
    (tmp_path / "outside").mkdir()
    (out / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(UnsafePath):
        writer.write("link/evil.html", b"x")
    assert list((tmp_path / "outside").iterdir()) == []
    assert writer.write("ok/page.html", b"hi") is True
    assert writer.write("ok/page.html", b"hi") is False  # same bytes: not written again
    assert [p.name for p in (out / "ok").iterdir()] == ["page.html"]  # no temporary files left
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (out / "ok" / "linked.html").symlink_to(secret)  # a page that is a link to a file outside
    for data in (b"x", b"secret"):
        with pytest.raises(UnsafePath):
            writer.write("ok/linked.html", data)
    assert secret.read_text() == "secret" and (out / "ok" / "linked.html").is_symlink()


def test_staged_writes_land_whole_and_the_staging_folders_go(tmp_path, monkeypatch):
    out = tmp_path / "site"
    writer = Writer(out)
    writer.stage()
    folder = out / ".tipscale" / f"stage-{os.getppid()}-{os.getpid()}"  # as a pool's worker names it
    assert folder.is_dir() and writer.staged
    seen = []
    real_replace = os.replace

    def replace(src, dst):
        seen.append(Path(src).parent)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    assert writer.write("contacts/a.html", b"<p>a</p>") is True
    monkeypatch.undo()
    assert seen == [folder]  # the temporary file was made in the staging folder
    assert (out / "contacts" / "a.html").read_bytes() == b"<p>a</p>" and list(folder.iterdir()) == []
    # The folders of this process's workers go, and those of processes that are gone (with
    # what a killed worker left); a live build's stay (here: this test's parent's), as does
    # anything that is not a staging folder.
    dead = subprocess.Popen(["true"])  # a process that ran and is gone
    dead.wait()
    mine = out / ".tipscale" / f"stage-{os.getpid()}-12"
    stale = out / ".tipscale" / f"stage-{dead.pid}-34"
    for made in (mine, stale):
        made.mkdir()
        (made / ".tmp-1-b.html").write_bytes(b"half")
    (out / ".tipscale" / "stage-link").symlink_to(tmp_path)
    (tmp_path / ".tmp-keep").write_bytes(b"mine")
    writer.clear_staging()
    assert not writer.staged
    left = sorted(p.name for p in (out / ".tipscale").iterdir())
    assert left == sorted([folder.name, "stage-link"])
    assert (tmp_path / ".tmp-keep").read_bytes() == b"mine"
    assert writer.write("contacts/b.html", b"b") and sorted(os.listdir(out / "contacts")) == ["a.html", "b.html"]
    assert list(folder.iterdir()) == []  # written beside its target after the clearing


def test_clearing_staging_folders_never_leads_outside(tmp_path):
    out = tmp_path / "site"
    out.mkdir()
    outside = tmp_path / "outside"
    (outside / f"stage-{os.getpid()}-1").mkdir(parents=True)
    (outside / f"stage-{os.getpid()}-1" / ".tmp-x").write_bytes(b"theirs")
    (out / ".tipscale").symlink_to(outside)
    Writer(out).clear_staging()
    assert (outside / f"stage-{os.getpid()}-1" / ".tmp-x").read_bytes() == b"theirs"


def test_staging_never_leads_outside_the_output_folder(tmp_path):
    out = tmp_path / "site"
    out.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (out / ".tipscale").symlink_to(outside)  # a state folder that leads elsewhere
    writer = Writer(out)
    writer.stage()
    assert writer._staging is None and list(outside.iterdir()) == []
    assert writer.write("contacts/a.html", b"a") and (out / "contacts" / "a.html").read_bytes() == b"a"
    assert list(outside.iterdir()) == [] and os.listdir(out / "contacts") == ["a.html"]


def test_a_staging_folder_on_another_file_system_still_writes(tmp_path):
    from generator.write import replace_with

    other = Path("/dev/shm") / f"tipscale-test-{os.getpid()}"
    other.mkdir()
    try:
        target = tmp_path / "page.html"
        replace_with(str(target), b"whole", str(other))
        assert target.read_bytes() == b"whole"
        assert list(other.iterdir()) == [] and os.listdir(tmp_path) == ["page.html"]
    finally:
        other.rmdir()


def test_hostile_tag_and_company_names_stay_inside_the_site(crm_root):
    root = crm_root(
        {
            "contacts/a.md": "---\nname: A\ncompany: ../../escaped\ntags: ['../../../evil', '..', '/etc/x']\n---\n",
        }
    )
    outside_before = sorted(p for p in root.parent.rglob("*") if "site" not in p.parts)
    SiteBuilder(root, root / "site", today=DEMO_TODAY).build()
    outside_after = sorted(p for p in root.parent.rglob("*") if "site" not in p.parts)
    assert outside_after == outside_before
    files = set(tree(root / "site"))
    assert {"tags/evil.html", "tags/etc-x.html", "companies/escaped.html"} <= files
    assert all(f.startswith(("tags/", "companies/", "contacts/", "static/", "followups/", "index.html", "followups.ics", "applications.html")) for f in files)


def test_stale_files_of_the_last_build_are_removed_but_not_others(demo_root):
    site, builder = _demo_build(demo_root)
    (site / "my-notes.txt").write_text("mine", encoding="utf-8")
    (demo_root / "contacts" / "hannah-berg.md").unlink()  # the only `mentor`
    report = builder.build()
    assert report.removed == 2
    assert not (site / "contacts" / "hannah-berg.html").exists()
    assert not (site / "tags" / "mentor.html").exists()
    assert (site / "my-notes.txt").read_text(encoding="utf-8") == "mine"


# --- invalid files ---------------------------------------------------------------------------

BROKEN = """\
---
name: Broken Person
interactions:
  - date: next tuesday
    type: coffee
---
"""


def test_invalid_file_shows_in_problems_panel_and_on_its_own_page(cli, demo_root):
    (demo_root / "contacts" / "broken-person.md").write_text(BROKEN, encoding="utf-8")
    result = cli(demo_root, "build")
    assert result.exit_code == 1
    expected = (
        "contacts/broken-person.md:4:11: error: interactions[0].date: 'next tuesday' is not a date (expected YYYY-MM-DD)"
    )
    assert expected in result.stderr
    assert "1 file with errors: contacts/broken-person.md" in result.stderr
    site = demo_root / "site"
    # Everything valid is still built.
    assert (site / "contacts" / "priya-raman.html").is_file()
    doc = page(site, "index.html")
    assert doc.find(cls="banner-error").find("strong").norm() == "1 error in your files."
    panel = doc.by_id("problems")
    files = panel.find_all("li", cls="problem-file")
    assert [f.find(cls="problem-name").find("a").norm() for f in files] == ["contacts/broken-person.md"]
    assert files[0].find("a").attrs["href"] == "contacts/broken-person.html"
    assert files[0].find("li", cls="problem").norm() == (
        "contacts/broken-person.md:4:11 error: interactions[0].date: 'next tuesday' is not a date (expected YYYY-MM-DD)"
    )
    banner = page(site, "contacts/broken-person.html").by_id("file-errors")
    assert banner.find("h2").norm() == "This contact file has errors"
    assert [li.norm() for li in banner.find_all("li")] == [expected]

    # Fixing the file turns the banner page into the contact page and clears the panel.
    (demo_root / "contacts" / "broken-person.md").write_text(BROKEN.replace("next tuesday", "2026-11-01"), "utf-8")
    assert cli(demo_root, "build").exit_code == 0
    assert page(site, "contacts/broken-person.html").find("h1").norm() == "Broken Person"
    assert page(site, "index.html").find_all(cls="banner-error") == []


# --- git history -----------------------------------------------------------------------------


def _git(root: Path, *args: str, when: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Alex Example", "GIT_AUTHOR_EMAIL": "alex@example.com",
        "GIT_COMMITTER_NAME": "Alex Example", "GIT_COMMITTER_EMAIL": "alex@example.com",
        "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when,
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
    }  # fmt: skip
    subprocess.run(["git", "-C", str(root), *args], check=True, env=env, capture_output=True)


def test_contact_page_shows_the_files_git_history(demo_root):
    _git(demo_root, "init", "-q", "-b", "main", when="2026-11-01T10:00:00Z")
    _git(demo_root, "add", "contacts", when="2026-11-01T10:00:00Z")
    _git(demo_root, "commit", "-q", "-m", "Add the demo contacts", when="2026-11-01T10:00:00Z")
    site, builder = _demo_build(demo_root)
    history = page(site, "contacts/grace-liu.html").find(cls="history").find_all("li")
    assert [li.norm()[:-8] for li in history] == ["2026-11-01 Alex Example Add the demo contacts"]

    grace = demo_root / "contacts" / "grace-liu.md"
    grace.write_text(grace.read_text(encoding="utf-8") + "\nLikes chess.\n", encoding="utf-8")
    _git(demo_root, "commit", "-q", "-am", "Note about Grace", when="2026-11-20T09:30:00Z")
    before = tree(site)
    builder.build()
    after = tree(site)
    history = page(site, "contacts/grace-liu.html").find(cls="history").find_all("li")
    assert [li.norm()[:-8] for li in history] == [
        "2026-11-20 Alex Example Note about Grace",
        "2026-11-01 Alex Example Add the demo contacts",
    ]
    # Other contacts' pages are untouched by the new commit.
    assert after["contacts/priya-raman.html"] == before["contacts/priya-raman.html"]
    (demo_root / "contacts" / "new-one.md").write_text("---\nname: New One\n---\n", encoding="utf-8")
    builder.build()
    assert page(site, "contacts/new-one.html").find(cls="history").norm() == "History Not committed yet."


# --- calendar feed ---------------------------------------------------------------------------


def test_calendar_feed_has_one_event_per_pending_followup(demo_root, cli):
    import icalendar

    site, _ = _demo_build(demo_root)
    feed = (site / "followups.ics").read_bytes()
    assert feed == cli(demo_root, "followups", "--format", "ics", env={"CRM_TODAY": "2026-11-25"}).stdout_bytes
    events = icalendar.Calendar.from_ical(feed).walk("VEVENT")
    expected = json.loads(cli(demo_root, "followups", "--all", "--format", "json", env={"CRM_TODAY": "2026-11-25"}).stdout)
    assert len(events) == len(expected["followups"]) > 0
    assert all(e.walk("VALARM") for e in events)
    assert unquote(str(events[0]["UID"])).endswith("@tipscale")
