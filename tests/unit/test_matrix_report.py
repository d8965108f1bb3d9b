"""The matrix report without guests: the HTML page (grid, plots, details, changes), merging shard
results, the durations record and the KCIDB export."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from lab import cli
from lab.matrix import html, results
from lab.matrix.run import ItemResult, write


def item(iid: str, status: str = "pass", seconds: float = 10.0, cpu: str = "max", target: str = "",
         memory: str = "256M", **result: Any) -> ItemResult:
    group, rest = iid.split("/", 1)
    scenario = rest.rsplit("@", 1)[0]
    steps = [
        {"title": "checkpoint ${w}", "kind": "checkpoint", "line": 7, "seconds": 0.4, "ok": True,
         "exit_status": 0, "stdout": "checkpoint id 1", "stderr": "", "commands": [
             {"guest": "a", "command": "checkpoint 123 -o /tmp/i", "exit_status": 0, "seconds": 0.4,
              "stdout": "checkpoint id 1", "stderr": "", "output_file": ""}]},
        {"title": "restart /tmp/i", "kind": "restart", "line": 9, "seconds": 0.6, "ok": status == "pass",
         "exit_status": 0 if status == "pass" else 1, "stdout": "", "stderr": "restart: error -22 <bad>",
         "commands": []},
    ]
    res = {"scenario": scenario, "file": f"scenarios/{scenario}.yaml", "artifacts": "/nonexistent/art",
           "passed": status == "pass", "accel": "tcg", "seconds": seconds, "boot_seconds": {"a": 1.5, "b": 2.5},
           "steps": steps, "findings": {}, "measurements": {"downtime_s": 0.9}, "error": "" if status == "pass"
           else "step 'restart /tmp/i' (line 9) failed: <exit 1>", "infra_error": "", **result}
    return ItemResult(iid, group, scenario, res["file"], {"cpu": cpu, "memory": memory, "target_cpu": target},
                      f"{cpu}->{target}" if target else "", "success" if target else "", status, seconds,
                      reason="" if status == "pass" else "step failed", shard="1/2", host="h",
                      started="2026-12-01T18:00:00Z", result=res, console={"a": "lab: guest ready\n<tail>"},
                      kernel={"key": "abc123", "fragments": ["base.config", "checkpoint.config"],
                              "version": "6.1.192-3", "release": "6.1.192"},
                      commit="0123456789abcdef0123456789abcdef01234567")


ITEMS = [
    item("cpu/boot@cpu=Haswell", cpu="Haswell"),
    item("cpu/boot@default"),
    item("cpu/cr@cpu=Haswell", "fail", cpu="Haswell"),
    item("cpu/cr@default", "infra", seconds=3.0),
    item("sizes/cr@memory=2G", memory="2G", seconds=20.0),
    item("x/cc@max->Haswell", target="Haswell"),
    item("x/cc@Haswell->max", "fail", cpu="Haswell", target="max"),
    item("kvm/boot@accel=kvm", "skip", seconds=0.0),
]


class Page(HTMLParser):
    """What a browser would need: every element, the references it loads, the text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.loads: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        for key in ("src", "href", "xlink:href"):
            if key not in a:
                continue
            value = a[key] or ""
            if key == "src" or tag in ("link", "image", "use") or value.startswith(("http:", "https:", "//")):
                self.loads.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(text: str) -> Page:
    p = Page()
    p.feed(text)
    return p


def test_page_is_self_contained_with_grid_plots_and_details() -> None:
    page_text = html.render(html.Run("now", ITEMS), title="nightly matrix")
    page = parse(page_text)
    assert page.loads == []  # nothing fetched: no script, stylesheet, image or font from anywhere
    assert not any(tag == "script" for tag, _ in page.tags)
    grids = [a for tag, a in page.tags if tag == "table" and (a.get("class") == "grid")]
    assert [g["data-group"] for g in grids] == ["cpu", "sizes", "x", "kvm"]
    squares = [a for tag, a in page.tags if tag == "td" and "cell" in (a.get("class") or "")]
    classes = [a["class"] for a in squares if a.get("class") != "cell none"]
    assert sorted(classes) == sorted(f"cell {i.status}" for i in ITEMS)
    # the cross-CPU grid is source x target; every square links to its item's details
    assert "cc: checkpoint on ↓, restart on →" in "".join(page.text)
    ids = {a.get("id") for _, a in page.tags}
    links = {a["href"][1:] for tag, a in page.tags if tag == "a" and (a.get("href") or "").startswith("#")}
    assert links and links <= ids
    assert len([a for tag, a in page.tags if tag == "details" and a.get("id")]) == len(ITEMS)
    # plots: inline SVG, by CPU model and by memory size, with the phases as series
    figures = [a["data-axis"] for tag, a in page.tags if tag == "figure"]
    assert figures == ["cpu", "memory"]
    assert page_text.count("<svg") == 2 and "boot" in page_text and "checkpoint" in page_text
    # the evidence: step output and commands, the error, the console excerpt, all escaped
    assert "$ checkpoint 123 -o /tmp/i" in page_text and "restart: error -22 &lt;bad&gt;" in page_text
    assert "&lt;exit 1&gt;" in page_text and "&lt;tail&gt;" in page_text and "<tail>" not in page_text


def test_phases_of_an_item() -> None:
    assert html.phases(ITEMS[0]) == {"boot": 2.0, "checkpoint": 0.4, "restart": 0.6, "migrate": 0.9}


