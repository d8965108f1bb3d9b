"""Run a scenario: boot its guests, execute its steps in order, classify consoles, report.

The runner only orchestrates: the step kinds live in ``lab.steps``. A failing step raises
:class:`lab.steps.StepFailure` carrying the step, the command and its output; the run adds a
console excerpt and leaves every log in the run's artifact directory.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import console, image, kernel, paths, report, steps
from .machine import Link, Machine, MachineConfig, MachineError, NetPort, Runstate
from .network import Switch, net_address
from .scenario import Scenario
from .ssh import Result, SSHError
from .steps import Context, StepFailure
from .steps.base import poll_sh
from .steps.link import link_address
from .steps.process import CGROUP_ROOT, freeze_commands

__all__ = ["CGROUP_ROOT", "Built", "ScenarioFailure", "build_all", "freeze_commands", "poll_sh", "run_scenario"]


class ScenarioFailure(Exception):
    """The scenario failed; the message is a readable report (step, command, output, console)."""

    def __init__(self, message: str, result: report.ScenarioResult) -> None:
        self.result = result
        super().__init__(message)


@dataclass
class Built:
    kernel: kernel.KernelBuild
    image: image.GuestImage


def build_all(extra_fragments: Sequence[str] = ()) -> Built:
    """Kernel (the default fragments + ``extra_fragments``) and guest image, both cached."""
    kb = kernel.build_kernel(kernel.default_inputs(extra_fragments))
    return Built(kb, image.build_image(kb))


def new_artifact_dir(name: str) -> Path:
    root = paths.artifacts_dir()
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(tempfile.mkdtemp(prefix=f"{name}-{stamp}-", dir=root))


def run_scenario(scenario: Scenario, *, accel: str = "auto", built: Built | None = None,
                 artifacts: Path | None = None) -> report.ScenarioResult:
    """Run ``scenario``; return its result, or raise :class:`ScenarioFailure` with the evidence."""
    built = built or build_all(scenario.kernel_fragments)
    artifacts = artifacts or new_artifact_dir(scenario.name)
    result = report.ScenarioResult(scenario=scenario.name, file=str(scenario.path), artifacts=str(artifacts))
    start = time.monotonic()
    failure: str | None = None
    machines: dict[str, Machine] = {}
    with ExitStack() as stack:
        tmp = paths.new_run_dir("run")
        stack.callback(shutil.rmtree, tmp, True)
        extra = image.scenario_layers(scenario.sources(), built.kernel, scenario.binaries(), scenario.trees(),
                                      scenario.packages)
        initrd = image.compose_initrd(built.image, extra, tmp / "initrd.cpio")
        if scenario.network:
            switch = Switch(tmp / "switch", artifacts / "switch.log")
            switch.start()
            stack.callback(switch.stop)
        for index, g in enumerate(scenario.guests):
            link = None
            if scenario.link and g.name in scenario.link:
                peer = scenario.link[1] if g.name == scenario.link[0] else scenario.link[0]
                link = Link(tmp, g.name, peer, link_address(scenario, g.name))
            net = (NetPort(tmp / "switch", net_address(scenario.network, g.name))
                   if g.name in scenario.network else None)
            cfg = MachineConfig(name=g.name, kernel=built.kernel.image, initrd=initrd,
                                memory_mib=g.memory_mib, smp=g.smp, cpu=g.cpu, machine=g.machine,
                                accel=accel, append=g.append, link=link, net=net, index=index)
            m = Machine(cfg, artifacts)
            stack.callback(_shutdown_quietly, m)
            machines[g.name] = m
        ctx = Context(scenario, machines, artifacts)
        # built in: where this run keeps its artifacts and the scenario file (e.g. for a printed
        # replay command), then the scenario's params
        ctx.variables.update({"artifacts": str(artifacts), "scenario_file": str(scenario.path),
                              **dict(scenario.params)})
        try:
            try:
                for m in machines.values():
                    m.launch(wait_ssh=False)
                for m in machines.values():
                    result.boot_seconds[m.cfg.name] = round(m.wait_ssh(), 2)
            except MachineError as exc:
                result.infra_error = f"guest did not boot: {str(exc).splitlines()[0]}"
                raise
            result.accel = next(iter(machines.values())).accel
            for index, step in enumerate(scenario.steps):
                t0 = time.monotonic()
                if time.monotonic() - start > scenario.timeout:
                    raise StepFailure(step, f"scenario timeout of {scenario.timeout:.0f} s reached")
                record = report.StepResult(step.title, step.kind, step.line, 0.0)
                result.steps.append(record)
                try:
                    with _recording(machines, record, artifacts / "steps" / f"{index:02d}"):
                        steps.KINDS[step.kind].handler(ctx, step)
                except SSHError as exc:
                    raise StepFailure(step, str(exc)) from exc
                finally:
                    record.seconds = round(time.monotonic() - t0, 3)
                record.ok = True
        except StepFailure as exc:
            failure = str(exc)
        except Exception as exc:  # noqa: BLE001 - any lab error fails the scenario with evidence
            failure = f"{type(exc).__name__}: {exc}"
        result.measurements.update(ctx.measurements)
    # All guests are down: the consoles are complete.
    problems = console_problems(scenario, machines, result)
    result.seconds = round(time.monotonic() - start, 2)
    if failure or problems:
        parts = [failure] if failure else []
        if problems:
            parts.append("console findings:\n" + "\n".join(problems))
        elif failure:
            for name, m in machines.items():
                parts.append(f"console of {name} ({m.console_log}), last lines:\n{console.tail(m.console_log, 15)}")
        parts.append(f"artifacts: {artifacts}")
        result.passed = False
        result.error = "\n\n".join(parts)
        report.write_json(result, artifacts / "result.json")
        raise ScenarioFailure(result.error, result)
    result.passed = True
    report.write_json(result, artifacts / "result.json")
    return result


@contextmanager
def _recording(machines: dict[str, Machine], record: report.StepResult, prefix: Path) -> Iterator[None]:
    """Keep every guest command the step runs in ``record``; the last one is its main command."""
    def observer(name: str) -> Callable[[Result, float], None]:
        def observe(res: Result, seconds: float) -> None:
            n = len(record.commands)
            out_file = ""
            if len(res.stdout) + len(res.stderr) > report.INLINE_OUTPUT:
                path = prefix.with_name(f"{prefix.name}-{n}.out")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(f"$ {res.command}\nexit status {res.status}\n--- stdout\n{res.stdout}"
                                f"\n--- stderr\n{res.stderr}")
                out_file = str(path)
            tail = report.INLINE_OUTPUT // 2
            record.commands.append(report.CommandRecord(
                name, res.command, res.status, round(seconds, 3), res.stdout[-tail:], res.stderr[-tail:],
                out_file))
            record.exit_status, record.stdout, record.stderr = res.status, res.stdout[-tail:], res.stderr[-tail:]
        return observe

    attached = []
    for name, m in machines.items():
        if m.state is Runstate.RUNNING:
            fn = observer(name)
            m.ssh_observers().append(fn)
            attached.append((m, fn))
    try:
        yield
    finally:
        for m, fn in attached:
            if fn in m.ssh_observers():
                m.ssh_observers().remove(fn)


def console_problems(scenario: Scenario, machines: dict[str, Machine],
                     result: report.ScenarioResult) -> list[str]:
    """Unexpected findings on any guest; expected kinds missing from every guest."""
    problems = []
    seen: set[str] = set()
    for name, m in machines.items():
        findings = console.classify_file(m.console_log)
        result.findings[name] = [f"{f.kind}: {f.line}" for f in findings]
        for f in findings:
            seen.add(f.kind)
            if f.kind not in scenario.expect_console:
                problems.append(f"guest {name}: {f}")
    for kind in scenario.expect_console:
        if kind not in seen:
            problems.append(f"expected a {kind} on a console, none seen")
    return problems


def _shutdown_quietly(m: Machine) -> None:
    try:
        m.shutdown()
    except Exception:  # noqa: BLE001 - it is down either way; the console tells the story
        pass


