from pathlib import Path

import pytest

from lab import console

DATA = Path(__file__).parent / "data" / "consoles"


def kinds(name: str) -> list[str]:
    return [f.kind for f in console.classify_file(DATA / name)]


def test_clean_console_has_no_findings() -> None:
    assert kinds("clean.log") == []


def test_warning_is_one_finding_with_its_trace() -> None:
    findings = console.classify_file(DATA / "warning.log")
    assert [f.kind for f in findings] == ["warning"]
    assert "restore_mm" in findings[0].excerpt
    assert "end trace" in findings[0].excerpt
    assert findings[0].line_no == 4


def test_oops_reports_bug_line_first() -> None:
    found = kinds("oops.log")
    assert found[0] == "bug"
    assert "oops" in found


def test_panic() -> None:
    findings = console.classify_file(DATA / "panic.log")
    assert findings[0].kind == "panic"
    assert "sysrq triggered crash" in findings[0].line


def test_hung_task_and_soft_lockup() -> None:
    assert kinds("hung.log")[:2] == ["hung_task", "soft_lockup"]


def test_kasan_and_lockdep() -> None:
    found = kinds("kasan.log")
    assert found[0] == "kasan"
    assert "lockdep" in found


@pytest.mark.parametrize("line,kind", [
    ("[ 1.0] general protection fault, probably for non-canonical address", "oops"),
    ("[ 1.0] kernel BUG at mm/mmap.c:3146!", "bug"),
    ("[ 1.0] UBSAN: shift-out-of-bounds in kernel/checkpoint/sys.c:10:5", "ubsan"),
    ("[ 1.0] rcu: INFO: rcu_sched self-detected stall on CPU", "rcu_stall"),
    ("[ 1.0] CPU: 0 PID: 1 Comm: init Tainted: G        W          6.1.0 #1", "taint"),
])
def test_single_lines(line: str, kind: str) -> None:
    assert [f.kind for f in console.classify(line)] == [kind]


def test_missing_log_is_empty() -> None:
    assert console.classify_file(DATA / "nope.log") == []
