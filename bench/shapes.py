"""Two more roots for `make bench`, shaped deliberately unlike `generate.py`'s:

- `network`: a LinkedIn-imported network. Most contacts are what an import writes (name,
  company, title, a LinkedIn link, `connected_on`, a tag) with no notes; a small active core
  (about 5 %) has e-mail, `keep_in_touch`, recent interactions and notes.
- `history`: years of logged meetings (2019 on, 1–30 interactions each, many never marked
  followed up) with ordinary Markdown notes — links, headings, quotes, code, table-like text,
  underscores, `&` and `<` — front matter in several hand styles (block, flow, quoted, folded,
  commented), and some files with CRLF line endings or a BOM.

    generate_shape(root, "network" | "history" | "generated", n, seed) -> slugs
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path

from generate import generate

FIRST = (
    "Ana Ben Chloé Dev Elif Femi Gita Hiro Ines Jon Kai Lena Mateo Nia Omar Priya Quinn Rosa Sven Tariq "
    "Uma Vic Wen Xavi Yara Zane Aiko Bruno Carmen Dmitri Esra Farah Goran Hana Ivo Jana Kofi Lars Mira Nils"
).split()
LAST = (
    "Abara Berg Castro Dahl Eze Fischer García Haddad Ito Jensen Kowalski Lindqvist Mehta Novak O'Neill "
    "Petrov Quispe Rossi Sato Tanaka Umar Varga Weber Xu Yilmaz Zhou Müller Núñez Ødegaard Åberg"
).split()
COMPANIES = [f"{a} {b}" for a in ("North", "Blue", "Bright", "Iron", "Cedar", "Pixel", "Harbor") for b in (
    "Labs", "Systems", "& Co", "Analytics", "Health", "Robotics", "Bank")]  # fmt: skip
TITLES = ("Engineer", "Senior Engineer", "Recruiter", "Engineering Manager", "Designer", "Data Scientist",
          "Product Manager", "Staff Engineer", "Director of Engineering", "Founder", "Talent Partner")  # fmt: skip
TYPES = ("interview", "informational-interview", "networking", "coffee", "referral", "call", "email", "meeting")
WORDS = (
    "platform team roadmap hiring loop system design on-call runbooks observability budget migration "
    "mentoring offsite conference talk the Q3 plan a referral intro their new role data pipeline"
).split()


def _people(rng: random.Random, n: int) -> tuple[list[str], list[str]]:
    slugs: list[str] = []
    names: list[str] = []
    seen: set[str] = set()
    while len(slugs) < n:
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        slug = name.lower().replace(" ", "-").replace("'", "")
        for a, b in (("é", "e"), ("í", "i"), ("ú", "u"), ("ü", "u"), ("ñ", "n"), ("ø", "o"), ("å", "a")):
            slug = slug.replace(a, b).replace(a.upper(), b)
        slug = slug.replace("ø", "o").replace("å", "a").replace("Ø", "o").replace("Å", "a")
        base, k = slug, 2
        while slug in seen:
            slug, k = f"{base}-{k}", k + 1
        seen.add(slug)
        slugs.append(slug)
        names.append(name)
    return slugs, names


def _start(root: Path, shape: str, n: int, seed: int) -> tuple[random.Random, Path, list[str], list[str]]:
    """The root's settings and contacts folder; the random source; n slugs and names."""
    (root / "contacts").mkdir(parents=True, exist_ok=True)
    (root / "crm.yaml").write_text(
        f"# bench root: {shape}\ntoday: 2026-11-25\nme:\n  name: Alex Rivera\n  email: alex@example.com\n",
        encoding="utf-8",
    )
    rng = random.Random(seed)
    return rng, root / "contacts", *_people(rng, n)


def _write(folder: Path, slug: str, text: str, crlf: bool = False, bom: bool = False) -> None:
    data = text.replace("\n", "\r\n") if crlf else text
    (folder / f"{slug}.md").write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8"))


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def network(root: Path, n: int, seed: int = 1) -> list[str]:
    rng, folder, slugs, names = _start(root, "network", n, seed)
    start = dt.date(2014, 1, 1)
    for i, (slug, name) in enumerate(zip(slugs, names, strict=True)):
        company, title = rng.choice(COMPANIES), rng.choice(TITLES)
        connected = start + dt.timedelta(days=rng.randrange(4300))
        lines = [
            "---",
            f"name: {_quote(name)}",
            f"company: {_quote(company)}",
            f"title: {title}",
            "tags: [linkedin]",
            "links:",
            f"  linkedin: https://www.linkedin.com/in/{slug}-{i:x}",
            f"connected_on: {connected.isoformat()}",
        ]
        body = ""
        if rng.random() < 0.05:  # the active core
            lines.insert(2, f"email: {slug}@example.com")
            lines.append(f"keep_in_touch: {rng.choice(('30d', '6w', '3m', '1y'))}")
            lines.append("interactions:")
            for _ in range(rng.randint(1, 6)):
                when = dt.date(2026, 11, 25) - dt.timedelta(days=rng.randrange(200))
                lines += [
                    f"  - date: {when.isoformat()}",
                    f"    type: {rng.choice(TYPES)}",
                    f"    summary: Talked about {rng.choice(WORDS)} {rng.choice(WORDS)}",
                ]
                if rng.random() < 0.6:
                    lines.append(f"    followed_up: {(when + dt.timedelta(days=1)).isoformat()}")
            other = slugs[rng.randrange(n)]
            body = f"Knows [[{other}]]. Interested in *{rng.choice(WORDS)}*.\n"
        _write(folder, slug, "\n".join(lines) + "\n---\n" + body)
    return slugs


