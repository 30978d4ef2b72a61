"""bench/run.py reads the benchmarks' lines and judges the targets (the benchmarks themselves
are not part of the test suite; `make bench QUICK=1` runs them)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def bench_run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    return module


def test_figure_lines_are_read_and_targets_judged() -> None:
    run = bench_run()
    lines = [
        "ingest_sqlite_20000: 4,397.25 msg/s (ratio 0.27 vs bare pynsq Reader)",
        "claim_next_200_clients: 1,283.43 claims/s (ratio 0.18 vs bare FastAPI)",
        "claim_next_200_clients_doubles: 0.00 tasks (ratio 0.00 vs tasks claimed)",
        "memory_serve_sqlite_1000000_peak_rss: 87.70 MB"
        " (ratio 1.66 vs bare FastAPI process (53 MB))",
        "load_sqlite_1000000_tasks: 8,824.70 tasks/s (113.3 s)"
        " (ratio 0.63 vs rate of the first 10,000)",
    ]
    figures = [run.parse_figure(line) for line in lines]
    assert None not in figures
    assert figures[3].baseline == "bare FastAPI process (53 MB)"
    assert figures[4].unit == "tasks/s (113.3 s)"
    rows = "\n".join(run.target_rows(figures))
    assert "| `ingest_sqlite_20000` | 4,397.25 msg/s (ratio 0.27) | **no** |" in rows
    assert "| `claim_next_200_clients` | 1,283.43 claims/s (ratio 0.18) | yes |" in rows
    assert "| `claim_next_200_clients_doubles` | 0.00 tasks (ratio 0.00) | yes |" in rows
    assert "| `memory_serve_sqlite_1000000_peak_rss` | 87.70 MB (ratio 1.66) | yes |" in rows
    assert "list p99 at 1 M ≤ 20 ms | (not measured)" in rows
    assert run.parse_figure("# run 1: bare 11,414 msg/s, taskdash 3,980 msg/s") is None
    assert (figures[0].name, figures[0].value, figures[0].ratio) == (
        "ingest_sqlite_20000",
        4397.25,
        0.27,
    )


def test_mongodb_targets_are_judged_on_their_own_figures() -> None:
    run = bench_run()
    lines = [
        "list_api_mongo_100000_p99: 412.50 ms (ratio 900.00 vs bare FastAPI same bytes)",
        "claim_next_mongo_200_clients_2_instances: 120.00 claims/s (ratio 0.02 vs bare FastAPI)",
        "claim_next_mongo_200_clients_2_instances_doubles: 0.00 tasks"
        " (ratio 0.00 vs tasks claimed)",
        "ingest_mongo_20000_2_over_1_processes: 1,900.00 msg/s (ratio 1.60 vs 1 process)",
        "ingest_mongo_20000_2_processes: 1,900.00 msg/s (ratio 0.12 vs bare pynsq Reader)",
    ]
    figures = [run.parse_figure(line) for line in lines]
    assert None not in figures
    rows = "\n".join(run.target_rows(figures))
    assert "list p99 at 100 k ≤ 50 ms | `list_api_mongo_100000_p99` | 412.50 ms" in rows
    assert (
        "| `claim_next_mongo_200_clients_2_instances` | 120.00 claims/s (ratio 0.02) | **no** |"
        in rows
    )
    assert (
        "| `claim_next_mongo_200_clients_2_instances_doubles` | 0.00 tasks (ratio 0.00) | yes |"
        in rows
    )
    assert "| `ingest_mongo_20000_2_over_1_processes` | 1,900.00 msg/s (ratio 1.60) | yes |" in rows
    # The SQLite claim target does not judge the MongoDB figure, nor ingest against the Reader.
    assert rows.count("claim_next_mongo_200_clients_2_instances`") == 1
    assert "`ingest_mongo_20000_2_processes`" not in rows
