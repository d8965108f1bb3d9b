"""``results/report.html``: one self-contained page of a matrix run.

The matrix as a pass/fail grid per group (cell x scenario; the cross-CPU group as source x target),
each square linking to the item's details (every step with its output, the console excerpt, the
artifacts); timing plots (boot, checkpoint, restart, migration downtime by CPU model and by memory
size); what changed since the previous run, and the pass counts of earlier nights (``--history``).

Plots are pygal's SVG, inlined: pygal is pure Python with no dependencies of its own (matplotlib
would bring numpy, pillow and fonttools into every lab install for a handful of bar charts), and with
``js=[]`` its SVG loads nothing from the network. The page has no script and no external reference.
"""

from __future__ import annotations

import html
import os
import re
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import benchtrend
from .run import ItemResult

STATUS_ORDER = ("fail", "infra", "miss", "pass", "skip")
SYMBOL = {"pass": "✓", "fail": "✗", "infra": "!", "skip": "–", "miss": "?"}
SCRIPT_RE = re.compile(r"<script\b.*?</script>", re.S)
PHASES = ("boot", "checkpoint", "restart", "migrate")
PHASE_COLORS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52")
STATUS_COLORS = ("#c44e52", "#e0a800", "#8e6cc0", "#55a868", "#aaaaaa")  # as STATUS_ORDER

CSS = """
body{font-family:sans-serif;margin:1.5em;color:#222}
h1{margin-bottom:.2em} .sub{color:#555;margin-top:0}
table{border-collapse:collapse;margin:.5em 0 1.5em} th,td{border:1px solid #ccc;padding:3px 6px;font-size:13px}
th{background:#f3f3f3;text-align:left} td.cell{text-align:center;font-weight:bold;min-width:2em}
td.pass{background:#cdeccd} td.fail{background:#f4b6b6} td.infra{background:#f7dd9b} td.skip{background:#e4e4e4}
td.miss{background:#d9c8f0} .miss-t{background:#d9c8f0}
td.none{background:#fff} td.cell a{color:#222;text-decoration:none;display:block}
.counts span{margin-right:1em;padding:2px 6px;border-radius:3px}
.pass-t{background:#cdeccd}.fail-t{background:#f4b6b6}.infra-t{background:#f7dd9b}.skip-t{background:#e4e4e4}
pre{background:#f8f8f8;border:1px solid #ddd;padding:4px;max-height:20em;overflow:auto;font-size:12px;
  white-space:pre-wrap}
details{margin:.3em 0;border-left:4px solid #ccc;padding-left:.5em} details.fail{border-color:#c44e52}
details.infra{border-color:#e0a800} details.pass{border-color:#55a868}
.plots{display:flex;flex-wrap:wrap;gap:1em} .plots figure{margin:0;width:560px}
"""


@dataclass
class Run:
    """The item results of one run (a results directory)."""

    label: str
    items: list[ItemResult]

    def by_id(self) -> dict[str, ItemResult]:
        return {i.id: i for i in self.items}

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for i in self.items if i.status == s) for s in STATUS_ORDER}


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def anchor(item_id: str) -> str:
    from .plan import slug

    return "item-" + slug(item_id)


def cell_key(item: ItemResult) -> str:
    return item.id.rsplit("@", 1)[1]


# -- grid --------------------------------------------------------------------------------------------
def _square(item: ItemResult | None) -> str:
    if item is None:
        return '<td class="cell none"></td>'
    tip = f"{item.status}: {item.id} ({item.seconds:.1f}s){' — ' + item.reason if item.reason else ''}"
    mark = SYMBOL.get(item.status, "?")
    if item.cross and item.expected:  # cross-CPU: which outcome the models called for
        mark += " ok" if item.expected == "success" else " refused"
    return (f'<td class="cell {item.status}" title="{_e(tip)}"><a href="#{anchor(item.id)}">'
            f"{mark}</a></td>")


