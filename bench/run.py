"""`make bench`: time `crm` on generated contacts and compare with Hugo on the same files.

    python bench/run.py [--n 10000,30000] [--shapes generated,network,history] [--runs 5]
                        [--skip-hugo] [--quick] [--out DIR]

For each root shape and N, in a temporary folder: generate N contacts (seeded; the shapes are
bench/generate.py's, a LinkedIn-imported network and years of history with ordinary Markdown and
hand-written YAML, see bench/shapes.py), then run
`.venv/bin/crm` as a subprocess for each stage and record wall time and peak memory:

    check-cold      `crm check` with no cache left by an earlier run
    check-warm      `crm check` again (uses a persistent cache if one exists; else the same work)
    build-cold      `crm build --clean` with no site/ and no cache
    build-nochange  `crm build` right after a build
    build-onefile   `crm build` after editing one contact file
    pages           the built site in Chromium (bench/page_metrics.py): the dashboard's, the
                    contact list's and the largest page's bytes, elements and load time, and
                    keystroke → filtered list in search (skipped with --no-browser)
    serve           save-to-served latency from bench/serve_latency.py's measure(), when it exists
    hugo            `hugo` on the same files with the minimal site in bench/hugo/, when installed

Times are wall-clock seconds of the whole command (Python start-up included: that is what a
user waits for). Peak memory is the larger of the process's ru_maxrss (from wait4; for a
process tree, the largest single process) and the sampled sum of PSS over its process tree
(so worker processes count, and pages they share with the parent after fork count once). A stage that does not
exist yet (e.g. `crm build` before it lands) is reported as "n/a", never a crash.
Results: a table on stdout, and DIR/latest.json + DIR/latest.md (default bench/results/).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from generate import make_history  # noqa: E402
from shapes import SHAPES, generate_shape  # noqa: E402

STAGES = ("check-cold", "check-warm", "build-cold", "build-nochange", "build-onefile", "pages", "serve", "hugo")
INPUTS = {"contacts", "crm.yaml", ".git", "templates"}  # what a cold run keeps in the root
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

# Targets of the build redesign (issue 20) at 10,000 contacts on every shape; seconds unless said
# otherwise. At 30,000 the cold build should grow no worse than linearly (compare the two rows).
TARGETS_SMALL = {  # N <= 10,000
    "build-nochange": 0.25,
    "build-onefile": 0.35,
    "serve_ms": 100.0,
}
TARGETS_LARGE: dict[str, float] = {}  # N = 30,000: only the Hugo ratios below
MEMORY_MIB = 600.0
HUGO_TIME_RATIO = 0.5
HUGO_MEMORY_RATIO = 0.3


# --- measuring one subprocess -----------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    peak_mib: float
    returncode: int
    stderr_tail: str = ""


def _memory(pid: int) -> int:
    """Proportional set size (bytes) of one process: shared copy-on-write pages of forked workers
    are split between them instead of counted once per process. Falls back to RSS."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    with open(f"/proc/{pid}/statm", "rb") as handle:
        return int(handle.read().split()[1]) * PAGE


def _tree_rss(pid: int) -> int:
    """Memory (bytes, PSS) of pid and its descendants, read from /proc; 0 when gone."""
    total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            total += _memory(current)
            with open(f"/proc/{current}/task/{current}/children", "rb") as handle:
                stack.extend(int(p) for p in handle.read().split())
        except (OSError, ValueError, IndexError):
            continue
    return total


TIMEOUT = 900.0  # seconds; a run that takes longer is killed and reported as failed (--timeout)


