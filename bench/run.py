"""Run every benchmark; the full run rewrites bench/RESULTS.md.

`make bench` runs the full set; `make bench QUICK=1` a short one (a minute or two) that prints the
same lines without touching RESULTS.md. Each benchmark runs as its own process and prints
`name: value unit (ratio X.XX vs BASELINE)` lines; this script echoes them, checks the targets
and writes RESULTS.md: date, machine, commands, figures, targets, then bench/FINDINGS.md (what
bounds each figure, written by hand from profiles).
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LINE = re.compile(
    r"^(?P<name>\S+): (?P<value>[\d,.]+) (?P<unit>.+?)"
    r" \(ratio (?P<ratio>[\d.]+) vs (?P<baseline>.+)\)$"
)

FULL = [
    ["bench/ingest.py", "20000", "3", "sqlite"],
    ["bench/ingest.py", "20000", "3", "mongo", "1,2"],
    ["bench/list_page.py", "10000,100000,1000000", "1000"],
    ["bench/list_page.py", "10000,100000", "1000", "mongo"],
    ["bench/claim.py", "10000", "200", "3"],
    ["bench/claim.py", "3000", "200", "3", "mongo", "2"],
    ["bench/overview.py", "10000,100000,1000000", "1000"],
    ["bench/overview.py", "10000,100000", "300", "mongo"],
    ["bench/stats_services.py", "10000,100000,1000000", "1000"],
    ["bench/activity.py", "--bulk", "10000,100000,1000000", "300"],
]
QUICK = [
    ["bench/ingest.py", "3000", "1", "sqlite"],
    ["bench/ingest.py", "2000", "1", "mongo", "1,2"],
    ["bench/list_page.py", "10000,100000", "200"],
    ["bench/list_page.py", "10000", "50", "mongo"],
    ["bench/claim.py", "3000", "200", "1"],
    ["bench/claim.py", "1000", "200", "1", "mongo", "2"],
    ["bench/overview.py", "10000,100000", "200"],
    ["bench/stats_services.py", "10000", "200"],
    ["bench/activity.py", "--bulk", "10000", "50"],
]


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    ratio: float
    baseline: str
    line: str


@dataclass
class Target:
    text: str
    pattern: str
    check: Callable[[Figure], bool]


TARGETS = [
    Target(
        "stats (throughput, people, cycle time) p99 at 1 M ≤ 200 ms",
        r"^stats_\w+_sqlite_1000000_p99$",
        lambda f: f.value <= 200,
    ),
    Target(
        "ingest ≥ 0.7 × the bare Reader (SQLite)", r"^ingest_sqlite_\d+$", lambda f: f.ratio >= 0.7
    ),
    Target(
        "list p99 at 1 M ≤ 2 × p99 at 10 k",
        r"^list_\w+_sqlite_p99_1000000_over_10000$",
        lambda f: f.ratio <= 2,
    ),
    Target("list p99 at 1 M ≤ 20 ms", r"^list_\w+_sqlite_1000000_p99$", lambda f: f.value <= 20),
    Target(
        "overview: stats p99 at 1 M ≤ 50 ms",
        r"^stats_\w+_sqlite_1000000_p99$",
        lambda f: f.value <= 50,
    ),
    Target("claim ≥ 1,000/s", r"^claim_next_200_clients$", lambda f: f.value >= 1000),
    Target(
        "claim: 0 tasks given twice", r"^claim_next_200_clients_doubles$", lambda f: f.value == 0
    ),
    Target(
        "peak RSS ≤ 150 MB at 1 M tasks",
        r"^memory_serve_sqlite_1000000_peak_rss$",
        lambda f: f.value <= 150,
    ),
    Target(
        "MongoDB: list p99 at 100 k ≤ 50 ms",
        r"^list_\w+_mongo_100000_p99$",
        lambda f: f.value <= 50,
    ),
    Target(
        "MongoDB: claim ≥ 500/s with two instances",
        r"^claim_next_mongo_200_clients_2_instances$",
        lambda f: f.value >= 500,
    ),
    Target(
        "MongoDB: claim with two instances, 0 tasks given twice",
        r"^claim_next_mongo_200_clients_2_instances_doubles$",
        lambda f: f.value == 0,
    ),
    Target(
        "MongoDB: ingest with two instances ≥ 1.5 × one",
        r"^ingest_mongo_\d+_2_over_1_processes$",
        lambda f: f.ratio >= 1.5,
    ),
]


def parse_figure(line: str) -> Figure | None:
    """The figure a benchmark's output line carries, if it is one."""
    match = LINE.match(line)
    if match is None:
        return None
    value = float(match["value"].replace(",", ""))
    return Figure(
        match["name"], value, match["unit"], float(match["ratio"]), match["baseline"], line
    )