def _markdown(rng: random.Random, slugs: list[str], names: list[str]) -> str:
    """Notes as people write them: several kinds of block, inline links and characters to escape."""
    parts: list[str] = []
    for _ in range(rng.randint(1, 7)):
        kind = rng.randrange(9)
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30)))
        if kind == 0:
            parts.append(f"## {rng.choice(('Background', 'Notes', 'Ideas', 'Next steps'))}")
        elif kind == 1:
            parts.append(f"See [their post](https://blog.example.com/{rng.randrange(999)}?a=1&b=2) on {words}.")
        elif kind == 2:
            parts.append("\n".join(f"- {rng.choice(WORDS)} & {rng.choice(WORDS)}" for _ in range(rng.randint(2, 5))))
        elif kind == 3:
            parts.append(f"> {words}\n> — said over coffee")
        elif kind == 4:
            parts.append(f"Uses `snake_case_names` and <angle> brackets; a_b_c stays; 3 < 4 && 5 > 2. {words}")
        elif kind == 5:
            parts.append("```\n$ make deploy ENV=staging\nok <done>\n```")
        elif kind == 6:
            parts.append("Team | Size | Stack\n---- | ---- | -----\nCore | 12 | Go & Rust\nWeb | 5 | TS")
        elif kind == 7:
            k = rng.randrange(len(slugs))
            parts.append(f"Introduced by [[{names[k]}]]; also knows [[{slugs[rng.randrange(len(slugs))]}]]. {words}")
        else:
            parts.append(f"**{rng.choice(WORDS)}** and _{rng.choice(WORDS)}_: {words}.")
    return "\n\n".join(parts) + "\n"


def _interaction(rng: random.Random, when: dt.date, style: int, others: list[str]) -> list[str]:
    kind = rng.choice(TYPES)
    summary = f"{rng.choice(WORDS).capitalize()} & {rng.choice(WORDS)} <notes>"
    done = rng.random() < 0.5
    if style == 1:  # flow mappings, one per line
        extra = f", followed_up: {(when + dt.timedelta(days=1)).isoformat()}" if done else ""
        return [f"  - {{date: {when.isoformat()}, type: {kind}, summary: {_quote(summary)}{extra}}}"]
    lines = [f"- date: {when.isoformat()}" if style == 2 else f"  - date: {when.isoformat()}"]
    pad = "  " if style == 2 else "    "
    lines.append(f"{pad}type: '{kind}'" if style == 3 else f"{pad}type: {kind}   # logged by hand")
    if style == 3:
        lines += [f"{pad}summary: >-", f"{pad}  {summary}", f"{pad}  and more on {rng.choice(WORDS)}"]
    else:
        lines.append(f"{pad}summary: {_quote(summary)}")
    if rng.random() < 0.3:
        lines.append(f"{pad}gained: |\n{pad}  {rng.choice(WORDS)} advice\n{pad}  a name to call")
    if others and rng.random() < 0.2:
        lines.append(f"{pad}with: [{rng.choice(others)}]")
    if done:
        lines.append(f"{pad}followed_up: {(when + dt.timedelta(days=rng.randint(0, 3))).isoformat()}")
    return lines


def history(root: Path, n: int, seed: int = 1) -> list[str]:
    rng, folder, slugs, names = _start(root, "history", n, seed)
    first, span = dt.date(2019, 1, 1), (dt.date(2026, 11, 25) - dt.date(2019, 1, 1)).days
    for slug, name in zip(slugs, names, strict=True):
        style = rng.randrange(4)  # 0 block, 1 flow, 2 unindented lists, 3 quoted + folded
        dates = sorted(first + dt.timedelta(days=rng.randrange(span)) for _ in range(rng.randint(1, 30)))
        lines = ["---", f"# {name}, added by hand", f"name: {_quote(name) if style != 2 else name}"]
        if style == 1:
            lines += [f"email: [{slug}@example.com, {slug}@work.example]", f"tags: [{rng.choice(WORDS)}, met-{dates[0].year}]"]
        else:
            lines += [f"email: '{slug}@example.com'", "tags:", f"- {rng.choice(WORDS)}" if style == 2 else f"  - {rng.choice(WORDS)}"]
        lines += [f"company: {_quote(rng.choice(COMPANIES))}", f"title: {rng.choice(TITLES)}"]
        if rng.random() < 0.3:
            lines.append(f"keep_in_touch: {rng.choice(('90d', '12w', '6m', 1))}" if style else "keep_in_touch: 6m")
        lines.append("interactions:")
        others = [s for s in (slugs[rng.randrange(n)] for _ in range(2)) if s != slug]
        for when in dates:
            lines += _interaction(rng, when, style, others)
        text = "\n".join(lines) + "\n---\n" + _markdown(rng, slugs, names)
        _write(folder, slug, text, crlf=rng.random() < 0.15, bom=rng.random() < 0.1)
    return slugs


SHAPES: dict[str, Callable[[Path, int, int], list[str]]] = {
    "generated": lambda root, n, seed: generate(root, n, seed),
    "network": network,
    "history": history,
}


def generate_shape(root: Path, shape: str, n: int, seed: int = 1) -> list[str]:
    return SHAPES[shape](Path(root), n, seed)
