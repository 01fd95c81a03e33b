"""Page rendering: Jinja2 for pages, markdown-it-py for the notes.

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
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import jinja2
import markupsafe
from markupsafe import Markup, escape

if TYPE_CHECKING:  # markdown-it is imported when a note needs it (most take the fast path)
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline

from .paths import builtin_templates, tree_files

SAFE_SCHEMES = ("http", "https", "mailto", "tel")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
WIKI_LINK = re.compile(r"\[\[([^\[\]\n|]+?)(?:\|([^\[\]\n]+?))?\]\]")


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


def _wiki_rule(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    if not src.startswith("[[", pos):
        return False
    match = WIKI_LINK.match(src, pos)
    if match is None:
        return False
    if not silent:
        target = match.group(1).strip()
        label = (match.group(2) or "").strip()
        resolver: Resolver | None = state.env.get("wiki_resolver") if isinstance(state.env, dict) else None
        found = resolver(target) if resolver is not None else None
        if found is None:
            token = state.push("wiki_missing", "", 0)
            token.content = match.group(0)
        else:
            href, name = found
            token = state.push("link_open", "a", 1)
            token.attrs = {"href": href, "class": "wiki"}
            text = state.push("text", "", 0)
            text.content = label or name
            state.push("link_close", "a", -1)
    state.pos = match.end()
    return True


def _render_wiki_missing(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    return f'<span class="wiki-missing" title="No contact with this name">{escape(tokens[idx].content)}</span>'


def make_markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")  # images would load from the internet; `![x](url)` stays text + link
    md.enable(["table", "strikethrough"])
    md.validateLink = lambda url: safe_url(url) is not None  # type: ignore[method-assign]
    md.inline.ruler.before("link", "wiki_link", _wiki_rule)
    md.add_render_rule("wiki_missing", _render_wiki_missing)
    return md


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
    # Named by this module's code and Jinja's version too: the environment's options live here.
    code = hashlib.sha256(Path(__file__).read_bytes() + jinja2.__version__.encode()).hexdigest()[:16]
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
        self._md: MarkdownIt | None = None

    @property
    def md(self) -> MarkdownIt:
        """markdown-it, made when first wanted (notes the fast path does not take)."""
        if self._md is None:
            self._md = make_markdown()
        return self._md

    @md.setter
    def md(self, value: MarkdownIt) -> None:
        self._md = value

    def page(self, name: str, context: dict[str, Any]) -> str:
        return self.env.get_template(name).render(context)

    def markdown(self, text: str, resolver: Resolver | None = None) -> Markup:
        # Ordinary notes take the fast path (same HTML, several times faster); it returns None
        # for anything outside its small subset of Markdown, which markdown-it then renders.
        from .fastmd import render as fast_render

        html = fast_render(text, resolver)
        if html is not None:
            return Markup(html)
        env: dict[str, Any] = {"wiki_resolver": resolver}
        return Markup(self.md.render(text, env))

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
