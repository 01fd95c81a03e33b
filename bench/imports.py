"""Import timings (issue targets: 30,000 LinkedIn rows imported in ≤ 10 s, a no-change
re-import in ≤ 5 s; vCard photos cost what cards without photos cost).

    .venv/bin/python bench/imports.py [--rows 30000] [--photo-mb 8]

Each run makes a fresh CRM root in a temporary folder and calls the real `crm` command, so the
numbers include start-up, loading, planning, validation and writing. The files are made here,
with the quirks of real exports: a `Notes:` preamble, names shared by several connections,
empty e-mails and `urn:li:member` placeholders, quoted commas, accents and emoji; vCards with
folded base64 photos.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRM = ROOT / ".venv" / "bin" / "crm"
FIRST = ["Jane", "Raj", "Søren", "Aisha", "Wei", "María", "Olu", "Yuki", "Lars", "Zoë", "Kenji", "Amara"]
LAST = ["Doe", "Patel", "Kierkegård", "Bello", "Zhang", "García", "Adeyemi", "Nakamura", "Berg", "O'Neil"]
COMPANIES = ["Acme, Inc.", "Globex", "Initech", "Umbrella 🚀", "Northwind Labs", "Contoso"]


def linkedin_csv(rows: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    out.write('Notes:\n"When exporting your connection data, you may notice that some of the email addresses '
              'are missing."\n\n')  # fmt: skip
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On"])
    for i in range(rows):
        first, last = rng.choice(FIRST), f"{rng.choice(LAST)}{i // 3}"  # every name three times
        email = rng.choice(["", "", f"{first.lower()}.{i}@example.com", f"urn:li:member:{i}"])
        url = f"https://www.linkedin.com/in/{first.lower()}-{i}" if i % 4 else ""
        when = f"{rng.randint(1, 28):02d} {rng.choice(['Jan', 'Mar', 'Jul', 'Dec'])} {rng.randint(2015, 2026)}"
        writer.writerow([first, last, url, email, rng.choice(COMPANIES), "Engineer, Platform", when])
    return out.getvalue().encode("utf-8")


def vcards(cards: int, photo_bytes: int) -> bytes:
    photo = ("A" * 74 + "\r\n ") * (photo_bytes // 76)
    parts = []
    for i in range(cards):
        parts.append(
            f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {i}\r\nN:{i};Person;;;\r\n"
            f"PHOTO;ENCODING=b;TYPE=JPEG:{photo}AAAA\r\nEMAIL:p{i}@example.com\r\nEND:VCARD\r\n"
        )
    return "".join(parts).encode("utf-8")


def file_floor(root: Path, folder: Path) -> float:
    """Seconds to create the files an import made (same bytes, one new inode each) and sync."""
    texts = [path.read_bytes() for path in sorted((root / "contacts").glob("*.md"))]
    folder.mkdir()
    subprocess.run(["sync"], check=True)
    started = time.perf_counter()
    for i, data in enumerate(texts):
        with open(folder / f"{i}.md", "xb") as handle:
            handle.write(data)
    os.sync()
    return time.perf_counter() - started


def timed(root: Path, *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run([str(CRM), *args], cwd=root, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        sys.exit(f"crm {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    print(f"    {result.stdout.strip().splitlines()[-1][:150]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--photo-mb", type=float, default=8.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        export = base / "Connections.csv"
        export.write_bytes(linkedin_csv(args.rows))
        root = base / "crm"
        (root / "contacts").mkdir(parents=True)
        print(f"LinkedIn import, {args.rows:,} rows ({export.stat().st_size / 1e6:.1f} MB):")
        first = timed(root, "import", "linkedin", str(export))
        print(f"  first import      {first:6.1f} s   (target ≤ 10 s)")
        print(f"  creating the same {args.rows:,} files, nothing else: {file_floor(root, base / 'floor'):.1f} s "
              "(this disk's share of the import)")  # fmt: skip
        again = timed(root, "import", "linkedin", str(export))
        print(f"  no-change import  {again:6.1f} s   (target ≤ 5 s)")
        for label, cards, size in (
            ("one card, photo", 1, int(args.photo_mb * 1e6)),
            ("300 cards, 250 KB photos", 300, 250_000),
        ):
            card_file = base / "photos.vcf"
            card_file.write_bytes(vcards(cards, size))
            vroot = base / f"v{cards}"
            (vroot / "contacts").mkdir(parents=True)
            print(f"vCard, {label} ({card_file.stat().st_size / 1e6:.1f} MB):")
            seconds = timed(vroot, "import", "vcard", str(card_file))
            print(f"  import            {seconds:6.1f} s")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