def run_measured(
    cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None, sample_memory: bool = True
) -> Sample:
    """Run cmd; wall time, peak memory (MiB) and exit code. Output is discarded (stderr tail kept).
    With `sample_memory`, the PSS of the process tree is sampled every 25 ms (so forked workers
    count); that reading walks the processes' page tables and slows them (a one-file rebuild by
    about a quarter), so timed runs go without it and peak memory comes from a run of its own."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
        )
        killer = threading.Timer(TIMEOUT, lambda: os.killpg(proc.pid, 9))
        killer.start()
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.025):
                peak[0] = max(peak[0], _tree_rss(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        if sample_memory:
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        killer.cancel()
        done.set()
        if sample_memory:
            sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read()[-600:].decode("utf-8", "replace")
        if elapsed >= TIMEOUT:
            tail += f" [killed after the {TIMEOUT:g} s timeout]"
    rss = max(usage.ru_maxrss * 1024, peak[0])  # ru_maxrss is in KiB on Linux
    return Sample(elapsed, rss / 2**20, proc.returncode, tail)


@dataclass
class Stage:
    status: str = "ok"  # ok, n/a, failed
    note: str = ""
    samples: list[Sample] = field(default_factory=list)  # timed runs (peak memory: ru_maxrss only)
    memory: Sample | None = None  # the run that sampled the process tree's PSS (not timed)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "note": self.note}
        if self.samples:
            secs = [s.seconds for s in self.samples]
            mems = [s.peak_mib for s in self.samples] + ([self.memory.peak_mib] if self.memory else [])
            out |= {
                "median_s": statistics.median(secs),
                "min_s": min(secs),
                "max_s": max(secs),
                "peak_mib": max(mems),
                "median_mib": statistics.median(mems),
                "runs": [asdict(s) | {"stderr_tail": s.stderr_tail[-200:]} for s in self.samples],
            }
        return out


# --- the stages -------------------------------------------------------------------------------


class Bench:
    def __init__(self, root: Path, runs: int, crm: Path, budget: float = 120.0) -> None:
        self.root = root
        self.runs = runs
        self.budget = budget  # seconds per stage: stop repeating once spent (at least one run)
        self.crm = crm
        # As a user runs it: Python keeps compiled modules (a sandbox may set
        # PYTHONDONTWRITEBYTECODE, which would add ~0.2 s of compiling to every run).
        drop = ("CRM_TODAY", "PYTHONDONTWRITEBYTECODE")
        self.env = {k: v for k, v in os.environ.items() if k not in drop} | {"NO_COLOR": "1"}

    def crm_cmd(self, *args: str) -> list[str]:
        return [str(self.crm), "--root", str(self.root), *args]

    def clean(self) -> None:
        """Leave only the inputs in the root: no site/, no cache of an earlier run."""
        for entry in self.root.iterdir():
            if entry.name in INPUTS:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def extras(self) -> list[str]:
        return sorted(e.name for e in self.root.iterdir() if e.name not in INPUTS)

    def repeat(
        self, stage: Stage, cmd: list[str], before: Any = None, ok_codes: tuple[int, ...] = (0,)
    ) -> Stage:
        spent = 0.0
        for i in range(self.runs):
            if before is not None:
                before(i)
            # Every run starts on a settled disk: what earlier stages wrote (or removed) is
            # flushed first, so neither we nor Hugo pay for the writeback of the stage before.
            os.sync()
            time.sleep(1.0)
            sample = run_measured(cmd, env=self.env, sample_memory=False)
            if sample.returncode not in ok_codes:
                stage.status = "failed"
                stage.note = f"exit {sample.returncode}: {sample.stderr_tail.strip()[-300:]}"
                return stage
            stage.samples.append(sample)
            spent += sample.seconds
            if spent > self.budget and i + 1 < self.runs:
                extra = f"stopped after {i + 1} of {self.runs} runs: over the {self.budget:g} s stage budget"
                stage.note = f"{stage.note}; {extra}" if stage.note else extra
                break
        # One more run, not timed, for peak memory (see run_measured).
        if before is not None:
            before(len(stage.samples))
        os.sync()
        time.sleep(1.0)
        memory = run_measured(cmd, env=self.env, sample_memory=True)
        if memory.returncode in ok_codes:
            stage.memory = memory
        return stage

    def has_command(self, name: str) -> bool:
        probe = subprocess.run(
            [str(self.crm), name, "--help"], capture_output=True, text=True, env=self.env, check=False
        )
        return probe.returncode == 0

    def help_text(self, name: str) -> str:
        probe = subprocess.run(
            [str(self.crm), name, "--help"], capture_output=True, text=True, env=self.env, check=False
        )
        return probe.stdout

    def check_cold(self) -> Stage:
        return self.repeat(Stage(), self.crm_cmd("check", "-q"), before=lambda _: self.clean())

    def check_warm(self) -> Stage:
        self.clean()
        prime = run_measured(self.crm_cmd("check", "-q"), env=self.env)
        created = self.extras()
        stage = Stage(
            note=f"persistent cache: {', '.join(created)}"
            if created
            else "no persistent cache exists: same work as cold (OS file cache warm)"
        )
        if prime.returncode != 0:
            return Stage("failed", f"exit {prime.returncode}: {prime.stderr_tail.strip()[-300:]}")
        return self.repeat(stage, self.crm_cmd("check", "-q"))

    def use_builder_directly(self) -> None:
        """`crm build` is not registered yet but generator/site.py is: time SiteBuilder in a subprocess."""
        self.direct_build = True

    def build_cmd(self, clean: bool = False) -> list[str]:
        if getattr(self, "direct_build", False):
            code = (
                "import sys; from pathlib import Path; from generator.site import SiteBuilder;"
                "root = Path(sys.argv[1]); report = SiteBuilder(root, root / 'site').build(clean=sys.argv[2] == '1');"
                "sys.exit(1 if report.errors else 0)"
            )
            return [str(self.crm.parent / "python"), "-c", code, str(self.root), "1" if clean else "0"]
        if clean and "--clean" in self.help_text("build"):
            return self.crm_cmd("build", "--clean")
        return self.crm_cmd("build")

    def build_note(self) -> str:
        if getattr(self, "direct_build", False):
            return (
                "crm build is not registered yet: timed SiteBuilder(root, root/site).build() in a subprocess"
            )
        return ""

    def build_cold(self) -> Stage:
        note = self.build_note()
        if not getattr(self, "direct_build", False) and "--clean" not in self.help_text("build"):
            note = "crm build has no --clean yet: ran without it after removing site/"
        return self.repeat(Stage(note=note), self.build_cmd(clean=True), before=lambda _: self.clean())

    def build_nochange(self) -> Stage:
        first = run_measured(self.build_cmd(), env=self.env)
        if first.returncode != 0:
            return Stage("failed", f"exit {first.returncode}: {first.stderr_tail.strip()[-300:]}")
        return self.repeat(Stage(note=self.build_note()), self.build_cmd())

    def build_onefile(self) -> Stage:
        files = sorted((self.root / "contacts").glob("*.md"))
        first = run_measured(self.build_cmd(), env=self.env)
        if first.returncode != 0:
            return Stage("failed", f"exit {first.returncode}: {first.stderr_tail.strip()[-300:]}")

        def edit(i: int) -> None:
            path = files[(i * 7919) % len(files)]
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(f"\nBenchmark edit {i} at {time.time_ns()}.\n")

        note = "; ".join(filter(None, ["appends a line to one contact's notes", self.build_note()]))
        return self.repeat(Stage(note=note), self.build_cmd(), edit)

    def serve(self, edits: int, browser: bool = True) -> tuple[Stage, dict[str, Any] | None]:
        script = BENCH / "serve_latency.py"
        if not script.exists():
            return Stage("n/a", "bench/serve_latency.py does not exist yet"), None
        code = (
            "import inspect, json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
            "from serve_latency import measure;"
            "kw = {} if sys.argv[4] == '1' or 'browser' not in inspect.signature(measure).parameters"
            " else {'browser': False};"
            "print('@@RESULT@@' + json.dumps(measure(Path(sys.argv[2]), edits=int(sys.argv[3]), **kw), default=str))"
        )
        try:
            proc = subprocess.run(
                [sys.executable, "-c", code, str(BENCH), str(self.root), str(edits), "1" if browser else "0"],
                capture_output=True, text=True, timeout=900 + 10 * edits, env=self.env, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return Stage("failed", "serve_latency.measure() timed out"), None
        marker = [line for line in proc.stdout.splitlines() if line.startswith("@@RESULT@@")]
        if proc.returncode != 0 or not marker:
            tail = (proc.stderr or proc.stdout).strip()[-300:]
            return Stage("failed", f"serve_latency.measure() failed: {tail}"), None
        result = json.loads(marker[-1][len("@@RESULT@@") :])
        return Stage(note=f"measure(root, edits={edits}{'' if browser else ', browser=False'})"), result

    def hugo(self, work: Path) -> Stage:
        exe = shutil.which("hugo")
        if exe is None:
            return Stage("n/a", "hugo is not installed (apt-get install -y hugo); comparison skipped")
        site = work / "hugo-site"
        if site.exists():
            shutil.rmtree(site)
        shutil.copytree(BENCH / "hugo", site)
        content = site / "content" / "contacts"
        content.mkdir(parents=True)
        for path in (self.root / "contacts").glob("*.md"):
            try:
                os.link(path, content / path.name)
            except OSError:
                shutil.copy2(path, content / path.name)

        def clean(_: int) -> None:
            for name in ("public", "resources", ".hugo_build.lock"):
                target = site / name
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()

        cmd = [exe, "--quiet", "--source", str(site), "--destination", str(site / "public")]
        cmd += ["--cacheDir", str(work / "hugo-cache")]
        version = subprocess.run([exe, "version"], capture_output=True, text=True, check=False).stdout.strip()
        return self.repeat(Stage(note=version), cmd, before=clean)


# --- one size ---------------------------------------------------------------------------------


def serve_numbers(result: dict[str, Any] | None) -> dict[str, float]:
    """median/min/max (ms) of save-to-served (and save-to-browser) from serve_latency.measure()."""
    if not result:
        return {}
    out: dict[str, float] = {}
    for key, value in result.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        lower = key.lower()
        scale = 1000.0 if lower.endswith(("_s", "_sec", "_seconds")) else 1.0
        prefix = "browser_" if lower.startswith("browser") else ""
        for label in ("median", "min", "max", "p95", "mean"):
            if label in lower and prefix + label not in out:
                out[prefix + label] = float(value) * scale
    return out


# A fixed pure-Python loop, timed in a fresh interpreter: this machine's speed moves by 1.5-2x
# within the hour (docs/performance.md, "The machine"), and runs far apart compare only beside it.
PROBE = "import time\nt = time.perf_counter()\nx = 0\nfor i in range(3_000_000): x += i\nprint(time.perf_counter() - t)"


def speed_probe(tries: int = 3) -> float | None:
    """The loop's best time of `tries` (seconds; lower is faster), or None if it could not run."""
    times = []
    for _ in range(tries):
        try:
            done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
            times.append(float(done.stdout))
        except (OSError, subprocess.SubprocessError, ValueError):
            return None
    return min(times)


