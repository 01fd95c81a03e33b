"""Job applications on the site: the pipeline page, the funnel, the applications on contact and
company pages, their notes among the follow-ups; and rebuilds after an application changes."""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from generator.site import SiteBuilder

TODAY = dt.date(2026, 11, 25)


def tree(folder: Path) -> dict[str, bytes]:
    files = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}
    return {rel: path.read_bytes() for rel, path in files.items() if not rel.startswith(".tipscale/")}


def text_of(page: str) -> str:
    """The page's text, tags dropped, white space collapsed."""
    return re.sub(r" ([,:;)])", r"\1", " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split()))


def column(page: str, stage: str) -> str:
    found = re.search(rf'<section class="stage-col[^"]*" aria-labelledby="col-{stage}">(.*?)</section>', page, re.S)
    assert found is not None, stage
    return text_of(found.group(1))


def test_the_pipeline_has_a_column_per_stage_with_the_notes_owed(demo_root: Path, cli: Callable[..., Result]) -> None:
    result = cli(demo_root, "build", env={"CRM_TODAY": "2026-11-25"})
    assert result.exit_code == 0, result.output
    page = (demo_root / "site" / "applications.html").read_text()
    for stage in ("applied", "screen", "interview", "onsite", "offer", "accepted", "rejected", "withdrawn"):
        assert f'aria-labelledby="col-{stage}"' in page
    onsite = column(page, "onsite")
    assert onsite.startswith("Onsite 1 Northwind Labs Senior Backend Engineer onsite since 2026-11-24")
    assert "Referred by Daniel Okafor Contacts Marcus Chen Met Marcus Chen, Kenji Watanabe, Priya Raman" in onsite
    # Priya's onsite is also logged in her file: its thank-you is the interaction's, not a second one
    assert "Thank-you to Kenji Watanabe due 2026-11-20 Update to Daniel Okafor due 2026-11-27" in onsite
    assert "Status check to Marcus Chen due 2026-12-01" in onsite and "to Priya" not in onsite
    assert 'href="contacts/kenji-watanabe.html#f-kenji-watanabe-thank-you-northwind-labs-senior-backend-engineer-2"' in page
    withdrawn = column(page, "withdrawn")
    assert "Closing note to Emma Johansson due 2026-11-18 Closing note to Tomás Müller due 2026-11-18" in withdrawn
    applied = column(page, "applied")
    assert "Status check due 2026-11-24: add the recruiter as a contact" in applied  # nobody to ask at Quanta
    assert "Thank-you to Sofia Álvarez due 2026-11-25" in applied
    funnel = text_of(page.split('<section class="section" aria-labelledby="funnel-h">')[1].split("</section>")[0])
    # a screen counts as an interview (applications: interviews: in crm.yaml)
    assert funnel == "Funnel 5 Applied 3 referred (60%) 3 Interview 2 referred (67%) 0 Offer"


def test_contact_and_company_pages_show_the_applications(demo_root: Path, cli: Callable[..., Result]) -> None:
    assert cli(demo_root, "build", env={"CRM_TODAY": "2026-11-25"}).exit_code == 0
    daniel = (demo_root / "site" / "contacts" / "daniel-okafor.html").read_text()
    assert (
        '<a href="../applications.html#a-northwind-labs-senior-backend-engineer">Senior Backend Engineer at Northwind '
        "Labs</a>"
    ) in daniel
    assert "referred you · since" in text_of(daniel)
    # his update is among his follow-ups, with its draft
    assert "Update" in daniel and "Subject: An update on Northwind Labs" in html.unescape(daniel)
    company = text_of((demo_root / "site" / "companies" / "northwind-labs.html").read_text())
    assert "Your applications here Senior Backend Engineer onsite since 2026-11-24" in company
    dashboard = text_of((demo_root / "site" / "index.html").read_text())
    assert "Sofia Álvarez 2026-11-25 · today thank your referrer: applied to Brightwave, Staff Engineer on 2026-11-24" in dashboard
    ics = (demo_root / "site" / "followups.ics").read_text()
    assert "SUMMARY:Send a closing note to Emma Johansson (Fjord Cloud)" in ics


def test_no_applications_gives_a_page_that_says_how_to_start(crm_root: Callable[..., Path], cli: Callable[..., Result]) -> None:
    root = crm_root({"contacts/ann.md": "---\nname: Ann Lee\n---\n"})
    assert cli(root, "build", env={"CRM_TODAY": "2026-11-25"}).exit_code == 0
    page = text_of((root / "site" / "applications.html").read_text())
    assert "Job applications None yet" in page and 'crm apply "Globex" "Staff Engineer" --via raj-patel' in page


def test_rebuilds_after_an_application_changes_equal_a_clean_build(demo_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    builder = SiteBuilder(demo_root, out, today=TODAY)  # one builder, as the live server keeps
    builder.build()
    app = demo_root / "applications" / "northwind-labs-senior-backend-engineer.md"
    kenji = out / "contacts" / "kenji-watanabe.html"
    assert "f-kenji-watanabe-thank-you-northwind" in kenji.read_text()
    steps = [
        lambda text: text.replace("    note: pairing on an event-sourcing kata\n",
                                  "    note: pairing on an event-sourcing kata\n    followed_up: {kenji-watanabe: 2026-11-20}\n"),
        lambda text: text.replace("next: 2026-12-01", "next: 2026-12-03"),
        lambda text: text.replace("    note: system design, then the team lunch\n",
                                  "    note: system design, then the team lunch\n  - {stage: rejected, date: 2026-11-25}\n"),
    ]  # fmt: skip
    for number, step in enumerate(steps):
        app.write_text(step(app.read_text()))
        report = builder.build()
        assert not report.errors, report.errors
        clean = tmp_path / f"clean-{number}"
        SiteBuilder(demo_root, clean, today=TODAY).build(clean=True)
        assert tree(out) == tree(clean), f"after step {number}"
        if number == 0:
            assert "f-kenji-watanabe-thank-you-northwind" not in kenji.read_text()
    page = (out / "applications.html").read_text()
    assert "Closing note to Daniel Okafor" in text_of(page) and "Closing note to Marcus Chen" in text_of(page)
    (demo_root / "applications" / "brightwave-staff-engineer.md").unlink()  # gone: its notes go too
    builder.build()
    assert "Brightwave" not in (out / "applications.html").read_text()
    assert "thank your referrer" not in (out / "contacts" / "sofia-alvarez.html").read_text().lower()
    shutil.rmtree(demo_root / "applications")
    builder.build()
    assert "None yet" in (out / "applications.html").read_text()


def test_a_command_line_build_sees_an_edited_application(demo_root: Path, cli: Callable[..., Result]) -> None:
    env = {"CRM_TODAY": "2026-11-25"}
    assert cli(demo_root, "build", env=env).exit_code == 0
    app = demo_root / "applications" / "quanta-analytics-engineering-manager.md"
    app.write_text(app.read_text().replace("role: Engineering Manager", "role: Director of Engineering"))
    result = cli(demo_root, "build", env=env)
    assert result.exit_code == 0, result.output
    assert "Director of Engineering" in (demo_root / "site" / "applications.html").read_text()
    broken = demo_root / "applications" / "broken.md"
    broken.write_text("---\ncompany: X\nrole: Y\nstages:\n  - {stage: hired, date: 2026-11-01}\n---\n")
    result = cli(demo_root, "build", env=env)
    assert result.exit_code == 1
    assert "applications/broken.md" in result.output
    assert "unknown stage 'hired'" in text_of((demo_root / "site" / "index.html").read_text())