def grid(group: str, items: list[ItemResult]) -> str:
    scenarios = list(dict.fromkeys(i.scenario for i in items))
    if all(i.cross for i in items):
        parts = []
        for sc in scenarios:
            mine = [i for i in items if i.scenario == sc]
            sources = list(dict.fromkeys(i.cross.split("->")[0] for i in mine))
            targets = list(dict.fromkeys(i.cross.split("->")[1] for i in mine))
            at = {i.cross: i for i in mine}
            head = "".join(f"<th>{_e(t)}</th>" for t in targets)
            rows = "".join(f"<tr><th>{_e(s)}</th>" + "".join(
                _square(at.get(f"{s}->{t}")) for t in targets) + "</tr>" for s in sources)
            parts.append(f'<table class="grid" data-group="{_e(group)}"><tr><th>{_e(sc)}: checkpoint on ↓, '
                         f"restart on →</th>{head}</tr>{rows}</table>")
        return "".join(parts)
    cells = list(dict.fromkeys(cell_key(i) for i in items))
    at2 = {(cell_key(i), i.scenario): i for i in items}
    if len(cells) < len(scenarios):  # few cells, many scenarios (debug-all): a scenario a row
        head = "".join(f"<th>{_e(c)}</th>" for c in cells)
        rows = "".join(f"<tr><th>{_e(sc)}</th>" + "".join(_square(at2.get((c, sc))) for c in cells) + "</tr>"
                       for sc in scenarios)
        return f'<table class="grid" data-group="{_e(group)}"><tr><th>scenario</th>{head}</tr>{rows}</table>'
    head = "".join(f"<th>{_e(sc)}</th>" for sc in scenarios)
    rows = "".join(f"<tr><th>{_e(c)}</th>" + "".join(_square(at2.get((c, sc))) for sc in scenarios) + "</tr>"
                   for c in cells)
    return f'<table class="grid" data-group="{_e(group)}"><tr><th>cell</th>{head}</tr>{rows}</table>'


# -- timings -----------------------------------------------------------------------------------------
def phases(item: ItemResult) -> dict[str, float]:
    """Seconds of boot (mean over guests), checkpoint, restart and migration downtime of one item."""
    r = item.result
    out: dict[str, float] = {}
    boots = list(r.get("boot_seconds", {}).values())
    if boots:
        out["boot"] = statistics.fmean(boots)
    for kind in ("checkpoint", "restart"):
        secs = [s["seconds"] for s in r.get("steps", []) if s.get("kind") == kind and s.get("ok")]
        if secs:
            out[kind] = sum(secs)
    m = r.get("measurements", {})
    if "checkpoint" not in out and isinstance(m.get("checkpoint_s"), (int, float)):
        out["checkpoint"] = float(m["checkpoint_s"])
    if "restart" not in out and isinstance(m.get("restart_s"), (int, float)):
        out["restart"] = float(m["restart_s"])
    if isinstance(m.get("downtime_s"), (int, float)):
        out["migrate"] = float(m["downtime_s"])
    return out


def axis_value(item: ItemResult, axis: str) -> str:
    """The value of ``axis`` the item's first guest had (a scenario's own memory may exceed the cell's)."""
    first = next(iter(item.guests.values()), None)
    if first is not None and axis == "memory":
        mib = int(first["memory_mib"])
        return f"{mib // 1024}G" if mib % 1024 == 0 else f"{mib}M"
    if first is not None and axis in first:
        return str(first[axis])
    return str(item.cell.get(axis, ""))


def timing_chart(items: Iterable[ItemResult], axis: str, title: str) -> str:
    """A bar chart of each phase's median seconds per value of ``axis`` (passing items only)."""
    by: dict[str, dict[str, list[float]]] = {}
    for item in items:
        if item.status != "pass":
            continue
        value = axis_value(item, axis)
        for phase, secs in phases(item).items():
            by.setdefault(value, {}).setdefault(phase, []).append(secs)
    if not by:
        return ""
    import pygal  # only where a page is drawn: `lab` starts without it

    chart = pygal.Bar(js=[], disable_xml_declaration=True, width=560, height=320, title=title,
                      style=_style(PHASE_COLORS), x_label_rotation=30, y_title="seconds (median)", print_values=False)
    values = list(by)
    chart.x_labels = values
    for phase in PHASES:
        series = [statistics.median(by[v][phase]) if phase in by[v] else None for v in values]
        if any(s is not None for s in series):
            chart.add(phase, series)
    return f'<figure class="plot" data-axis="{_e(axis)}">{_svg(chart)}</figure>'


def _style(colors: tuple[str, ...]) -> Any:
    from pygal.style import Style

    return Style(background="white", plot_background="white", font_family="sans-serif", colors=colors)


def _svg(chart: Any) -> str:
    """The chart's SVG without pygal's inline config script (it only feeds the tooltips of pygal.js,
    which the page does not load)."""
    svg: str = chart.render(is_unicode=True)
    return SCRIPT_RE.sub("", svg)


