"""pytest collection of YAML scenarios (pytest's own non-python example, grown up).

Each ``*.yaml`` under a directory whose conftest loads this plugin becomes one test item. A failing
scenario is reported with its step, command, output and console excerpt (``repr_failure``).
Options: ``--accel auto|kvm|tcg``, ``--lab-json FILE`` (all results as JSON).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import report, runner, scenario

_results: list[report.ScenarioResult] = []
_built: dict[tuple[str, ...], runner.Built] = {}  # by the scenario's extra kernel fragments


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lab")
    group.addoption("--accel", choices=("auto", "kvm", "tcg"), default="auto",
                    help="QEMU accelerator for scenario guests (default: probe KVM, else TCG)")
    group.addoption("--lab-json", default=None, help="write every scenario result to this JSON file")


def pytest_configure(config: pytest.Config) -> None:
    # A SIGTERM to the test process unwinds like Ctrl-C, so every guest is shut down.
    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_term)


def pytest_unconfigure(config: pytest.Config) -> None:
    # Interrupted xdist workers can die before their guests' run dirs are removed (their QEMUs die
    # with them through PDEATHSIG); the main process sweeps what they left once they are gone.
    if not hasattr(config, "workerinput"):
        from .machine import sweep_stale_run_dirs

        sweep_stale_run_dirs()


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix == ".yaml":
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        try:
            spec = scenario.load(self.path)
        except scenario.ScenarioError as exc:
            raise self.CollectError(str(exc)) from exc
        for engine in spec.engines:
            one = spec.for_engine(engine)
            yield ScenarioItem.from_parent(self, name=one.name, spec=one)


class ScenarioItem(pytest.Item):
    def __init__(self, *, spec: scenario.Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.add_marker(pytest.mark.guest)

    def runtest(self) -> None:
        extra = self.spec.kernel_fragments
        if extra not in _built:
            _built[extra] = runner.build_all(extra)
        accel = self.config.getoption("--accel")
        try:
            result = runner.run_scenario(self.spec, accel=accel, built=_built[extra])
        except runner.ScenarioFailure as exc:
            _results.append(exc.result)
            raise
        _results.append(result)
        self.user_properties.append(("accel", result.accel))
        self.user_properties.append(("seconds", result.seconds))
        for k, v in result.measurements.items():
            self.user_properties.append((k, v))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, runner.ScenarioFailure):
            return f"scenario {self.spec.name} ({self.spec.path}) failed:\n{excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario: {self.spec.name}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = session.config.getoption("--lab-json")
    if target and _results:
        path = Path(target)
        worker = getattr(session.config, "workerinput", {}).get("workerid")
        if worker:
            path = path.with_name(f"{path.stem}.{worker}{path.suffix}")
        report.write_json(_results, path)
