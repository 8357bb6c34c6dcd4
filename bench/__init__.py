"""Benchmarks: figures and ratios against a baseline measured in the same run.

Nothing here asserts a time: machines differ, and a number only means
something next to its baseline from the same run on the same machine. Run
`make bench` (`python -m bench`, `--quick` for smaller sizes); each module
also runs on its own (`python -m bench.store_bench`).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One measured line of a benchmark table."""

    section: str
    name: str
    value: float
    unit: str  # "rows/s", "lookups/s", "ms"
    ratio: float | None = None  # against the section's baseline (1.0 for the baseline)
    note: str = ""


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of `repeat` calls (robust to one slow outlier)."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def with_ratios(figures: list[Figure], baseline: str) -> list[Figure]:
    """Fill `ratio` = value / baseline value. For a throughput (rows/s) below 1
    means slower than the baseline; for a duration (ms) above 1 does."""
    base = next(f for f in figures if f.name == baseline).value
    return [Figure(f.section, f.name, f.value, f.unit, f.value / base if base else None, f.note)
            for f in figures]


def format_value(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:,.1f} ms"
    return f"{value:,.0f} {unit}"


def format_table(figures: list[Figure]) -> str:
    """A plain-text table, one block per section."""
    name_w = max([len(f.name) for f in figures] + [10])
    value_w = max([len(format_value(f.value, f.unit)) for f in figures] + [8])
    lines: list[str] = []
    section = None
    for f in figures:
        if f.section != section:
            section = f.section
            if lines:
                lines.append("")
            lines.append(section)
            lines.append("-" * len(section))
        ratio = f"x{f.ratio:.2f}" if f.ratio is not None else ""
        text = f"  {f.name:<{name_w}}  {format_value(f.value, f.unit):>{value_w}}  {ratio:>8}"
        if f.note:
            text += f"  {f.note}"
        lines.append(text.rstrip())
    return "\n".join(lines)