def trend_chart(runs: list[Run]) -> str:
    if len(runs) < 2:
        return ""
    import pygal

    chart = pygal.StackedBar(js=[], disable_xml_declaration=True, width=560, height=320, title="items per run",
                             style=_style(STATUS_COLORS))
    chart.x_labels = [r.label for r in runs]
    for status in STATUS_ORDER:
        chart.add(status, [r.counts()[status] for r in runs])
    return f'<figure class="plot" data-axis="trend">{_svg(chart)}</figure>'


def bench_charts(history: Path) -> list[str]:
    """``lab bench``'s records over time (:mod:`lab.benchtrend`): a line per workload size."""
    out = []
    for bench, title, y_title, pts in benchtrend.series(history):
        import pygal

        times = sorted({t for p in pts.values() for t, _ in p})
        chart = pygal.Line(js=[], disable_xml_declaration=True, width=560, height=320, title=title,
                           y_title=y_title, x_label_rotation=30, style=_style(PHASE_COLORS))
        chart.x_labels = times
        for size, p in sorted(pts.items()):
            at = dict(p)
            chart.add(size, [at.get(t) for t in times])
        out.append(f'<figure class="plot" data-axis="bench-{_e(bench)}">{_svg(chart)}</figure>')
    return out


# -- changes -----------------------------------------------------------------------------------------
def changes(current: Run, previous: Run) -> list[tuple[str, str, str]]:
    """(id, what changed, detail) for each item whose status changed, appeared, vanished, or whose
    time changed by more than half."""
    now, before = current.by_id(), previous.by_id()
    out = []
    for iid, item in now.items():
        old = before.get(iid)
        if old is None:
            out.append((iid, "new", item.status))
        elif old.status != item.status:
            kind = ("fixed" if item.status == "pass" else "regressed" if old.status == "pass" else "changed")
            out.append((iid, kind, f"{old.status} → {item.status}"))
        elif item.status == "pass" and old.seconds > 0 and abs(item.seconds - old.seconds) / old.seconds > 0.5:
            out.append((iid, "slower" if item.seconds > old.seconds else "faster",
                        f"{old.seconds:.1f}s → {item.seconds:.1f}s"))
    out += [(iid, "gone", before[iid].status) for iid in before if iid not in now]
    order = {"regressed": 0, "changed": 1, "fixed": 2, "slower": 3, "new": 4, "gone": 5, "faster": 6}
    return sorted(out, key=lambda c: (order.get(c[1], 9), c[0]))


# -- details -----------------------------------------------------------------------------------------
def _artifact_links(item: ItemResult, base: Path) -> str:
    where = item.result.get("artifacts", "")
    if not where or not Path(where).is_dir():
        return f"<p>artifacts: {_e(where or 'none')}</p>" if where else ""
    files = sorted(p for p in Path(where).rglob("*") if p.is_file())[:60]
    links = "".join(f'<li><a href="{_e(os.path.relpath(p, base))}">{_e(p.relative_to(where))}</a></li>'
                    for p in files)
    return f"<p>artifacts: {_e(where)}</p><ul>{links}</ul>"


def _steps(item: ItemResult) -> str:
    rows = []
    for s in item.result.get("steps", []):
        out = "\n".join(x for x in (s.get("stdout", "").strip(), s.get("stderr", "").strip()) if x)
        status = "ok" if s.get("ok") else "FAILED"
        cmds = "".join(f"$ {c['command']}\n" for c in s.get("commands", []))[-3000:]
        body = f"<pre>{_e(cmds)}{_e(out[-3000:])}</pre>" if (cmds or out) else ""
        rows.append(f"<tr><td>{s.get('line')}</td><td>{_e(s.get('title'))}</td><td>{_e(s.get('kind'))}</td>"
                    f"<td>{s.get('seconds', 0):.2f}</td><td>{status}</td><td>{s.get('exit_status')}</td>"
                    f"<td>{body}</td></tr>")
    if not rows:
        return ""
    return ("<table><tr><th>line</th><th>step</th><th>kind</th><th>s</th><th></th><th>exit</th><th>output</th></tr>"
            + "".join(rows) + "</table>")


