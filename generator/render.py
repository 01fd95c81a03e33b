"""Page rendering: Jinja2 for pages, markdown-it (markdown-it-pyrs, the Rust port) for the notes.

Everything the user wrote is data, never markup or template code: the Jinja environment
autoescapes and uses `StrictUndefined`, user text is passed in as context values (so `{{ 7*7 }}`
in a note stays literal), markdown-it runs with `html: False` (raw HTML is shown as text), and
only http(s)/mailto/tel links become links. Images are disabled: a note must not make the
browser load anything from the internet.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import markupsafe
from markupsafe import Markup, escape

from .frontmatter import NOTES_MARKDOWN_LIMIT
from .paths import builtin_templates, code_digest, tree_files

SAFE_SCHEMES = ("http", "https", "mailto", "tel")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
WIKI_LINK = re.compile(r"\[\[([^\[\]\n|`]+?)(?:\|([^\[\]\n`]+?))?\]\]")


def safe_url(url: str) -> str | None:
    """The URL if it is an absolute http(s), mailto or tel link, or a scheme-less relative link
    (`#x`, `page.html`); None for anything else (javascript:, vbscript:, data:, file:, …).

    Browsers ignore tabs, newlines and other invisible characters inside a scheme
    (`java\\tscript:`), so those are removed before looking at it."""
    cleaned = _INVISIBLE.sub("", url).strip()
    if not cleaned:
        return None
    match = _SCHEME.match(cleaned)
    if match is None:
        # No scheme: relative or fragment link. `//host` would be protocol-relative (external).
        return None if cleaned.startswith(("//", "\\")) or ":" in cleaned.split("/")[0] else url.strip()
    return url.strip() if match.group(1).lower() in SAFE_SCHEMES else None


def external_url(url: str) -> str | None:
    """For `links:` values: only absolute http(s), mailto and tel URLs become links."""
    cleaned = _INVISIBLE.sub("", url).strip()
    match = _SCHEME.match(cleaned)
    if match is None or match.group(1).lower() not in SAFE_SCHEMES:
        return None
    return url.strip()


_URL_SAFE = re.compile(r"[A-Za-z0-9_.~/-]*")  # what `quote(path, safe="/")` leaves as it is


def url_path(path: str) -> str:
    """Percent-encode a site path for an href (slugs may hold non-ASCII letters)."""
    if _URL_SAFE.fullmatch(path):
        return path  # most slugs: tens of thousands of links a build
    return quote(path, safe="/")


# --- Markdown -----------------------------------------------------------------------------------

Resolver = Callable[[str], tuple[str, str] | None]  # wiki target → (href, contact name) or None

# markdown-it's CommonMark rules, without raw HTML (shown as text) and images (they would load
# from the internet; `![x](url)` stays "!" and a link), with tables and strikethrough.
_RULES = [
    "blockquote", "code", "fence", "heading", "hr", "lheading", "list", "paragraph", "reference",
    "autolink", "backticks", "emphasis", "entity", "escape", "link", "newline", "table", "strikethrough",
]  # fmt: skip

# A wiki link is set aside before the Markdown is read, so that it wins over emphasis and links as
# it always did, and put back in the HTML: a link in text, its own text again inside code or an
# attribute. The placeholder is a number between private-use characters (letters to Markdown)
# inside `%` (punctuation, like the brackets it stands for, to the rules of emphasis).
_MARK, _END = "\ue000", "\ue001"
_PLACEHOLDER = re.compile(f"%{_MARK}(\\d+){_END}%")
_ENCODED_PLACEHOLDER = re.compile(r"%25%EE%80%80(\d+)%EE%80%81%25")
_TAG_OR_TEXT = re.compile(r"(<[^>]*>)")
# The renderer writes every link as `<a href="…">` (raw HTML in notes is escaped text).
_LINK = re.compile(r'<a href="([^"]*)"(?: title="[^"]*")?>(.*?)</a>', re.DOTALL)


# A line that opens a thousand quotes or lists is shown as plain text: the port has no nesting
# limit and a few hundred KB of `> > > …` overflow its stack (a crash, not an error), and
# markdown-it-py drops what lies deeper than 20 levels (maxNesting). From 21 to 999 levels the
# port nests on (a corner difference from markdown-it-py, tested).
_DEEP_LEVELS = 1000
_DEEP = re.compile(
    r"^[ \t]*(?:(?:>|[*+-](?=[ \t])|\d{1,9}[.)](?=[ \t]))[ \t]*)" + f"{{{_DEEP_LEVELS}}}", re.MULTILINE
)


def _deep(text: str) -> bool:
    if len(text) < 2 * _DEEP_LEVELS:
        return False
    markers = text.count(">") + text.count("- ") + text.count("* ") + text.count("+ ")
    markers += text.count(". ") + text.count(") ")  # str.count: a pass at memchr's speed each
    return markers >= _DEEP_LEVELS and _DEEP.search(text) is not None


_PYTHON_BRACKETS = 20_000  # markdown-it-py is quadratic in unmatched `[`: 200,000 take 5 s
# The port is quadratic where markdown-it-py is linear: in emphasis and strikethrough delimiters
# (64,000 `*a*` in one paragraph: 13 s against 3 s) and in reference definitions (32,000
# `[a]: b` lines: 59 s against 1.2 s). Texts with more than these go to markdown-it-py.
_PORT_DELIMITERS = 2_000
_PORT_DEFINITIONS = 500


def _quadratic_for_the_port(text: str) -> bool:
    if len(text) < _PORT_DEFINITIONS * 3:
        return False
    delimiters = text.count("*") + text.count("_") + text.count("~")
    return delimiters > _PORT_DELIMITERS or text.count("]:") > _PORT_DEFINITIONS


def _plain(text: str) -> str:
    return f'<pre class="notes-plain">{_escape_html(text)}</pre>\n'


class Markdown:
    """markdown-it with Tipscale's rules. The Rust port (markdown-it-pyrs, ~15x faster) renders
    the notes; markdown-it-py, the same algorithm in Python (the same HTML but for the corner
    cases tests/test_markdown.py names), renders those the port 0.4 cannot: it panics on a `[`
    followed by a backtick that is never closed (markdown-it.rs 0.6, code_pair.rs), so a text
    with both characters goes to the Python one, and so would any other panic of the port, and
    so do texts on which the port is quadratic and the Python one is not.
    Bounded: a text nested a thousand levels deep, or one the Python one would take seconds
    over, is shown as plain text (and `render_markdown` shows notes over NOTES_MARKDOWN_LIMIT
    characters so)."""

    def __init__(self) -> None:
        import markdown_it_pyrs

        self._fast = markdown_it_pyrs.MarkdownIt("zero").enable_many(_RULES)  # type: ignore[arg-type]
        self._python: Any = None  # made when first needed

    def render(self, text: str) -> str:
        if _deep(text):
            return _plain(text)
        if ("[" in text and "`" in text) or _quadratic_for_the_port(text):
            return self._render_in_python(text)
        try:
            return str(self._fast.render(text))
        except BaseException as error:  # pyo3's PanicException derives from BaseException only
            if type(error).__name__ != "PanicException":
                raise
            return self._render_in_python(text)

    def _render_in_python(self, text: str) -> str:
        if text.count("[") > _PYTHON_BRACKETS:
            return _plain(text)
        if self._python is None:
            import markdown_it

            self._python = markdown_it.MarkdownIt("zero", {"xhtmlOut": True}).enable(_RULES)
        return str(self._python.render(text))


def make_markdown() -> Markdown:
    return Markdown()


def _safe_links(html: str) -> str:
    """Links whose URL is not http(s), mailto, tel or relative keep their text only (markdown-it
    itself already refuses javascript:, vbscript:, file: and most data: URLs)."""

    def keep(match: re.Match[str]) -> str:
        return match.group(0) if safe_url(unescape(match.group(1))) is not None else match.group(2)

    return _LINK.sub(keep, html)


def _set_aside_wiki_links(text: str) -> tuple[str, list[re.Match[str]]]:
    found: list[re.Match[str]] = []

    def hold(match: re.Match[str]) -> str:
        found.append(match)
        return f"%{_MARK}{len(found) - 1}{_END}%"

    text = text.replace(_MARK, "\ufffd").replace(_END, "\ufffd")
    return WIKI_LINK.sub(hold, text), found


def _escape_html(text: str) -> str:
    """markdown-it's escaping of text and attributes (`'` stays as it is)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _wiki_html(match: re.Match[str], resolver: Resolver | None) -> str:
    target = match.group(1).strip()
    label = (match.group(2) or "").strip()
    found = resolver(target) if resolver is not None else None
    if found is None:
        return f'<span class="wiki-missing" title="No contact with this name">{escape(match.group(0))}</span>'
    href, name = found
    return f'<a href="{_escape_html(href)}" class="wiki">{_escape_html(label or name)}</a>'


def _put_back_wiki_links(html: str, links: list[re.Match[str]], resolver: Resolver | None) -> str:
    pieces = _TAG_OR_TEXT.split(html)
    in_code = in_link = 0
    for i, piece in enumerate(pieces):
        if i % 2:  # a tag
            if piece.startswith("<code"):
                in_code += 1
            elif piece == "</code>":
                in_code -= 1
            elif piece.startswith("<a "):
                in_link += 1
            elif piece == "</a>":
                in_link -= 1
            if _MARK in piece or "%EE%80%80" in piece:
                piece = _PLACEHOLDER.sub(lambda m: _escape_html(links[int(m.group(1))].group(0)), piece)
                pieces[i] = _ENCODED_PLACEHOLDER.sub(lambda m: quote(links[int(m.group(1))].group(0)), piece)
        elif _MARK in piece:
            if in_code or in_link:
                pieces[i] = _PLACEHOLDER.sub(lambda m: _escape_html(links[int(m.group(1))].group(0)), piece)
            else:
                pieces[i] = _PLACEHOLDER.sub(lambda m: _wiki_html(links[int(m.group(1))], resolver), piece)
    return "".join(pieces)


def render_markdown(md: Markdown, text: str, resolver: Resolver | None = None) -> str:
    """A note's HTML: markdown-it's (the Rust port), wiki links resolved, unsafe links dropped."""
    links: list[re.Match[str]] = []
    too_long = len(text) > NOTES_MARKDOWN_LIMIT  # measured before links are set aside, as `crm check` does
    if "\r" in text:  # as markdown-it reads it, so that a wiki link never spans a line
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "[[" in text:
        text, links = _set_aside_wiki_links(text)
    html: str = _plain(text) if too_long else md.render(text)
    if "<a " in html:
        html = _safe_links(html)
    if links:
        html = _put_back_wiki_links(html, links, resolver)
    return html


# --- Jinja --------------------------------------------------------------------------------------


def _template_dirs(root: Path | None) -> list[Path]:
    dirs: list[Path] = []
    if root is not None and (root / "templates").is_dir():
        dirs.append(root / "templates")
    dirs.append(builtin_templates())
    return dirs


# The C function behind `markupsafe.escape` (str → escaped str). Private, so only used if present.
_escape_inner: Callable[[str], str] | None = getattr(markupsafe, "_escape_inner", None)


def output_escape(value: Any) -> Any:
    """What a template's `{{ value }}` writes: the same text as `markupsafe.escape`, faster for
    plain strings (most values). `escape` wraps its result in `Markup` (two Python-level calls);
    here the result is only written out, so a plain `str` does."""
    if type(value) is str:
        return _escape_inner(value)  # type: ignore[misc]  # installed only when not None
    return escape(value)


class _Template(jinja2.Template):
    """Templates whose `{{ … }}` output uses `output_escape`. Compiled template code looks up
    the name `escape` in its module's globals; it only calls it on values being written out."""

    @classmethod
    def from_code(cls, environment: jinja2.Environment, code: Any, globals: Any, uptodate: Any = None) -> Any:
        template = super().from_code(environment, code, globals, uptodate)
        # Jinja keeps a template's globals as a ChainMap over the environment's, and copies
        # them into a new dict on every render, key by key in Python; a plain dict is copied in
        # C (the environments' globals never change once their templates exist).
        template.globals = dict(template.globals)
        namespace = template.root_render_func.__globals__
        if _escape_inner is not None and namespace.get("escape") is escape:
            namespace["escape"] = output_escape
        return template


def _bytecode_cache(root: Path | None) -> jinja2.BytecodeCache | None:
    """Compiled templates kept in the parse cache's folder (`.tipscale/jinja/`, git-ignored), so
    a command-line run does not compile the templates again (~100 ms). Jinja checks each entry
    against its template's source, so an edited template is compiled afresh."""
    if root is None or not (root / ".tipscale").is_dir():
        return None
    # Named by the code in use and Jinja's version too: the environment's options live here.
    code = hashlib.sha256((code_digest() + jinja2.__version__).encode()).hexdigest()[:16]
    folder = root / ".tipscale" / "jinja" / code
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return _KeptTemplates(str(folder))


class _KeptTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache, best effort: a folder that cannot be written (or read, or that went
    away) only means compiling the templates again, never a failed build."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


class KeptEnvironment(jinja2.Environment):
    """Jinja's environment, keeping loaded templates in a plain dict too: every `extends` and
    `include` of every page (and every note draft) asks for one by name, and Jinja's own cache
    answers with a lock around an LRU queue and a weak reference made per question. Cleared
    with that cache (`Renderer.refresh`)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.by_name: dict[str, jinja2.Template] = {}

    def _load_template(self, name: str, globals: Any) -> jinja2.Template:
        if not globals:
            found = self.by_name.get(name)
            if found is not None:
                return found
        template = super()._load_template(name, globals)
        if not globals:
            self.by_name[name] = template
        return template


class Renderer:
    """Jinja environment (user's `templates/` first, then the built-in ones) and Markdown.

    Compiled templates are kept without looking at their files on every render (Jinja's
    `auto_reload` costs a `stat` per template per page). `sources_digest`, which a build calls
    to key its pages on the templates, also forgets them when a template file changed."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.dirs = _template_dirs(root)
        self.env = KeptEnvironment(
            loader=jinja2.FileSystemLoader([str(d) for d in self.dirs]),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # see refresh()
            bytecode_cache=_bytecode_cache(root),
        )
        self._seen: list[tuple[str, str, int, int]] | None = None
        self.effective: list[tuple[str, Path]] = []  # `sources()` as the last `sources_digest` found them
        self.env.template_class = _Template
        self.env.filters["url"] = url_path
        self._md: Markdown | None = None

    def page(self, name: str, context: dict[str, Any]) -> str:
        return self.env.get_template(name).render(context)

    def markdown(self, text: str, resolver: Resolver | None = None) -> Markup:
        if self._md is None:
            self._md = make_markdown()
        return Markup(render_markdown(self._md, text, resolver))

    def sources(self) -> list[tuple[str, Path]]:
        """Every page template and static asset in effect (the user's override wins)."""
        found: dict[str, Path] = {}
        for folder in self.dirs:
            for path in sorted(folder.glob("*.html.j2")) + sorted((folder / "static").glob("*")):
                rel = path.relative_to(folder).as_posix()
                if path.is_file() and not rel.startswith(".") and rel not in found:
                    found[rel] = path
        return sorted(found.items())

    def static_files(self) -> list[tuple[str, Path]]:
        return [(rel, path) for rel, path in self.sources() if rel.startswith("static/")]

    def refresh(self, sources: list[tuple[str, Path]] | None = None) -> None:
        """Forget the compiled templates if a template file changed, appeared (an override of a
        built-in one) or went away since the last call, as `auto_reload` would have noticed."""
        seen = []
        for rel, path in self.sources() if sources is None else sources:
            stat = path.stat()
            seen.append((rel, str(path), stat.st_mtime_ns, stat.st_size))
        cache = self.env.cache
        if cache is not None and (seen != self._seen or not all(t.is_up_to_date for t in cache.values())):
            cache.clear()  # the files not listed above (a user's sub-folder of partials) too
            self.env.by_name.clear()
        self._seen = seen

    def sources_digest(self, extra: Iterable[str] = ()) -> str:
        digest = hashlib.sha256()
        sources = self.effective = self.sources()
        self.refresh(sources)
        for rel, path in sources:
            digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
        # Any other file the templates may include or import (a user's partials in sub-folders).
        listed = {str(path) for _, path in sources}
        for folder in self.dirs:
            for file in tree_files(folder):
                if file not in listed:
                    try:
                        digest.update(file.encode("utf-8", "surrogatepass") + b"\0" + Path(file).read_bytes() + b"\0")
                    except OSError:
                        digest.update(file.encode("utf-8", "surrogatepass") + b"\0?\0")
        for item in extra:
            digest.update(item.encode() + b"\0")
        return digest.hexdigest()