def bench_size(n: int, shape: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    root = work / f"crm-{shape}-{n}"
    if root.exists():
        shutil.rmtree(root)
    started = time.perf_counter()
    slugs = generate_shape(root, shape, n, args.seed)
    if args.git:
        make_history(root, slugs, args.git, args.seed)
    generated = time.perf_counter() - started
    bench = Bench(root, args.runs, args.crm, args.budget)
    probe_before = speed_probe()
    stages: dict[str, Stage] = {}
    wanted = set(args.stages)
    history = f" with {args.git} git commits" if args.git else ""
    print(f"\n{shape}, N = {n:,}: generated{history} in {generated:.1f} s under {root}", flush=True)

    def note(name: str, stage: Stage) -> None:
        stages[name] = stage
        s = stage.summary()
        if stage.samples:
            shown = (
                f"{s['median_s']:.3f} s (min {s['min_s']:.3f}, max {s['max_s']:.3f}), {s['peak_mib']:.0f} MiB"
            )
        else:
            shown = f"{stage.status}: {stage.note}"
        print(f"  {name:<15} {shown}", flush=True)

    if "check-cold" in wanted:
        note("check-cold", bench.check_cold())
    if "check-warm" in wanted:
        note("check-warm", bench.check_warm())
    build_stages = [s for s in ("build-cold", "build-nochange", "build-onefile") if s in wanted]
    if build_stages and not bench.has_command("build") and not (REPO / "generator" / "site.py").exists():
        for name in build_stages:
            note(name, Stage("n/a", "crm build does not exist yet"))
    else:
        if build_stages and not bench.has_command("build"):
            bench.use_builder_directly()
        for name in build_stages:
            note(name, getattr(bench, name.replace("-", "_"))())
    pages_raw = None
    if "pages" in wanted:
        pages_raw = bench_pages(root / "site", args)
    serve_raw = None
    if "serve" in wanted:
        stage, serve_raw = bench.serve(args.edits, browser=not args.no_browser)
        stages["serve"] = stage
        nums = serve_numbers(serve_raw)
        shown = ", ".join(f"{k} {v:.0f} ms" for k, v in nums.items()) or f"{stage.status}: {stage.note}"
        print(f"  {'serve':<15} {shown}", flush=True)
    if "hugo" in wanted:
        if args.skip_hugo:
            note("hugo", Stage("n/a", "skipped (--skip-hugo)"))
        else:
            note("hugo", bench.hugo(work))
    probe = (probe_before, speed_probe())
    print(f"  speed probe     {_probe_text(probe)}", flush=True)
    result: dict[str, Any] = {
        "shape": shape,
        "n": n,
        "generate_seconds": generated,
        "speed_probe_s": probe,
        "stages": {name: stage.summary() for name, stage in stages.items()},
        "serve": {"raw": serve_raw, "ms": serve_numbers(serve_raw)},
        "pages": pages_raw,
    }
    result["ratios"] = ratios(result)
    result["targets"] = verdicts(result)
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(work / "hugo-site", ignore_errors=True)
    return result


def bench_pages(site: Path, args: argparse.Namespace) -> dict[str, Any] | None:
    """The built site in Chromium (bench/page_metrics.py): sizes, elements, load times, search."""
    if args.no_browser:
        print(f"  {'pages':<15} skipped (--no-browser)", flush=True)
        return None
    if not (site / "index.html").exists():
        print(f"  {'pages':<15} n/a: no site was built", flush=True)
        return None
    from page_metrics import measure

    result = measure(site, runs=min(args.runs, 3))
    for label, page in result["pages"].items():
        print(f"  {label:<15} {page['path']}: {page['bytes'] / 1000:,.0f} KB, {page['elements']:,} elements, "
              f"load {page['load_ms']['median']:.0f} ms", flush=True)  # fmt: skip
    keys = result["search"]["keystroke_ms"]
    shown = "n/a" if keys is None else f"median {keys['median']:.0f} ms, max {keys['max']:.0f} ms"
    print(f"  {'search':<15} keystroke → filtered list: {shown}", flush=True)
    return result


def growth(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per shape, how the cold build grew from its smallest N to its largest, against linear
    growth (issue 20: "at 30,000 the cold build grows no worse than linearly")."""
    out = []
    for shape in dict.fromkeys(size["shape"] for size in sizes):
        timed = [(size["n"], size["stages"].get("build-cold", {}).get("median_s")) for size in sizes
                 if size["shape"] == shape]  # fmt: skip
        timed = sorted((n, t) for n, t in timed if t)
        if len(timed) >= 2 and timed[0][0] < timed[-1][0]:
            (n0, t0), (n1, t1) = timed[0], timed[-1]
            out.append({"shape": shape, "from": n0, "to": n1, "time_ratio": t1 / t0, "linear": n1 / n0,
                        "met": t1 / t0 <= n1 / n0})  # fmt: skip
    return out


def _probe_text(probe: tuple[float | None, float | None] | list[Any] | None) -> str:
    if not probe or None in probe:
        return "n/a"
    return f"{probe[0]:.3f} s before the stages, {probe[1]:.3f} s after (a fixed Python loop; lower is faster)"


def ratios(result: dict[str, Any]) -> dict[str, float]:
    stages = result["stages"]
    ours, hugo = stages.get("build-cold", {}), stages.get("hugo", {})
    if "median_s" not in ours or "median_s" not in hugo:
        return {}
    return {
        "build_time_vs_hugo": ours["median_s"] / hugo["median_s"],
        "peak_memory_vs_hugo": ours["peak_mib"] / hugo["peak_mib"],
    }


def verdicts(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target from the issues that applies at this N: measured value, limit, met or not."""
    n, stages = result["n"], result["stages"]
    targets = TARGETS_LARGE if n >= 30_000 else TARGETS_SMALL
    out: list[dict[str, Any]] = []

    def add(what: str, value: float | None, limit: float, unit: str) -> None:
        met = None if value is None else value <= limit
        out.append({"target": what, "value": value, "limit": limit, "unit": unit, "met": met})

    for name, limit in targets.items():
        if name == "serve_ms":
            add("save-to-served median", result["serve"]["ms"].get("median"), limit, "ms")
        else:
            add(f"{name} median", stages.get(name, {}).get("median_s"), limit, "s")
    if n < 30_000 or "build-cold" in stages:
        add("build-cold / Hugo (time)", result["ratios"].get("build_time_vs_hugo"), HUGO_TIME_RATIO, "×")
        add(
            "build-cold / Hugo (peak memory)",
            result["ratios"].get("peak_memory_vs_hugo"),
            HUGO_MEMORY_RATIO,
            "×",
        )
    if result.get("pages"):
        from page_metrics import targets as page_targets

        for what, value, limit, unit in page_targets(result["pages"]):
            add(what, value, limit, unit)
    crm_peaks = [s["peak_mib"] for k, s in stages.items() if k != "hugo" and "peak_mib" in s]
    add("peak memory of any crm run", max(crm_peaks) if crm_peaks else None, MEMORY_MIB, "MiB")
    return out


# --- machine, report --------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(
            int(line.split()[1]) // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem = 0
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "generator", "templates"],
        capture_output=True, text=True, check=False,
    ).stdout.splitlines()  # fmt: skip
    if dirty:
        commit += f" + {len(dirty)} uncommitted file(s) in generator/ or templates/"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_mib": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "commit": commit,
        "load_average_at_start": os.getloadavg(),
    }


