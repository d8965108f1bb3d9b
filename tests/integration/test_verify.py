"""Restore verification on real guests: a migration verifies clean, and a change to the task is caught."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab import migrate, runner
from lab.machine import Machine

from .test_guest import cfg

pytestmark = pytest.mark.guest

WORKLOAD = "setsid sh -c 'cd /tmp && exec sleep 1000' </dev/null >/dev/null 2>&1 & echo $!"


def _migrate(built: runner.Built, log_dir: Path, while_held: str = "") -> migrate.Migration:
    with Machine(cfg(built, "a"), log_dir) as a, Machine(cfg(built, "b"), log_dir) as b:
        pid = a.ssh.run(WORKLOAD, 10, check=True).stdout.strip()
        mig = migrate.migrate_process(a, b, pid, via="host", check=True, while_held=while_held, timeout=120)
        assert mig.ok, mig.restart_log
        assert b.ssh.run(f"kill -0 {mig.new_pid}", 10).ok, "the restored task runs on after the snapshot"
        assert not a.ssh.run(f"kill -0 {pid}", 10).ok
        return mig


def test_migration_verifies_and_a_changed_nice_value_is_caught(built: runner.Built, log_dir: Path) -> None:
    clean = _migrate(built, log_dir)
    assert clean.verdict is not None and clean.verdict.ok, clean.verdict
    assert clean.before is not None and any(k.endswith(".sum") for k in clean.before)
    # the same migration, with the held task reniced behind the C/R's back: the lab must say so
    changed = _migrate(built, log_dir, while_held="renice -n 7 -p {pid}")
    assert changed.verdict is not None
    assert {d.key for d in changed.verdict.unexpected} == {"stat.nice", "stat.priority"}


def test_lab_verify_on_two_live_pids_in_a_shell_guest(built: runner.Built, log_dir: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from lab import cli

    with Machine(cfg(built, "a"), log_dir) as a:
        a.ssh.save(log_dir / cli.GUEST_FILE)
        one = a.ssh.run(WORKLOAD, 10, check=True).stdout.strip()
        other = a.ssh.run(WORKLOAD.replace("cd /tmp", "cd /root"), 10, check=True).stdout.strip()
        assert cli.main(["verify", "--guest", str(log_dir), one, one]) == 0
        capsys.readouterr()
        assert cli.main(["verify", "--guest", str(log_dir), one, other]) == 1
        out = capsys.readouterr().out
        assert any(line.startswith("DIFFERS  proc.cwd:") for line in out.splitlines()), out
        # a snapshot file on one side, a live pid on the other
        snap = log_dir / "one.snap"
        snap.write_text(a.ssh.run(f"procsnap {one}", 30, check=True).stdout)
        assert cli.main(["verify", "--guest", str(log_dir), str(snap), one]) == 0
    # the guest is gone: the error says so instead of a traceback
    assert cli.main(["verify", "--guest", str(log_dir), one, one]) == 2
    assert "is its `lab shell` still up?" in capsys.readouterr().err
