"""Matrix files: the axes of emulated hardware and kernel configuration, and which scenarios run where.

```yaml
defaults: {cpu: max, machine: pc, smp: 1, memory: 256M, accel: tcg, kernel: base, preempt: none, cgroup: v2}
groups:
  - name: cpu-models                 # one CI-style matrix per group
    matrix:                          # axis: [values]; the cells are their product ...
      cpu: [qemu64, Haswell, max]
      machine: [pc, q35]
      exclude: [{cpu: qemu64, machine: q35}]    # ... less every cell an exclude entry matches ...
      include: [{cpu: max, machine: q35, smp: 2}]  # ... extended or added as GitHub Actions does
    scenarios: [smoke/boot.yaml, checkpoint/external_*.yaml]   # globs under `root`
    except_scenarios: [checkpoint/external_freeze_v1.yaml]     # (optional) globs taken out again
  - name: cross-cpu
    cross_cpu: [SandyBridge, Haswell, max]   # every ordered pair X->Y: guest 1 on X, guest 2 on Y
    scenarios: [checkpoint/cross_cpu.yaml]
```

Loading checks every value (CPU models and machine types against what this QEMU knows, kernel
fragments against ``kernel-config/``) and every combination, and reports errors as
``file:line: field: problem`` with the valid values, through the scenario loader
(:class:`lab.scenario.Loader`).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml

from .. import cpufeatures, kernel, paths, scenario
from ..machine import parse_size_mib
from ..scenario import Loader, ScenarioError
from ..steps.base import Spec

AXES = ("cpu", "machine", "smp", "memory", "accel", "kernel", "preempt", "cgroup")
HARDWARE = ("cpu", "machine", "smp", "memory")  # what a cell sets on a scenario's guests
ACCELS = ("tcg", "kvm")
PREEMPT = ("none", "voluntary", "full")
CGROUPS = ("v2", "v1")
PREEMPT_FRAGMENT = "preempt-dynamic"  # one kernel, the model chosen on its command line (preempt=)

_S, _L, _D = (str,), (list,), (dict,)
TOP_FIELDS: Spec = {"name": (_S, False), "description": (_S, False), "root": (_S, False), "defaults": (_D, False),
              "groups": (_L, True)}
GROUP_FIELDS: Spec = {"name": (_S, True), "description": (_S, False), "matrix": (_D, False), "cross_cpu": (_L, False),
                      "params": (_D, False), "scenarios": (_L, True), "except_scenarios": (_L, False)}
AXIS_FIELDS: Spec = {a: ((str, int) if a in ("memory", "smp") else _S, False) for a in AXES}


class MatrixError(ScenarioError):
    """A matrix file is invalid; ``str()`` is ``file:line: field: problem``."""


class _MatrixLoader(Loader):
    error_type = MatrixError


@dataclass(frozen=True)
class Cell:
    """One point of the matrix. ``target_cpu`` is set on cross-CPU cells: guest 2 runs on it."""

    cpu: str = "max"
    machine: str = "pc"
    smp: int = 1
    memory: str = "256M"
    accel: str = "tcg"
    kernel: str = "base"  # "base" (the default fragments) or extra fragments joined by "+"
    preempt: str = "none"
    cgroup: str = "v2"
    target_cpu: str = ""
    params: tuple[tuple[str, str], ...] = ()  # the scenarios' params this cell sets (`params:` of a group)

    def values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def key(self, defaults: Cell) -> str:
        """Stable text of the axes that differ from ``defaults`` (cross-CPU: ``X->Y`` first)."""
        parts = [f"{self.cpu}->{self.target_cpu}"] if self.target_cpu else []
        parts += [f"{a}={getattr(self, a)}" for a in AXES
                  if getattr(self, a) != getattr(defaults, a) and not (self.target_cpu and a == "cpu")]
        parts += [f"{k}={v}" for k, v in self.params]
        return ",".join(parts) or "default"

    @property
    def memory_mib(self) -> int:
        return parse_size_mib(self.memory)

    def fragments(self) -> tuple[str, ...]:
        """Kernel fragments after the default ones (``LAB_KERNEL_FRAGMENTS`` or base + checkpoint)."""
        extra = [] if self.kernel == "base" else self.kernel.split("+")
        if self.preempt != "none" and PREEMPT_FRAGMENT not in extra:
            extra.append(PREEMPT_FRAGMENT)
        return tuple(extra)

    def append(self) -> str:
        """Kernel command line for the cell: the preemption model of a PREEMPT_DYNAMIC kernel, with the
        console at info level so that its "Dynamic Preempt: MODEL" line shows the model took."""
        return "" if self.preempt == "none" else f"preempt={self.preempt} loglevel=7"

    def console_proof(self) -> str:
        """A line every guest console of this cell must show ('' if none)."""
        return "" if self.preempt == "none" else f"Dynamic Preempt: {self.preempt}"


@dataclass(frozen=True)
class Group:
    name: str
    line: int
    cells: tuple[Cell, ...]
    scenarios: tuple[scenario.Scenario, ...]
    cross_cpu: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class MatrixFile:
    path: Path
    name: str
    defaults: Cell
    groups: tuple[Group, ...]
    description: str = ""


@functools.lru_cache(maxsize=1)
def _known_cpus() -> tuple[str, ...]:
    return tuple(cpufeatures.known_models())


@functools.lru_cache(maxsize=1)
def _known_machines() -> tuple[str, ...]:
    return tuple(cpufeatures.known_machines())


def _short(values: tuple[str, ...] | list[str], limit: int = 40) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" ... ({len(values)} in all)" if len(values) > limit else "")


def check_value(loader: Loader, axis: str, value: Any, node: yaml.Node, where: str) -> Any:
    """One axis value, normalised; an unknown one is an error naming the valid values."""
    def bad(valid: str) -> MatrixError:
        err = loader.error(node, where, f"unknown {axis} {value!r} (valid: {valid})")
        assert isinstance(err, MatrixError)
        return err

    if axis == "cpu":
        base = str(value).split(",")[0]  # `model,-feature,+feature` as -cpu takes it
        if base not in _known_cpus():
            plain = tuple(m for m in _known_cpus() if not re.search(r"-v[0-9]+$", m))
            raise bad(f"{_short(plain, 200)}, and their -vN versions")
        return str(value)
    if axis == "machine":
        if value not in _known_machines():
            raise bad(_short(_known_machines()))
        return str(value)
    if axis == "smp":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
            raise bad("an integer from 1 to 64")
        return value
    if axis == "memory":
        try:
            mib = parse_size_mib(value)
        except ValueError:
            raise bad("a size such as 256M or 2G") from None
        if mib < 128:
            raise bad("at least 128M: the guest image is unpacked into memory")
        return f"{mib // 1024}G" if mib % 1024 == 0 else f"{mib}M"
    if axis == "kernel":
        known = kernel.known_fragments()
        names = str(value).split("+")
        if value != "base" and not all(n in known and n != "base" for n in names):
            raise bad(f"base, or fragments of kernel-config/ joined by '+': {', '.join(known)}")
        return str(value)
    choices = {"accel": ACCELS, "preempt": PREEMPT, "cgroup": CGROUPS}[axis]
    if value not in choices:
        raise bad(", ".join(choices))
    return str(value)


def _combination_problem(cell: Cell) -> str:
    """Why a cell cannot exist ('' if it can)."""
    if cell.accel == "tcg" and "host" in (cell.cpu.split(",")[0], cell.target_cpu.split(",")[0]):
        return "cpu host needs accel kvm"
    if cell.machine == "microvm" or cell.machine == "isapc":
        return f"machine {cell.machine} has no PCI for the guest's virtio NICs"
    return ""


def _axis_mapping(loader: Loader, node: yaml.Node, where: str) -> dict[str, tuple[Any, yaml.Node]]:
    got = loader.mapping(node, AXIS_FIELDS, where)
    return {a: (check_value(loader, a, v, n, f"{where}.{a}"), n) for a, (v, n) in got.items()}


def _expand(loader: Loader, node: yaml.Node, where: str, defaults: Cell) -> list[Cell]:
    """GitHub Actions' ``strategy.matrix``: product of the axes, ``exclude`` then ``include``."""
    spec: Spec = {**{a: (_L, False) for a in AXES}, "include": (_L, False), "exclude": (_L, False)}
    raw = loader.mapping(node, spec, where)
    axes: dict[str, list[Any]] = {}
    for axis in AXES:
        if axis not in raw:
            continue
        values, lnode = raw[axis]
        if not values:
            raise loader.error(lnode, f"{where}.{axis}", "a non-empty list of values")
        checked = [check_value(loader, axis, v, n, f"{where}.{axis}[{j}]")
                   for j, (v, n) in enumerate(zip(values, lnode.value, strict=True))]
        for j, v in enumerate(checked):
            if checked.index(v) != j:
                raise loader.error(lnode.value[j], f"{where}.{axis}[{j}]", f"{v!r} given twice")
        axes[axis] = checked
    combos: list[dict[str, Any]] = [dict(zip(axes, p, strict=True)) for p in itertools.product(*axes.values())]
    if not axes:
        combos = [{}]
    for j, enode in enumerate(raw["exclude"][1].value if "exclude" in raw else []):
        entry = {a: v for a, (v, _) in _axis_mapping(loader, enode, f"{where}.exclude[{j}]").items()}
        kept = [c for c in combos if any(c.get(a) != v for a, v in entry.items())]
        if len(kept) == len(combos):
            raise loader.error(enode, f"{where}.exclude[{j}]", "matches no combination of the matrix")
        combos = kept
    for j, inode in enumerate(raw["include"][1].value if "include" in raw else []):
        entry = {a: v for a, (v, _) in _axis_mapping(loader, inode, f"{where}.include[{j}]").items()}
        extended = False
        for c in combos:
            # an include entry extends every combination none of whose original values it overwrites
            if all(c.get(a, v) == v for a, v in entry.items() if a in axes):
                c.update(entry)
                extended = True
        if not extended:
            combos.append(dict(entry))
    cells = []
    for c in combos:
        cell = replace(defaults, **c)
        problem = _combination_problem(cell)
        if problem:
            raise loader.error(node, where, f"invalid combination {cell.key(defaults)}: {problem}")
        if cell not in cells:
            cells.append(cell)
    return cells


