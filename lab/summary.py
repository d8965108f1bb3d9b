"""Print a readable summary of scenario results: ``python -m lab.summary RESULTS_DIR NAME``.

Reads ``NAME.json`` and the per-worker ``NAME.gwN.json`` files the pytest plugin writes.
Exit status 1 if any scenario failed or none ran.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


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


def main(argv: list[str]) -> int:
    results, name = Path(argv[0]), argv[1]
    rows = load(results, name)
    print(render(rows))
    return 0 if rows and all(r["passed"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
