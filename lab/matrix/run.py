"""Run matrix items: each cell's scenario through the scenario runner, one JSON result per item.

An item's status is ``pass``, ``fail`` (the scenario failed: a C/R or kernel problem), ``infra``
(the guests did not boot and their consoles show no kernel problem, e.g. a CPU model QEMU rejects,
or the cell's kernel did not build) or ``skip`` (a KVM cell on a host whose probe boot fails).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import command, console, image, kernel, machine, packages, paths, runner
from .plan import Item, apply, slug
from .spec import Cell

ITEMS_DIR = "items"  # under the matrix results directory
CONSOLE_LINES = 30  # kept in each item's result, so a merged report has them without the artifacts


@dataclass
class ItemResult:
    id: str
    group: str
    scenario: str
    file: str
    cell: dict[str, Any]
    cross: str
    expected: str
    status: str  # pass | fail | infra | skip
    seconds: float
    reason: str = ""
    shard: str = ""
    host: str = ""
    started: str = ""
    result: dict[str, Any] = field(default_factory=dict)  # lab.report.ScenarioResult as a dict
    console: dict[str, str] = field(default_factory=dict)  # guest -> last console lines
    kernel: dict[str, Any] = field(default_factory=dict)  # key, fragments, version of the kernel it ran
    commit: str = ""  # the lab's git commit
    build_s: float = 0.0  # kernel and image build (or cache look-up) before the item ran
    guests: dict[str, dict[str, Any]] = field(default_factory=dict)  # the hardware each guest had

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ItemResult:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def write(res: ItemResult, items_dir: Path) -> Path:
    items_dir.mkdir(parents=True, exist_ok=True)
    path = items_dir / f"{slug(res.id)}.json"
    path.write_text(json.dumps(res.__dict__, indent=2) + "\n")
    return path


def read_dir(items_dir: Path) -> list[ItemResult]:
    return [ItemResult.from_dict(json.loads(p.read_text())) for p in sorted(items_dir.glob("*.json"))]


def classify(result: dict[str, Any]) -> tuple[str, str]:
    """Status and reason of a scenario result (``ScenarioResult.to_dict()``)."""
    if result.get("passed"):
        return "pass", ""
    kernel_findings = any(result.get("findings", {}).values())
    if result.get("infra_error") and not kernel_findings:
        return "infra", str(result["infra_error"])
    first = str(result.get("error") or "").strip().splitlines()
    return "fail", first[0][:300] if first else "failed"


def console_tails(artifacts: Path) -> dict[str, str]:
    """Each guest's last console lines, from a run's artifact directory."""
    return {log.name.removesuffix(".console.log"): console.tail(log, CONSOLE_LINES)
            for log in sorted(artifacts.glob("*.console.log"))}


def from_scenario_result(result: dict[str, Any], cell: Cell, defaults: Cell) -> ItemResult:
    """A scenario run outside the matrix (``pytest scenarios/``) as an item: ``DIR/SCENARIO@CELL``."""
    group = Path(str(result.get("file", "x/x"))).parent.name or "scenarios"
    status, reason = classify(result)
    artifacts = Path(str(result.get("artifacts", "")))
    return ItemResult(f"{group}/{result['scenario']}@{cell.key(defaults)}", group, str(result["scenario"]),
                      str(result.get("file", "")), cell.values(), "", "", status, float(result.get("seconds", 0.0)),
                      reason=reason, host=socket.gethostname(), result=result,
                      console=console_tails(artifacts) if artifacts.is_dir() else {})


class KvmProbe:
    """Whether KVM works here: lab.machine's probe boot, once per run (cached per host by machine)."""

    def __init__(self) -> None:
        self.verdict: bool | None = None

    def __call__(self, built: runner.Built, log_dir: Path) -> bool:
        if self.verdict is None:
            if not machine.kvm_usable():
                self.verdict = False
            else:
                cfg = machine.MachineConfig(name="kvmprobe", kernel=built.kernel.image, initrd=built.image.initrd)
                self.verdict = machine.resolve_accel("auto", cfg, log_dir) == "kvm"
        return self.verdict


