"""The scheduled sharded workflow: its shape, and its merge job's script run here on shard results
laid out as actions/download-artifact lays them out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from lab.matrix import plan, results, spec
from lab.matrix.run import ItemResult, write

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "nightly-matrix.yml"


def workflow() -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return data


def step_run(job: dict[str, Any], name: str) -> str:
    return str(next(s for s in job["steps"] if s.get("name") == name)["run"])


def test_scheduled_shards_then_a_merge() -> None:
    wf = workflow()
    triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"].split()[2:] == ["*", "*", "*"]  # every night
    shard = wf["jobs"]["shard"]
    shards = shard["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1)) and shard["strategy"]["fail-fast"] is False
    run = step_run(shard, "Run the shard")
    assert "nox -s matrix -- --shard ${{ matrix.shard }}/${{ strategy.job-total }}" in run
    merge = wf["jobs"]["merge"]
    assert merge["needs"] == "shard" and merge["if"] == "always()"
    assert "lab report merge shards/shard-*/results/shard-*" in step_run(merge, "lab report merge")
    uploads = [s for s in merge["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert "results/report.html" in uploads[0]["with"]["path"]


def test_merge_script_on_downloaded_shards(tmp_path: Path) -> None:
    """Every item of the nightly matrix 'ran' in its shard (fake results); shard 2 lost one item."""
    wf = workflow()
    n = len(wf["jobs"]["shard"]["strategy"]["matrix"]["shard"])
    items = plan.items(spec.load(REPO / "matrix" / "nightly.yaml"), predict=False)
    lost = ""
    for k, part in enumerate(plan.shards(items, n, {}), 1):
        base = tmp_path / "shards" / f"shard-{k}" / "results" / f"shard-{k}" / results.MATRIX_DIR
        results.write_json({"matrix": "nightly", "shard": f"{k}/{n}", "items": [i.id for i in items]},
                           base / results.PLAN_FILE)
        for j, item in enumerate(part):
            if k == 2 and j == 0:
                lost = item.id
                continue
            write(ItemResult(item.id, item.group, item.scenario.name, str(item.scenario.path), item.cell.values(),
                             item.cross, item.expected, "pass", 5.0 + j, shard=f"{k}/{n}"), base / "items")
    (tmp_path / "matrix").mkdir()
    (tmp_path / "matrix" / "nightly.durations.json").write_text("{}\n")
    script = step_run(wf["jobs"]["merge"], "lab report merge").replace(
        "/opt/lab/bin/lab", str(Path(sys.executable).with_name("lab")))
    out = tmp_path / "github_output"
    proc = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "GITHUB_OUTPUT": str(out)}, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == f"{len(items) - 1} passed, 1 failed, 0 skipped"
    assert f"missing (no shard reported them): 1: {lost}" in proc.stdout
    assert out.read_text() == "status=1\n"  # the last step of the job fails the run
    page = (tmp_path / "results" / "report.html").read_text()
    assert "nightly matrix" in page and page.count('class="grid"') >= 8
    nights = list((tmp_path / "matrix-state" / "history").iterdir())
    assert len(nights) == 1 and len(list((nights[0] / "matrix" / "items").glob("*.json"))) == len(items)
    recorded = plan.load_durations(tmp_path / "matrix-state" / "durations.json")
    assert len(recorded) == len(items) - 1 and lost not in recorded
