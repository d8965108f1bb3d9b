"""Print a readable summary of scenario results: ``python -m lab.summary RESULTS_DIR NAME``.

Reads ``NAME.json`` and the per-worker ``NAME.gwN.json`` files the pytest plugin writes.
Exit status 1 if any scenario failed or none ran.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table


def load(results: Path, name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for f in sorted(results.glob(f"{name}*.json")):
        data = json.loads(f.read_text())
        rows.extend(data if isinstance(data, list) else [data])
    return rows


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    text = " ".join(str(value).split())
    return repr(text) if " " in text else text


def render(rows: list[dict[str, Any]]) -> str:
    lines = []
    for r in sorted(rows, key=lambda r: str(r["scenario"])):
        verdict = "PASS" if r["passed"] else "FAIL"
        figures = " ".join(f"{k}={_fmt(v)}" for k, v in sorted(r.get("measurements", {}).items()))
        lines.append(f"{verdict}  {r['scenario']:<36} {r['seconds']:7.1f}s accel={r['accel'] or '-'} {figures}")
        if not r["passed"]:
            first = (r.get("error") or "").strip().splitlines()[:3]
            lines.extend(f"        {ln}" for ln in first)
            lines.append(f"        artifacts: {r['artifacts']}")
    passed = sum(1 for r in rows if r["passed"])
    lines.append(f"{passed} passed, {len(rows) - passed} failed")
    return "\n".join(lines)


def render_table(rows: list[dict[str, Any]]) -> Table:
    """The same summary as a rich table, for a terminal."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for col, kw in (("", {}), ("scenario", {"no_wrap": True}), ("seconds", {"justify": "right"}), ("accel", {}),
                    ("figures", {"overflow": "fold"})):
        table.add_column(col, **kw)
    for r in sorted(rows, key=lambda r: str(r["scenario"])):
        verdict = "[green]PASS[/]" if r["passed"] else "[bold red]FAIL[/]"
        figures = " ".join(f"{k}={_fmt(v)}" for k, v in sorted(r.get("measurements", {}).items()))
        if not r["passed"]:
            first = (r.get("error") or "").strip().splitlines()[:3]
            figures = "\n".join([*first, f"artifacts: {r['artifacts']}"])
        table.add_row(verdict, str(r["scenario"]), f"{r['seconds']:.1f}", r["accel"] or "-",
                      escape(figures))
    return table


def main(argv: list[str]) -> int:
    """Print the summary: a rich table on a terminal, plain lines otherwise (CI, pipes); the last line
    is always the plain "N passed, N failed"."""
    results, name = Path(argv[0]), argv[1]
    rows = load(results, name)
    console = Console()
    if console.is_terminal:
        console.print(render_table(rows))
        print(render(rows).splitlines()[-1])
    else:
        print(render(rows))
    return 0 if rows and all(r["passed"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
