import json
from pathlib import Path

import pytest

from lab import bench, report, summary


def test_summary_reads_worker_files_and_fails_on_any_failure(tmp_path: Path) -> None:
    ok = report.ScenarioResult("migrate-link", "x.yaml", "/a", passed=True, accel="tcg", seconds=12.5,
                               measurements={"downtime_s": 0.81, "image_bytes": 1234})
    bad = report.ScenarioResult("migrate-host", "y.yaml", "/b", passed=False, accel="tcg", seconds=3.0,
                                error="step 'restart' failed: exit status 1\nmore")
    report.write_json([ok], tmp_path / "migrate.gw0.json")
    report.write_json([bad], tmp_path / "migrate.gw1.json")
    rows = summary.load(tmp_path, "migrate")
    text = summary.render(rows)
    assert "PASS  migrate-link" in text and "downtime_s=0.810" in text and "image_bytes=1234" in text
    assert "FAIL  migrate-host" in text and "step 'restart' failed" in text and "artifacts: /b" in text
    assert text.splitlines()[-1] == "1 passed, 1 failed"
    assert summary.main([str(tmp_path), "migrate"]) == 1
    (tmp_path / "migrate.gw1.json").unlink()
    assert summary.main([str(tmp_path), "migrate"]) == 0


def test_summary_with_no_results_fails(tmp_path: Path) -> None:
    assert summary.main([str(tmp_path), "migrate"]) == 1


def test_result_json_roundtrip(tmp_path: Path) -> None:
    r = report.ScenarioResult("s", "f", "a")
    r.steps.append(report.StepResult("run x", "run", 3, 0.5, True))
    report.write_json(r, tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["steps"][0] == {"title": "run x", "kind": "run", "line": 3, "seconds": 0.5, "ok": True,
                                "exit_status": None, "stdout": "", "stderr": "", "commands": []}


def test_bench_parsers() -> None:
    assert bench.parse_sizes("16M,64M,1G") == [16, 64, 1024]
    assert bench.parse_fields("memcpy_mbs=812.5 checkpoint_s=0.2 bytes=99") == {
        "memcpy_mbs": "812.5", "checkpoint_s": "0.2", "bytes": "99"}
    assert bench.summarize([3.0, 1.0, 2.0]) == "median=2.00 min=1.00 max=3.00 runs=3"


def test_every_command_of_a_step_is_kept_and_long_output_goes_to_a_file(tmp_path: Path) -> None:
    from lab import runner
    from lab.machine import Runstate
    from lab.ssh import Result

    class FakeGuest:
        state = Runstate.RUNNING

        def __init__(self) -> None:
            self.observers: list = []  # type: ignore[type-arg]

        def ssh_observers(self) -> list:  # type: ignore[type-arg]
            return self.observers

    guest = FakeGuest()
    step = report.StepResult("run x", "run", 3, 0.0)
    with runner._recording({"a": guest}, step, tmp_path / "steps" / "00"):  # type: ignore[dict-item]
        for fn in guest.observers:
            fn(Result("echo hi", 0, "hi\n", ""), 0.01)
            fn(Result("big", 3, "x" * 10_000, "err"), 0.5)
    assert guest.observers == []  # detached after the step
    assert [c.command for c in step.commands] == ["echo hi", "big"]
    assert step.exit_status == 3 and step.stderr == "err" and len(step.stdout) == report.INLINE_OUTPUT // 2
    kept = Path(step.commands[1].output_file).read_text()
    assert "x" * 10_000 in kept and step.commands[0].output_file == ""


def test_summary_table_for_a_terminal_shows_verdicts_and_failures() -> None:
    from rich.console import Console

    rows = [report.ScenarioResult("migrate-link", "x.yaml", "/a", passed=True, accel="tcg", seconds=6.4,
                                  measurements={"downtime_s": 2.09, "known_gaps": "proc.auxv(#10)"}).to_dict(),
            report.ScenarioResult("migrate-host", "y.yaml", "/b", passed=False, accel="tcg", seconds=3.0,
                                  error="step 'restart' failed: [bad] exit status 1").to_dict()]
    console = Console(record=True, width=160, force_terminal=False)
    console.print(summary.render_table(rows))
    text = console.export_text()
    assert "PASS" in text and "FAIL" in text and "downtime_s=2.090" in text
    assert "[bad] exit status 1" in text and "artifacts: /b" in text  # markup in errors is escaped


def test_bench_reads_timeit_and_keeps_a_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse
    import json

    assert bench.seconds("some output\ntimeit: 0.123456 s\n") == 0.123456
    with pytest.raises(ValueError):
        bench.seconds("timeit: usage\n")
    monkeypatch.setattr(bench, "BENCH_RESULTS", tmp_path)
    args = argparse.Namespace(runs=3, func=print)
    path = bench.record("boot", args, {"median_s": 0.9}, [0.8, 0.9, 1.0])
    rec = json.loads(path.read_text())
    assert rec["bench"] == "boot" and rec["args"] == {"runs": 3} and rec["runs"] == [0.8, 0.9, 1.0]
    assert rec["machine"]["cores"] and "cpu" in rec["machine"]
    history = (tmp_path / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["medians"] for line in history] == [{"median_s": 0.9}]


def test_longest_first_orders_by_last_seconds_unknown_first() -> None:
    from lab.pytest_plugin import longest_first

    ids = ["a.yaml::a", "b.yaml::b", "c.yaml::c", "d.yaml::d", "e.yaml::e"]
    known = {"a.yaml::a": 3.0, "b.yaml::b": 20.5, "d.yaml::d": 3, "e.yaml::e": "junk"}
    # c never ran and e's entry is not a number: both first, in the given order; a and d tie
    assert [ids[i] for i in longest_first(ids, known)] == ["c.yaml::c", "e.yaml::e", "b.yaml::b",
                                                          "a.yaml::a", "d.yaml::d"]


def test_longest_first_keeps_order_without_history() -> None:
    from lab.pytest_plugin import longest_first

    assert longest_first(["x", "y", "z"], None) == [0, 1, 2]
    assert longest_first(["x", "y", "z"], {}) == [0, 1, 2]