def test_changes_since_the_previous_run() -> None:
    before = [item("cpu/boot@default", "fail"), item("cpu/cr@cpu=Haswell"), item("gone/x@default"),
              item("cpu/boot@cpu=Haswell", seconds=4.0)]
    got = html.changes(html.Run("now", ITEMS), html.Run("yesterday", before))
    kinds = {(i, k) for i, k, _ in got}
    assert ("cpu/cr@cpu=Haswell", "regressed") in kinds
    assert ("cpu/boot@default", "fixed") in kinds
    assert ("gone/x@default", "gone") in kinds
    assert ("cpu/boot@cpu=Haswell", "slower") in kinds
    assert ("x/cc@max->Haswell", "new") in kinds
    assert got[0][1] == "regressed"  # the worst news first
    page = html.render(html.Run("now", ITEMS), history=[html.Run("n1", before[:1]), html.Run("yesterday", before)])
    assert "Changes since yesterday" in page and page.count("<svg") == 3  # + the trend over the runs


def test_merge_shards_missing_items_durations_and_kcidb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "shard-1", tmp_path / "shard-2"
    for i in ITEMS[:4]:
        write(i, results.items_dir(a))
    for i in ITEMS[4:]:
        write(i, results.items_dir(b))
    merged = results.merge([a, b])
    assert sorted(i.id for i in merged) == sorted(i.id for i in ITEMS)
    assert merged == [ItemResult.from_dict(json.loads(json.dumps(i.__dict__))) for i in merged]
    # the same item twice with the same result is fine; with another result it is an error
    write(ITEMS[0], results.items_dir(b))
    assert len(results.merge([a, b])) == len(ITEMS)
    write(item(ITEMS[0].id, "fail"), results.items_dir(b))
    with pytest.raises(results.MergeError, match="different results"):
        results.merge([a, b])
    with pytest.raises(results.MergeError, match="no matrix item results .* and no plan.json"):
        results.merge([tmp_path / "empty"])
    miss = results.missing(ITEMS, [i.id for i in ITEMS] + ["cpu/extra@cpu=EPYC"])
    assert [(m.id, m.group, m.scenario, m.status) for m in miss] == [("cpu/extra@cpu=EPYC", "cpu", "extra", "miss")]
    assert results.missing([], ["x/cc@max->EPYC,smp=2"])[0].cross == "max->EPYC"  # still in the square
    rec = results.durations(ITEMS, {"old/x@default": 5.0, "cpu/boot@default": 99.0})
    assert rec["cpu/boot@default"] == 10.0 and rec["old/x@default"] == 5.0
    assert "kvm/boot@accel=kvm" not in rec and "cpu/cr@default" not in rec  # skipped and infra: not durations
    k = results.kcidb(ITEMS)
    assert k["version"]["major"] == 4 and len(k["checkouts"]) == 1 and len(k["builds"]) == 1
    assert k["checkouts"][0]["git_commit_hash"] == ITEMS[0].commit
    assert k["builds"][0]["config_name"] == "base+checkpoint"
    statuses = {t["misc"]["item"]: t["status"] for t in k["tests"]}
    assert statuses == {"cpu/boot@cpu=Haswell": "PASS", "cpu/boot@default": "PASS", "cpu/cr@cpu=Haswell": "FAIL",
                        "cpu/cr@default": "ERROR", "sizes/cr@memory=2G": "PASS", "x/cc@max->Haswell": "PASS",
                        "x/cc@Haswell->max": "FAIL", "kvm/boot@accel=kvm": "SKIP"}
    assert all(t["id"].startswith("lab:") and t["build_id"] == k["builds"][0]["id"] for t in k["tests"])
    assert len({t["id"] for t in k["tests"]}) == len(ITEMS)


def test_lab_report_merge_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b, out = tmp_path / "s1", tmp_path / "s2", tmp_path / "merged"
    for i in ITEMS[:2]:
        write(i, results.items_dir(a))
    write(ITEMS[5], results.items_dir(b))
    prev = tmp_path / "history" / "2026-11-30"
    write(item("cpu/boot@default", "fail"), results.items_dir(prev))
    assert cli.main(["report", "merge", str(a), str(b), "-o", str(out), "--history", str(tmp_path / "history")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "3 passed, 0 failed, 0 skipped"
    page = (out / "report.html").read_text()
    assert "Changes since 2026-11-30" in page and "fixed" in page
    assert len(list(results.items_dir(out).glob("*.json"))) == 3
    assert json.loads((out / "kcidb.json").read_text())["tests"]
    assert set(json.loads((out / "durations.json").read_text())) == {ITEMS[0].id, ITEMS[1].id, ITEMS[5].id}
    write(ITEMS[2], results.items_dir(b))
    assert cli.main(["report", "merge", str(a), str(b), "-o", str(out)]) == 1  # a failed item: exit 1
    assert capsys.readouterr().out.splitlines()[-1] == "3 passed, 1 failed, 0 skipped"


def test_a_scenario_run_outside_the_matrix_as_an_item() -> None:
    from lab.matrix.run import from_scenario_result
    from lab.matrix.spec import Cell

    row = {**ITEMS[2].result, "file": "/repo/scenarios/checkpoint/external_freeze_v2.yaml",
           "scenario": "external-freeze-v2", "passed": False}
    got = from_scenario_result(row, Cell(cpu="Haswell"), Cell())
    assert (got.id, got.group, got.status) == ("checkpoint/external-freeze-v2@cpu=Haswell", "checkpoint", "fail")
    booted_not = {**row, "infra_error": "guest did not boot: QMP handshake failed"}
    assert from_scenario_result(booted_not, Cell(), Cell()).status == "infra"
    panicked = {**booted_not, "findings": {"a": ["panic: Kernel panic - not syncing"]}}
    assert from_scenario_result(panicked, Cell(), Cell()).status == "fail"  # a kernel problem is no infra error
