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
