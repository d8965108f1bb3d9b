"""Benchmarks over time: ``results/bench/history.jsonl`` (one record per ``lab bench`` run) as plots.

Each plot is one figure of one benchmark against the run's time, one line per workload size: boot
to SSH-ready, checkpoint/restart against the guest's memcpy, process migration against whole-VM
migration. The records carry the machine they ran on; a point's tooltip-free label is its time.
The matrix report draws them (``lab.matrix.html.bench_charts``) like its other plots.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

# (bench, title, y axis, value of one size's medians)
SERIES: tuple[tuple[str, str, str, Callable[[dict[str, Any]], float | None]], ...] = (
    ("boot", "boot to SSH-ready", "seconds (median)", lambda m: m.get("median_s")),
    ("cr", "restart / guest memcpy", "ratio", lambda m: _ratio(m, "restart", "memcpy")),
    ("cr", "checkpoint / guest memcpy", "ratio", lambda m: _ratio(m, "checkpoint", "memcpy")),
    ("cr", "our restart / CRIU's restore", "time ratio", lambda m: _ratio(m, "kernel_rst_s", "criu_rst_s")),
    ("migrate", "process / whole-VM migration", "time ratio", lambda m: _ratio(m, "process_s", "vm_s")),
    ("migrate", "process migration downtime", "seconds", lambda m: m.get("process_downtime_s")),
)


def _ratio(m: dict[str, Any], num: str, den: str) -> float | None:
    if num in m and m.get(den):
        return float(m[num]) / float(m[den])
    return None


def load(path: Path) -> list[dict[str, Any]]:
    """The records of ``path``, oldest first; a line that is not a record is skipped."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and "bench" in rec and "medians" in rec:
            out.append(rec)
    return out


def points(records: list[dict[str, Any]], bench: str,
           value: Callable[[dict[str, Any]], float | None]) -> dict[str, list[tuple[str, float]]]:
    """size ("all" for a benchmark without sizes) -> [(time, value)], for the records of ``bench``."""
    series: dict[str, list[tuple[str, float]]] = {}
    for rec in records:
        if rec["bench"] != bench:
            continue
        medians = rec["medians"]
        sized = medians if all(isinstance(v, dict) for v in medians.values()) and medians else {"all": medians}
        for size, m in sized.items():
            v = value(m)
            if v is not None:
                series.setdefault(size, []).append((rec["time"], v))
    return series


def series(path: Path) -> list[tuple[str, str, str, dict[str, list[tuple[str, float]]]]]:
    """(bench, title, y axis, size -> points) for each benchmark series of ``path`` with a point."""
    records = load(path)
    out = []
    for bench, title, y_title, value in SERIES:
        if pts := points(records, bench, value):
            out.append((bench, title, y_title, pts))
    return out
