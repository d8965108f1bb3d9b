"""A tiny matrix run with real guests: one cross-CPU pair each way (an expected refusal, an expected
success) as two shards, a cell QEMU cannot boot as an infrastructure error, and the merged report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab import cli, runner
from lab.matrix import results

pytestmark = pytest.mark.guest
REPO = Path(__file__).resolve().parents[2]


def test_two_shards_of_a_tiny_matrix_then_merge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str], built: runner.Built) -> None:
    monkeypatch.setenv("LAB_ARTIFACTS", str(tmp_path / "artifacts"))
    m = tmp_path / "tiny.yaml"
    m.write_text(f"root: {REPO / 'scenarios'}\ngroups:\n"
                 "  - name: cross\n    cross_cpu: [max, Haswell]\n    scenarios: [checkpoint/cross_cpu.yaml]\n"
                 "  - name: broken\n    matrix:\n      cpu: ['Haswell,nosuchfeature=on']\n"
                 "    scenarios: [smoke/boot.yaml]\n")
    assert cli.main(["matrix", str(m), "--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in listed] == ["cross/checkpoint-cross-cpu@max->Haswell",
                                                 "cross/checkpoint-cross-cpu@Haswell->max",
                                                 "broken/smoke-boot@cpu=Haswell,nosuchfeature=on"]
    rcs = [cli.main(["matrix", str(m), "--shard", f"{k}/2", "--results", str(tmp_path / f"s{k}")]) for k in (1, 2)]
    capsys.readouterr()
    assert sorted(rcs) == [0, 1]  # the shard with the broken cell fails; the other passes
    assert cli.main(["report", "merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "-o", str(tmp_path / "all")]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "2 passed, 1 failed, 0 skipped"
    got = {i.id: i for i in results.find_items(tmp_path / "all")}
    refused, ok = got["cross/checkpoint-cross-cpu@max->Haswell"], got["cross/checkpoint-cross-cpu@Haswell->max"]
    assert refused.status == "pass" and refused.expected.startswith("restart refused: Haswell lacks xfeatures")
    assert "restart: error -95: image needs xfeatures" in refused.result["measurements"]["restart_error"]
    assert ok.status == "pass" and ok.expected == "success" and ok.result["measurements"]["downtime_s"] > 0
    broken = got["broken/smoke-boot@cpu=Haswell,nosuchfeature=on"]
    assert broken.status == "infra" and "did not boot" in broken.reason  # not a C/R failure
    page = (tmp_path / "all" / "report.html").read_text()
    assert page.count('class="grid"') == 2 and "<svg" in page and "<script" not in page
    kcidb = json.loads((tmp_path / "all" / "kcidb.json").read_text())
    assert sorted(t["status"] for t in kcidb["tests"]) == ["ERROR", "PASS", "PASS"]