def run_item(item: Item, *, builds: dict[tuple[str, ...], runner.Built | str],
             kvm: Callable[[runner.Built, Path], bool],
             shard: str = "") -> ItemResult:
    """Run one item; never raises for a failure of the item itself (its status says it)."""
    sc = apply(item.cell, item.scenario)
    base = ItemResult(item.id, item.group, sc.name, str(item.scenario.path), item.cell.values(), item.cross,
                      item.expected, "fail", 0.0, shard=shard, host=socket.gethostname(),
                      started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    t0 = time.monotonic()
    frags = sc.kernel_fragments
    if frags not in builds:
        try:
            builds[frags] = runner.build_all(frags)
        except (kernel.KernelBuildError, image.ImageBuildError, packages.PackageError, command.CommandError) as exc:
            # once per configuration: the other items of this kernel are not built again
            builds[frags] = f"kernel or image build ({'+'.join(frags) or 'default'}): {str(exc).strip()[:2000]}"
    built = builds[frags]
    base.build_s = round(time.monotonic() - t0, 2)
    if isinstance(built, str):
        base.status, base.reason = "infra", built
        return base
    t0 = time.monotonic()  # an item's seconds are its own: the build serves every item of its kernel
    meta = built.kernel.metadata()
    base.kernel = {"key": built.kernel.key, "fragments": meta.get("fragments", []),
                   "version": meta.get("base_version", ""), "release": meta.get("kernel_release", "")}
    if item.cell.accel == "kvm" and not kvm(built, runner.new_artifact_dir("kvmprobe")):
        base.status, base.reason = "skip", "KVM: the probe boot does not reach init on this host"
        return base
    artifacts = runner.new_artifact_dir(item.slug())
    try:
        result = runner.run_scenario(sc, accel=item.cell.accel, built=built, artifacts=artifacts)
        passed = True
    except runner.ScenarioFailure as exc:
        result, passed = exc.result, False
    base.result = result.to_dict()
    base.result["passed"] = passed
    base.status, base.reason = classify(base.result)
    base.seconds = round(time.monotonic() - t0, 2)
    base.console = console_tails(artifacts)
    base.guests = {g.name: {"cpu": g.cpu, "machine": g.machine, "smp": g.smp, "memory_mib": g.memory_mib}
                   for g in sc.guests}
    proof = item.cell.console_proof()
    if base.status == "pass" and proof:
        lacking = [log.name for log in sorted(artifacts.glob("*.console.log")) if proof not in log.read_text()]
        if lacking:
            base.status, base.reason = "fail", f"the cell's kernel did not say {proof!r} on {', '.join(lacking)}"
    return base


def lab_commit() -> str:
    out = command.run(["git", "-C", str(paths.REPO), "rev-parse", "HEAD"], check=False)
    return out.stdout.strip() if out.returncode == 0 else ""


def run_items(items: list[Item], results_dir: Path, *, shard: str = "",
              echo: Callable[[str], None] = print) -> list[ItemResult]:
    """Run ``items`` one after the other, writing ``results_dir/items/ID.json`` as each ends."""
    builds: dict[tuple[str, ...], runner.Built | str] = {}  # a str: why it could not be built
    kvm = KvmProbe()
    commit = lab_commit()
    out = []
    for n, item in enumerate(items, 1):
        res = run_item(item, builds=builds, kvm=kvm, shard=shard)
        res.commit = commit
        write(res, results_dir / ITEMS_DIR)
        out.append(res)
        tail = f"  ({res.reason})" if res.reason else ""
        echo(f"[{n}/{len(items)}] {res.status.upper():5} {res.id}  {res.seconds:.1f}s{tail}")
    return out


def default_results_dir() -> Path:
    return Path(os.environ.get("LAB_RESULTS", "results"))
