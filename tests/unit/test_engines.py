"""The guest command lines of the C/R engines (no guest: a machine that records what it is asked)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from lab import engines
from lab.machine import Machine
from lab.ssh import Result


@dataclass
class Recorder:
    """Stands in for ``Machine.ssh``: records each command and answers with ``out``."""

    out: list[str]
    commands: list[str] = field(default_factory=list)

    def run(self, command: str, timeout: float, check: bool = False) -> Result:
        self.commands.append(command)
        return Result(command, 0, self.out.pop(0) if self.out else "", "")


@dataclass
class FakeMachine:
    ssh: Recorder
    cfg: Any = None


def machine(*out: str) -> tuple[Machine, Recorder]:
    rec = Recorder(list(out))
    return cast(Machine, FakeMachine(rec)), rec


def test_kernel_checkpoint_of_a_pid_namespace_is_checkpoint_n() -> None:
    kernel = engines.get("kernel")
    assert kernel.checkpoint_command("7", "/tmp/i", "/tmp/l", "/c") == "checkpoint 7 -o /tmp/i -l /tmp/l"
    assert kernel.checkpoint_command("7", "/tmp/i", "/tmp/l", "/c", pidns=True) == "checkpoint -N 7 -o /tmp/i -l /tmp/l"


def test_kernel_restart_of_a_pid_namespace_holds_the_new_init() -> None:
    m, rec = machine("41\n")
    r = engines.get("kernel").start_restart(m, "/tmp/i", "/tmp/l", "/", True, "7", 60, pidns=True, ghosts=True)
    assert r.holder == "41" and r.pid == ""
    assert "exec restart -H /tmp/lab-restart.held -N -G -i /tmp/i -l /tmp/l" in rec.commands[0]


def test_kernel_restart_of_a_pid_namespace_unheld_is_the_tool_s_child() -> None:
    m, rec = machine("41\n", "42\n")
    r = engines.get("kernel").start_restart(m, "/tmp/i", "/tmp/l", "/", False, "7", 60, pidns=True)
    assert (r.holder, r.pid) == ("41", "42")
    assert "exec restart -N -i /tmp/i" in rec.commands[0] and "/proc/41/task/41/children" in rec.commands[1]


@pytest.mark.parametrize("name", ["criu", "etckpt"])
def test_engines_without_pid_namespaces_refuse_them(name: str) -> None:
    m, _ = machine()
    with pytest.raises(ValueError, match="pid namespace"):
        engines.get(name).start_restart(m, "/tmp/i", "/tmp/l", "/", True, "7", 60, pidns=True)