def fmt(value: float | None, unit: str = "s") -> str:
    if value is None:
        return "n/a"
    if unit == "ms":
        return f"{value:.0f}"
    if unit in ("×",):
        return f"{value:.2f}"
    if unit == "MiB":
        return f"{value:.0f}"
    if unit == "elements":
        return f"{value:,.0f}"
    if unit == "MB":
        return f"{value:.2f}"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"# Benchmark results ({report['date']})",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_mib']:,} MiB, {m['os']}, Python {m['python']}; "
        f"commit {m['commit']}; load average {m['load_average_at_start'][0]:.2f} at start, "
        f"{report['load_average_at_end'][0]:.2f} at end. Runs per stage: {report['runs']}.",
        "",
    ]
    for size in report["sizes"]:
        lines += [
            f"## {size.get('shape', 'generated')}, N = {size['n']:,}",
            "",
            f"Speed probe: {_probe_text(size.get('speed_probe_s'))}.",
            "",
            "| stage | median s | min s | max s | peak MiB | note |",
            "| --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for name, s in size["stages"].items():
            if name == "serve":
                ms = size["serve"]["ms"]
                if ms:
                    lines.append(
                        f"| serve (save→served, ms) | {fmt(ms.get('median'), 'ms')} | {fmt(ms.get('min'), 'ms')} "
                        f"| {fmt(ms.get('max'), 'ms')} | | {s['note']} |"
                    )
                    if "browser_median" in ms:
                        lines.append(
                            f"| serve (save→browser, ms) | {fmt(ms.get('browser_median'), 'ms')} "
                            f"| {fmt(ms.get('browser_min'), 'ms')} | {fmt(ms.get('browser_max'), 'ms')} | | live reload in Chromium |"
                        )
                else:
                    lines.append(f"| serve | {s['status']} | | | | {s['note']} |")
                continue
            if "median_s" in s:
                lines.append(
                    f"| {name} | {fmt(s['median_s'])} | {fmt(s['min_s'])} | {fmt(s['max_s'])} "
                    f"| {s['peak_mib']:.0f} | {s['note']} |"
                )
            else:
                lines.append(f"| {name} | {s['status']} | | | | {s['note']} |")
        if size["targets"]:
            lines += ["", "| target | measured | limit | met |", "| --- | ---: | ---: | --- |"]
            for t in size["targets"]:
                met = "n/a" if t["met"] is None else "yes" if t["met"] else "**no**"
                lines.append(
                    f"| {t['target']} | {fmt(t['value'], t['unit'])} | {t['limit']:g} {t['unit']} | {met} |"
                )
        lines.append("")
    if report.get("growth"):
        lines += ["## Cold build growth", "", "| shape | N | time × | linear × | met |", "| --- | --- | ---: | ---: | --- |"]
        for g in report["growth"]:
            lines.append(f"| {g['shape']} | {g['from']:,} → {g['to']:,} | {g['time_ratio']:.2f} | {g['linear']:.2f} "
                         f"| {'yes' if g['met'] else '**no**'} |")  # fmt: skip
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time crm (check, build, rebuilds, serve) and Hugo.")
    parser.add_argument(
        "--n",
        default=os.environ.get("BENCH_N", "10000,30000"),
        help="contact counts, comma-separated (default $BENCH_N, else 10000,30000)",
    )
    parser.add_argument(
        "--shapes",
        default=os.environ.get("BENCH_SHAPES", ",".join(SHAPES)),
        help=f"root shapes, comma-separated (default $BENCH_SHAPES, else {','.join(SHAPES)})",
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per stage (default 5)")
    parser.add_argument("--skip-hugo", action="store_true", help="do not run the Hugo comparison")
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="serve stage: save-to-served only, no Chromium (implied by --quick)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: one run per stage, 3 serve edits, no browser, 3 commits",
    )
    parser.add_argument(
        "--stages", default=",".join(STAGES), help=f"comma-separated subset of {','.join(STAGES)}"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="seconds per stage after which runs stop early (default 120)",
    )
    parser.add_argument(
        "--git",
        type=int,
        default=50,
        metavar="K",
        help="make each root a git repo with K commits (default 50; 0: none)",
    )
    parser.add_argument(
        "--edits", type=int, default=20, help="edits for the save-to-served measure (default 20)"
    )
    parser.add_argument(
        "--out", type=Path, default=BENCH / "results", help="results folder (default bench/results)"
    )
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary folder, removed after)")
    parser.add_argument("--keep", action="store_true", help="keep the generated roots in the work folder")
    parser.add_argument("--crm", type=Path, default=REPO / ".venv" / "bin" / "crm", help="the crm executable")
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds before one run is killed (default 900)"
    )
    args = parser.parse_args(argv)
    global TIMEOUT
    TIMEOUT = args.timeout
    args.stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = sorted(set(args.stages) - set(STAGES))
    if unknown:
        parser.error(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    if args.quick:
        args.runs, args.edits, args.git, args.no_browser = 1, 3, min(args.git, 3), True
    if not args.crm.exists():
        found = shutil.which("crm")
        if found is None:
            parser.error(f"{args.crm} not found (run `make` to create the venv)")
        args.crm = Path(found)
    sizes = [int(part) for part in args.n.replace("_", "").split(",") if part.strip()]
    shapes = [part.strip() for part in args.shapes.split(",") if part.strip()]
    if set(shapes) - set(SHAPES):
        parser.error(f"unknown shape(s) {', '.join(sorted(set(shapes) - set(SHAPES)))}; choose from {', '.join(SHAPES)}")

    report: dict[str, Any] = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "runs": args.runs,
        "seed": args.seed,
        "git_commits": args.git,
        "stages": args.stages,
        "sizes": [],
    }
    print(
        f"crm benchmark: {', '.join(shapes)}; N = {', '.join(f'{n:,}' for n in sizes)}; {args.runs} run(s) per stage",
        flush=True,
    )
    work_ctx = tempfile.TemporaryDirectory(prefix="crm-bench-") if args.work is None else None
    work = Path(work_ctx.name) if work_ctx is not None else args.work
    work.mkdir(parents=True, exist_ok=True)
    try:
        for shape in shapes:
            for n in sizes:
                report["sizes"].append(bench_size(n, shape, args, work))
    finally:
        if work_ctx is not None:
            work_ctx.cleanup()
    report["growth"] = growth(report["sizes"])
    report["load_average_at_end"] = os.getloadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    text = markdown(report)
    (args.out / "latest.md").write_text(text, encoding="utf-8")
    print("\n" + text)
    print(f"written: {args.out / 'latest.json'}, {args.out / 'latest.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