def _scenarios(loader: Loader, entry: tuple[Any, yaml.Node], root: Path, where: str) -> list[scenario.Scenario]:
    globs, lnode = entry
    found: list[scenario.Scenario] = []
    for j, (pattern, n) in enumerate(zip(globs, lnode.value, strict=True)):
        field_name = f"{where}[{j}]"
        if not isinstance(pattern, str):
            raise loader.error(n, field_name, "a path or glob under the scenario root")
        paths_ = sorted(p for p in root.glob(pattern) if p.is_file() and scenario.is_scenario_file(p))
        if not paths_:
            raise loader.error(n, field_name, f"no scenario matches {pattern!r} under {root}")
        for p in paths_:
            try:
                sc = scenario.load(p)
            except ScenarioError as exc:
                raise loader.error(n, field_name, f"scenario does not load: {exc}") from exc
            for engine in sc.engines:
                one = sc.for_engine(engine)
                if one.name not in [s.name for s in found]:
                    found.append(replace(one, path=p))
    return found


def _pinned_problem(sc: scenario.Scenario, cells: list[Cell], varied: set[str], cross: bool) -> str:
    """Why ``sc`` cannot run on these cells: it sets varied hardware itself (a guest's memory is its
    minimum instead), or a cross-CPU group lacks a second guest."""
    for i, g in enumerate(sc.guests):
        clash = sorted((g.pinned - {"memory"}) & varied)
        if clash:
            return f"scenario {sc.name} sets guests[{i}].{clash[0]} itself, which this group varies"
        if "memory" in g.pinned and "memory" in varied:
            small = sorted({c.memory for c in cells if c.memory_mib < g.memory_mib})
            if small:
                return (f"scenario {sc.name} needs guests[{i}].memory >= {g.memory_mib}M; exclude the "
                        f"cells with memory {', '.join(small)}")
    if cross and len(sc.guests) < 2:
        return f"scenario {sc.name} has one guest; a cross-CPU group needs a source and a target guest"
    return ""