def details(item: ItemResult, base: Path) -> str:
    r = item.result
    parts = [f'<details id="{anchor(item.id)}" class="{item.status}"{" open" if item.status == "fail" else ""}>',
             f"<summary><b>{item.status.upper()}</b> {_e(item.id)} — {item.seconds:.1f}s</summary>",
             f"<p>scenario {_e(item.scenario)} ({_e(item.file)}); cell {_e(item.cell)}; accel "
             f"{_e(r.get('accel') or '-')}; shard {_e(item.shard or '-')}; host {_e(item.host)}</p>"]
    if item.expected:
        parts.append(f"<p>expected (from the CPU models): {_e(item.expected)}</p>")
    if item.reason:
        parts.append(f"<p>reason: {_e(item.reason)}</p>")
    figures = r.get("measurements", {})
    if figures:
        parts.append("<p>" + _e(" ".join(f"{k}={v}" for k, v in sorted(figures.items()))) + "</p>")
    parts.append(_steps(item))
    if r.get("error"):
        parts.append(f"<pre>{_e(r['error'][-4000:])}</pre>")
    for guest, text in (item.console or {}).items():
        found = r.get("findings", {}).get(guest) or []
        parts.append(f"<p>console of {_e(guest)}{' — findings: ' + _e('; '.join(found)) if found else ''}</p>"
                     f"<pre>{_e(text)}</pre>")
    parts.append(_artifact_links(item, base))
    parts.append("</details>")
    return "\n".join(parts)


# -- page --------------------------------------------------------------------------------------------
def render(current: Run, *, title: str = "lab matrix", history: list[Run] | None = None,
           base: Path = Path("results"), bench_history: Path | None = None) -> str:
    """The whole page; ``history``: earlier runs, oldest first (the last one is "previous");
    ``bench_history``: ``lab bench``'s records (:mod:`lab.benchtrend`), plotted over time."""
    history = history or []
    items = current.items
    counts = current.counts()
    groups: dict[str, list[ItemResult]] = {}
    for i in items:
        groups.setdefault(i.group, []).append(i)
    out = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{_e(title)}</title>"
           f"<style>{CSS}</style></head><body>",
           f"<h1>{_e(title)}</h1><p class=sub>{len(items)} items, written "
           f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}</p>",
           '<p class="counts">' + "".join(f'<span class="{s}-t">{s}: {counts[s]}</span>' for s in STATUS_ORDER)
           + "</p>"]
    if history:
        rows = changes(current, history[-1])
        # item by item what changed; items that are new or gone (a matrix that grew) as one line each
        body = "".join(f"<tr><td>{_e(k)}</td><td><a href='#{anchor(i)}'>{_e(i)}</a></td><td>{_e(d)}</td></tr>"
                       for i, k, d in rows if k not in ("new", "gone"))
        for kind in ("new", "gone"):
            ids = [i for i, k, _ in rows if k == kind]
            if ids:
                listed = "".join(f"<li>{_e(i)}</li>" for i in ids)
                body += (f"<tr><td>{kind}</td><td colspan=2><details><summary>{len(ids)} items</summary>"
                         f"<ul>{listed}</ul></details></td></tr>")
        out.append(f"<h2 id=changes>Changes since {_e(history[-1].label)}</h2><table><tr><th>change</th>"
                   f"<th>item</th><th></th></tr>{body or '<tr><td colspan=3>nothing changed</td></tr>'}</table>")
    out.append("<h2 id=grid>Matrix</h2>")
    for name, mine in groups.items():
        out.append(f"<h3>{_e(name)}</h3>{grid(name, mine)}")
    plots = [timing_chart(items, "cpu", "seconds by CPU model"), timing_chart(items, "memory", "seconds by memory"),
             trend_chart([*history, current])]
    plots = [p for p in plots if p] + (bench_charts(bench_history) if bench_history else [])
    if plots:
        out.append('<h2 id=timings>Timings</h2><div class="plots">' + "".join(plots) + "</div>")
    out.append("<h2 id=items>Items</h2>")
    ordered = sorted(items, key=lambda i: (STATUS_ORDER.index(i.status) if i.status in STATUS_ORDER else 9, i.id))
    out.extend(details(i, base) for i in ordered)
    out.append("</body></html>")
    return "\n".join(out)


def write(current: Run, path: Path, *, title: str = "lab matrix", history: list[Run] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(current, title=title, history=history, base=path.parent.resolve(),
                           bench_history=path.parent / "bench" / "history.jsonl"))
    return path
