"""Shared pieces of the benchmarks: medians, ratios, one line per figure."""

from __future__ import annotations

import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def report(name: str, value: float, unit: str, ratio: float, baseline: str) -> None:
    """The one line each figure gets: `name: value unit (ratio X.XX vs BASELINE)`."""
    print(f"{name}: {value:,.2f} {unit} (ratio {ratio:.2f} vs {baseline})", flush=True)
