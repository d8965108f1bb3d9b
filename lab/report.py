"""Results of scenario runs: dataclasses serialised to JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

INLINE_OUTPUT = 4096  # longer output is kept whole in a file in the artifacts, its tail here


@dataclass
class CommandRecord:
    """One guest command a step ran, with its output (the tail, if ``output_file`` has it all)."""

    guest: str
    command: str
    exit_status: int
    seconds: float
    stdout: str
    stderr: str
    output_file: str = ""


@dataclass
class StepResult:
    """A step as it ran: its main command's output (the last one it ran) and every command."""

    title: str
    kind: str
    line: int
    seconds: float
    ok: bool = False
    exit_status: int | None = None
    stdout: str = ""
    stderr: str = ""
    commands: list[CommandRecord] = field(default_factory=list)


@dataclass
class ScenarioResult:
    scenario: str
    file: str
    artifacts: str
    passed: bool = False
    accel: str = ""
    seconds: float = 0.0
    boot_seconds: dict[str, float] = field(default_factory=dict)
    steps: list[StepResult] = field(default_factory=list)
    findings: dict[str, list[str]] = field(default_factory=dict)
    measurements: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    infra_error: str = ""  # the guests did not boot (e.g. a CPU model QEMU rejects): not a C/R failure

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def write_json(result: ScenarioResult | list[ScenarioResult], path: Path) -> None:
    data = [r.to_dict() for r in result] if isinstance(result, list) else result.to_dict()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
