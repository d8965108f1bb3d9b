"""Benchmarks over time: history.jsonl records as plots in the report."""

import json
from pathlib import Path

from lab import benchtrend


def write_history(path: Path) -> None:
    recs = [
        {"bench": "boot", "time": "20261201T100000Z", "medians": {"median_s": 1.4}},
        {"bench": "boot", "time": "20261202T100000Z", "medians": {"median_s": 0.98}},
        {"bench": "cr", "time": "20261202T110000Z",
         "medians": {"64M": {"checkpoint": 280, "restart": 200, "memcpy": 2000},
                     "256M": {"checkpoint": 300, "restart": 210, "memcpy": 2100, "kernel_rst_s": 1.2,
                              "criu_rst_s": 1.0}}},
    ]
    path.write_text("\n".join(json.dumps(r) for r in recs) + "\nnot json\n")


def test_points_per_size_and_unsized_benchmarks(tmp_path: Path) -> None:
    h = tmp_path / "history.jsonl"
    write_history(h)
    recs = benchtrend.load(h)
    assert [r["bench"] for r in recs] == ["boot", "boot", "cr"]
    assert benchtrend.points(recs, "boot", lambda m: m.get("median_s")) == {
        "all": [("20261201T100000Z", 1.4), ("20261202T100000Z", 0.98)]}
    rst = benchtrend.points(recs, "cr", lambda m: benchtrend._ratio(m, "restart", "memcpy"))
    assert rst == {"64M": [("20261202T110000Z", 0.1)], "256M": [("20261202T110000Z", 0.1)]}
    vs = benchtrend.points(recs, "cr", lambda m: benchtrend._ratio(m, "kernel_rst_s", "criu_rst_s"))
    assert list(vs) == ["256M"]


def test_figures_are_inline_svg_without_scripts(tmp_path: Path) -> None:
    from lab.matrix import html

    h = tmp_path / "history.jsonl"
    assert html.bench_charts(h) == []
    write_history(h)
    figs = html.bench_charts(h)
    assert len(figs) == 4  # boot, restart/memcpy, checkpoint/memcpy, ours/CRIU's; no migrate record
    assert all("<svg" in f and "<script" not in f for f in figs)


def test_the_matrix_report_plots_the_bench_history_beside_it(tmp_path: Path) -> None:
    from lab.matrix import html

    (tmp_path / "bench").mkdir()
    write_history(tmp_path / "bench" / "history.jsonl")
    page = html.write(html.Run("now", []), tmp_path / "report.html").read_text()
    assert page.count('data-axis="bench-') == 4