def parse_cell(text: str, defaults: Cell | None = None, where: str = "--lab-cell") -> Cell:
    """``cpu=Haswell,machine=q35,kernel=debug`` -> a Cell (the others from ``defaults``); the values are
    checked as in a matrix file (MatrixError naming ``where``)."""
    loader = _MatrixLoader(Path(where))
    pairs = [p.partition("=") for p in text.split(",") if p.strip()] if text.strip() else []
    # `cpu=Haswell,-avx` keeps the model's own ,-feature part: a piece without '=' extends the one before
    merged: list[list[str]] = []
    for key, sep, value in pairs:
        if not sep and merged:
            merged[-1][1] += "," + key
        else:
            merged.append([key.strip(), value.strip()])
    typed = {k: yaml.safe_load(v) if v else v for k, v in merged}
    node = yaml.compose(yaml.safe_dump(typed, sort_keys=False) if typed else "{}")
    assert node is not None
    given = _axis_mapping(loader, node, "cell")
    cell = replace(defaults or Cell(), **{a: v for a, (v, _) in given.items()})
    problem = _combination_problem(cell)
    if problem:
        raise loader.error(node, "cell", f"invalid combination {cell.key(Cell())}: {problem}")
    return cell


def load(path: Path) -> MatrixFile:
    """Load, check and expand a matrix file."""
    path = Path(path)
    loader = _MatrixLoader(path)
    top = loader.mapping(loader.compose(), TOP_FIELDS, "")
    root = (path.parent / top["root"][0]).resolve() if "root" in top else paths.REPO / "scenarios"
    if not root.is_dir():
        raise loader.error(top["root"][1] if "root" in top else None, "root", f"no directory {root}")
    defaults = Cell()
    if "defaults" in top:
        given = _axis_mapping(loader, top["defaults"][1], "defaults")
        defaults = replace(defaults, **{a: v for a, (v, _) in given.items()})
    groups: list[Group] = []
    for i, gnode in enumerate(top["groups"][1].value):
        where = f"groups[{i}]"
        g = loader.mapping(gnode, GROUP_FIELDS, where)
        name = g["name"][0]
        if name in [x.name for x in groups]:
            raise loader.error(g["name"][1], f"{where}.name", f"group {name!r} given twice")
        cells = _expand(loader, g["matrix"][1], f"{where}.matrix", defaults) if "matrix" in g else [defaults]
        varied = {a for a in HARDWARE if len({getattr(c, a) for c in cells}) > 1}
        models: list[str] = []
        if "cross_cpu" in g:
            values, lnode = g["cross_cpu"]
            models = [check_value(loader, "cpu", v, n, f"{where}.cross_cpu[{j}]")
                      for j, (v, n) in enumerate(zip(values, lnode.value, strict=True))]
            if len(set(models)) < 2 or len(set(models)) != len(models):
                raise loader.error(lnode, f"{where}.cross_cpu", "at least two different CPU models, each once")
            if "cpu" in {a for a in AXES if "matrix" in g and a in _raw_keys(g["matrix"][1])}:
                raise loader.error(g["matrix"][1], f"{where}.matrix.cpu", "a cross-CPU group takes its CPUs "
                                   "from cross_cpu")
            cells = [replace(c, cpu=x, target_cpu=y) for c in cells for x, y in itertools.permutations(models, 2)]
            for c in cells:
                problem = _combination_problem(c)
                if problem:
                    raise loader.error(g["cross_cpu"][1], f"{where}.cross_cpu",
                                       f"invalid combination {c.key(defaults)}: {problem}")
            varied.add("cpu")
        if "params" in g:
            cells = [replace(c, params=p) for c in cells for p in _param_sets(loader, g["params"], f"{where}.params")]
        found = _scenarios(loader, g["scenarios"], root, f"{where}.scenarios")
        if "except_scenarios" in g:
            dropped = _scenarios(loader, g["except_scenarios"], root, f"{where}.except_scenarios")
            found = [sc for sc in found if sc.path not in {d.path for d in dropped}]
        for sc in found:
            declared = {k for k, _ in sc.params}
            missing_params = sorted({k for c in cells for k, _ in c.params} - declared)
            problem = _pinned_problem(sc, cells, varied, bool(models))
            if missing_params:
                problem = (f"scenario {sc.name} has no param {missing_params[0]!r} "
                           f"(has: {', '.join(sorted(declared)) or 'none'})")
            if problem:
                raise loader.error(g["scenarios"][1], f"{where}.scenarios", problem)
        groups.append(Group(name, gnode.start_mark.line + 1, tuple(cells), tuple(found), tuple(models),
                            g["description"][0] if "description" in g else ""))
    if not groups:
        raise loader.error(top["groups"][1], "groups", "at least one group is needed")
    return MatrixFile(path, top["name"][0] if "name" in top else path.stem, defaults, tuple(groups),
                      top["description"][0] if "description" in top else "")


def _param_sets(loader: Loader, entry: tuple[Any, yaml.Node], where: str) -> list[tuple[tuple[str, str], ...]]:
    """``params: {seed: [1, 2], cycles: [250]}``: every combination of the values, in order."""
    values, node = entry
    names: list[str] = []
    lists: list[list[str]] = []
    for knode, vnode in node.value:
        name, given = str(knode.value), values[knode.value]
        if not isinstance(given, list) or not given or any(isinstance(v, (bool, list, dict)) or v is None
                                                           for v in given):
            raise loader.error(vnode, f"{where}.{name}", "a non-empty list of strings or numbers")
        text = [str(v) for v in given]
        if len(set(text)) != len(text):
            raise loader.error(vnode, f"{where}.{name}", "a value given twice")
        names.append(name)
        lists.append(text)
    return [tuple(zip(names, combo, strict=True)) for combo in itertools.product(*lists)]


def _raw_keys(node: yaml.Node) -> Iterator[str]:
    if isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            yield str(k.value)
