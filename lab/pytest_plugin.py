"""pytest collection of YAML scenarios (pytest's own non-python example, grown up).

Each ``*.yaml`` under a directory whose conftest loads this plugin becomes one test item. A failing
scenario is reported with its step, command, output and console excerpt (``repr_failure``).
Options: ``--accel auto|kvm|tcg``, ``--lab-json FILE`` (all results as JSON, and ``report.html``
beside it: the matrix report of this run), ``--lab-cell cpu=Haswell,kernel=debug,...`` (every
scenario on one cell of the nightly matrix, as ``lab matrix`` would run it).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import report, runner, scenario

if TYPE_CHECKING:
    from .matrix.spec import Cell

_results: list[report.ScenarioResult] = []
_seconds: dict[str, float] = {}  # node id -> how long its run took, in this session
SECONDS_KEY = "lab/scenario-seconds"  # pytest's cache: node id -> seconds of its last run
_built: dict[tuple[str, ...], runner.Built] = {}  # by the scenario's extra kernel fragments
CELL = pytest.StashKey["Cell"]()  # the --lab-cell


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lab")
    group.addoption("--accel", choices=("auto", "kvm", "tcg"), default="auto",
                    help="QEMU accelerator for scenario guests (default: probe KVM, else TCG)")
    group.addoption("--lab-json", default=None, help="write every scenario result to this JSON file "
                    "(and report.html beside it)")
    group.addoption("--lab-cell", default="", metavar="AXIS=VALUE,...",
                    help="run every scenario on this matrix cell (axes of matrix files: cpu, machine, smp, "
                    "memory, accel, kernel, preempt, cgroup)")


def pytest_configure(config: pytest.Config) -> None:
    from .matrix import spec

    try:
        config.stash[CELL] = spec.parse_cell(config.getoption("--lab-cell") or "")
    except spec.MatrixError as exc:
        raise pytest.UsageError(str(exc)) from exc
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


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Scenarios under a ``nightly/`` directory are long (fuzz nights, soaks, the full program
    survey): collected only when LAB_NIGHTLY=1 (the nightly matrix sets it); ``lab run FILE`` runs
    one by hand."""
    try:
        parts = collection_path.relative_to(config.rootpath).parts
    except ValueError:
        parts = collection_path.parts
    if os.environ.get("LAB_NIGHTLY") == "1" or "nightly" not in parts:
        return None
    return True


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if scenario.is_scenario_file(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def longest_first(nodeids: list[str], known: object) -> list[int]:
    """The indexes of ``nodeids`` in the order to run them: by the seconds of their last run in
    ``known`` (a node id -> seconds mapping, as pytest's cache holds it: anything else is ignored),
    longest first, those never run before ahead of all, ties in the given order."""
    seconds = known if isinstance(known, dict) else {}

    def cost(i: int) -> tuple[float, int]:
        s = seconds.get(nodeids[i])
        return (-float(s) if isinstance(s, (int, float)) else float("-inf"), i)

    return sorted(range(len(nodeids)), key=cost)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Scenarios longest first (:func:`longest_first`, their last seconds from pytest's cache). Under
    xdist the workers then end together, instead of one of them starting the longest scenario when
    the others are done. Every worker collects, and all must collect one order: the cache is read
    here and written only when the whole session ends (:func:`pytest_sessionfinish`)."""
    cache = getattr(config, "cache", None)  # none with -p no:cacheprovider
    if cache is None or not any(isinstance(item, ScenarioItem) for item in items):
        return
    order = longest_first([item.nodeid for item in items], cache.get(SECONDS_KEY, {}))
    items[:] = [items[i] for i in order]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """The seconds of each scenario's run (in the main process too, under xdist)."""
    if report.when == "call":
        _seconds[report.nodeid] = round(report.duration, 2)


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
        from .matrix import plan
        from .matrix.spec import Cell

        cell = self.config.stash[CELL]
        sc = plan.apply(cell, self.spec) if cell != Cell() else self.spec
        extra = sc.kernel_fragments
        if extra not in _built:
            _built[extra] = runner.build_all(extra)
        given = "accel=" in (self.config.getoption("--lab-cell") or "")
        accel = cell.accel if given else self.config.getoption("--accel")
        try:
            result = runner.run_scenario(sc, accel=accel, built=_built[extra])
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
    if not hasattr(session.config, "workerinput"):
        cache = getattr(session.config, "cache", None)
        if _seconds and cache is not None:
            known = cache.get(SECONDS_KEY, {})
            cache.set(SECONDS_KEY, {**(known if isinstance(known, dict) else {}), **_seconds})
        if target:
            write_report(Path(target), session.config.stash[CELL])


def write_report(json_path: Path, cell: Cell) -> None:
    """``report.html`` beside the results (this process's and every xdist worker's JSON file)."""
    import json

    from .matrix import html, run
    from .matrix.spec import Cell

    rows: list[dict[str, Any]] = []
    for f in sorted(json_path.parent.glob(f"{json_path.stem}*{json_path.suffix}")):
        data = json.loads(f.read_text())
        rows.extend(data if isinstance(data, list) else [data])
    if rows:
        items = [run.from_scenario_result(r, cell, Cell()) for r in rows]
        html.write(html.Run("this run", items), json_path.with_name("report.html"),
                   title=f"scenarios ({json_path.stem})")
