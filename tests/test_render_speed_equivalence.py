"""The faster rendering paths in generator/render.py write exactly what the plain ones did."""

from __future__ import annotations

import jinja2
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup, escape

from generator.render import Renderer, output_escape

NASTY = "<script>alert('x')</script> & \"quoted\" {{ 7*7 }} Agnès"


@given(st.text())
def test_output_escape_writes_what_markupsafe_escape_writes(text: str) -> None:
    assert output_escape(text) == str(escape(text))


@pytest.mark.parametrize("value", [NASTY, Markup("<b>kept</b>"), 3, 2.5, None, True, ["<a>"]])
def test_output_escape_other_values(value: object) -> None:
    assert output_escape(value) == str(escape(value))


def test_templates_use_the_fast_escape_and_render_the_same(tmp_path) -> None:
    renderer = Renderer(None)
    template = renderer.env.get_template("_followup.html.j2")
    assert template.root_render_func.__globals__["escape"] is output_escape
    context = {
        "f": {
            "id": "f-x",
            "kind": "thank-you",
            "kind_label": NASTY,
            "status": "overdue",
            "due": "2026-01-01",
            "when": NASTY,
            "about": NASTY,
            "missing_gained": True,
            "missing_flag": NASTY,
            "draft": NASTY,
            "mailto": "mailto:a@example.com?subject=" + NASTY,
            "draft_error": "",
            "name": NASTY,
            "href": "../contacts/x.html",
            "email": "a@example.com",
        },
        "show_name": True,
        "open": True,
    }
    plain = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in renderer.dirs]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    html = renderer.page("_followup.html.j2", context)
    assert html == plain.get_template("_followup.html.j2").render(context)
    assert "<script>" not in html and "&lt;script&gt;" in html and "{{ 7*7 }}" in html


def test_undefined_values_still_fail(tmp_path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "x.html.j2").write_text("{{ missing }}", encoding="utf-8")
    with pytest.raises(jinja2.UndefinedError):
        Renderer(tmp_path).page("x.html.j2", {})


def test_a_template_edited_between_builds_is_used(tmp_path) -> None:
    """Templates are not checked on every render; the digest a build takes of them reloads them."""
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "x.html.j2").write_text("one {% include '_part.html.j2' %}", encoding="utf-8")
    (folder / "_part.html.j2").write_text("a", encoding="utf-8")
    renderer = Renderer(tmp_path)
    renderer.sources_digest()
    assert renderer.page("x.html.j2", {}) == "one a"
    (folder / "x.html.j2").write_text("two {% include '_part.html.j2' %}", encoding="utf-8")
    renderer.sources_digest()
    assert renderer.page("x.html.j2", {}) == "two a"
    (folder / "_part.html.j2").write_text("bb", encoding="utf-8")
    renderer.sources_digest()
    assert renderer.page("x.html.j2", {}) == "two bb"
    # a new override of a built-in template, in a templates/ folder that already existed
    assert "<span>Mine</span>" not in renderer.page("invalid.html.j2", _invalid_context())
    builtin = renderer.dirs[-1] / "base.html.j2"
    (folder / "base.html.j2").write_text(
        builtin.read_text(encoding="utf-8").replace("<span>Tipscale</span>", "<span>Mine</span>"), "utf-8"
    )
    renderer.sources_digest()
    assert "<span>Mine</span>" in renderer.page("invalid.html.j2", _invalid_context())
    (folder / "base.html.j2").unlink()
    renderer.sources_digest()
    assert "<span>Mine</span>" not in renderer.page("invalid.html.j2", _invalid_context())


def _invalid_context() -> dict[str, object]:
    return {"base": "../", "page_title": "x", "nav": "contacts", "slug": "x", "files": [], "problems": []}