def run(command: list[str]) -> tuple[list[Figure], list[str], float]:
    """Run one benchmark, echoing its output; its figures, its `#` notes and its seconds."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *command],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    figures, notes = [], []
    for line in proc.stdout:
        print(line, end="", flush=True)
        line = line.rstrip("\n")
        figure = parse_figure(line)
        if figure is not None:
            figures.append(figure)
        elif line.startswith("# "):
            notes.append(line[2:])
    if proc.wait() != 0:
        raise SystemExit(f"bench: {' '.join(command)} failed (exit {proc.returncode})")
    return figures, notes, time.perf_counter() - started


def machine() -> list[str]:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kib = int(next(line for line in meminfo if line.startswith("MemTotal:")).split()[1])
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "?")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "src", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return [
        f"- CPU: {os.cpu_count()} cores ({model})",
        f"- memory: {mem_kib / 1024 / 1024:.1f} GiB",
        f"- Python {platform.python_version()} on {platform.platform()}",
        f"- code: commit {commit}{' with uncommitted changes' if dirty else ''}",
    ]


def target_rows(figures: list[Figure]) -> list[str]:
    rows = ["| target | figure | value | met |", "|---|---|---|---|"]
    for target in TARGETS:
        matching = [f for f in figures if re.match(target.pattern, f.name)]
        if not matching:
            rows.append(f"| {target.text} | (not measured) | | |")
        for figure in matching:
            shown = f"{figure.value:,.2f} {figure.unit} (ratio {figure.ratio:.2f})"
            met = "yes" if target.check(figure) else "**no**"
            rows.append(f"| {target.text} | `{figure.name}` | {shown} | {met} |")
    return rows


def write_results(
    results: list[tuple[list[str], list[Figure], list[str], float]], began: str
) -> None:
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (bench/run.py); do not edit by hand: the analysis lives in",
        "bench/FINDINGS.md and is copied in below. Every figure is next to a baseline measured in",
        "the same run, as a ratio.",
        "",
        f"Run started {began} UTC.",
        "",
        "## Machine",
        "",
        *machine(),
        "",
        "## Commands and figures",
        "",
    ]
    all_figures = []
    for command, figures, notes, seconds in results:
        all_figures += figures
        lines += [f"`.venv/bin/python {' '.join(command)}` ({seconds:.0f} s)", "", "```"]
        lines += [f"# {note}" for note in notes] + [f.line for f in figures] + ["```", ""]
    lines += ["## Targets", "", *target_rows(all_figures), ""]
    lines += [(BENCH / "FINDINGS.md").read_text().rstrip(), ""]
    (BENCH / "RESULTS.md").write_text("\n".join(lines))


def main() -> None:
    args = sys.argv[1:]
    if "-h" in args or "--help" in args:
        print(__doc__)
        return
    if any(arg != "--quick" for arg in args):
        raise SystemExit(f"bench/run.py: unknown arguments {args}; it takes --quick or nothing")
    quick = "--quick" in args or os.environ.get("QUICK", "") not in ("", "0")
    began = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M")
    started = time.perf_counter()
    results = []
    for command in QUICK if quick else FULL:
        print(f"== .venv/bin/python {' '.join(command)}", flush=True)
        results.append((command, *run(command)))
    figures = [f for _, found, _, _ in results for f in found]
    print(f"== {len(figures)} figures in {time.perf_counter() - started:.0f} s")
    for row in target_rows(figures)[2:]:
        print(row)
    if not quick:
        write_results(results, began)
        print("== bench/RESULTS.md written")


if __name__ == "__main__":
    main()
