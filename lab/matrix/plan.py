"""A matrix file's items (cell x scenario), their stable ids, and shards balanced by duration.

An item id is ``GROUP/SCENARIO@CELL``, CELL naming only the axes that differ from the file's
defaults in a fixed axis order (``cpu=Haswell,machine=q35``), cross-CPU cells ``X->Y`` first: so an
id stays the same when other groups, cells or scenarios are added or reordered, and results of
different nights line up by id.

Shards: ``K/N`` is the K-th of N parts of the item list. Every item is in exactly one shard; items
are dealt longest first to the least loaded shard (LPT), with the durations recorded by earlier
runs (``durations.json``, written by ``lab report merge``) or else an estimate, plus the build of
each kernel configuration a shard needs, so each CI runner computes the same partition from the
same inputs.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .. import cpufeatures, scenario
from .spec import HARDWARE, Cell, MatrixFile

SHARD_RE = re.compile(r"([0-9]+)/([0-9]+)")
# a kernel configuration a CI runner has not built: a cold build with ccache empty, 2-4 cores
# (measured here: 4-6 min for base + checkpoint on 2 shared cores; the debug kernel takes longer)
BUILD_SECONDS = 480.0


@dataclass(frozen=True)
class Item:
    id: str
    group: str
    cell: Cell
    scenario: scenario.Scenario  # as its file says; :func:`apply` gives the one the cell runs
    expected: str = ""  # cross-CPU items: the outcome computed from the two models' features

    @property
    def cross(self) -> str:
        return f"{self.cell.cpu}->{self.cell.target_cpu}" if self.cell.target_cpu else ""

    def slug(self) -> str:
        return slug(self.id)


def slug(item_id: str) -> str:
    """An item id as a file name."""
    return re.sub(r"[^A-Za-z0-9_.=+-]+", "_", item_id.replace("->", "_to_"))


def items(mf: MatrixFile, *, predict: bool = True) -> list[Item]:
    """Every item of the matrix, in file order (group, cell, scenario).

    ``predict``: compute cross-CPU expectations (a paused QEMU per CPU model, cached)."""
    out: list[Item] = []
    seen: set[str] = set()
    for g in mf.groups:
        features: dict[str, cpufeatures.CpuFeatures] = {}
        if predict and g.cross_cpu:
            for accel in sorted({c.accel for c in g.cells}):
                features.update({f"{accel}:{k}": v for k, v in cpufeatures.probe_all(g.cross_cpu, accel).items()})
        for cell in g.cells:
            for sc in g.scenarios:
                iid = f"{g.name}/{sc.name}@{cell.key(mf.defaults)}"
                if iid in seen:
                    continue
                seen.add(iid)
                expected = ""
                if cell.target_cpu and features:
                    expected = cpufeatures.expected(features[f"{cell.accel}:{cell.cpu}"],
                                                    features[f"{cell.accel}:{cell.target_cpu}"]).describe()
                out.append(Item(iid, g.name, cell, sc, expected))
    return out


def apply(cell: Cell, sc: scenario.Scenario) -> scenario.Scenario:
    """``sc`` as it runs on ``cell``: its guests' hardware (what the scenario does not set itself),
    cross-CPU target on guest 2, kernel fragments and command line, the freezer's cgroup version for
    the steps that do not name one."""
    from ..steps import KINDS

    guests = []
    for i, g in enumerate(sc.guests):
        hw: dict[str, Any] = {a: getattr(cell, a) for a in HARDWARE if a not in g.pinned or a == "memory"}
        del hw["memory"]  # a guest's own memory is its minimum
        hw["memory_mib"] = max(cell.memory_mib, g.memory_mib) if "memory" in g.pinned else cell.memory_mib
        if cell.target_cpu and i == 1:
            hw["cpu"] = cell.target_cpu
        append = " ".join(filter(None, [g.append, cell.append()]))
        guests.append(replace(g, append=append, **hw))
    steps = tuple(
        replace(s, args={**s.args, "cgroup": cell.cgroup})
        if "cgroup" in KINDS[s.kind].fields and "cgroup" not in s.given else s
        for s in sc.steps)
    frags = [*sc.kernel_fragments, *(f for f in cell.fragments() if f not in sc.kernel_fragments)]
    return replace(sc, guests=tuple(guests), steps=steps, kernel_fragments=tuple(frags)).with_params(dict(cell.params))


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` with 1 <= K <= N."""
    m = SHARD_RE.fullmatch(text.strip())
    if not m:
        raise ValueError(f"shard {text!r}: use K/N, e.g. 2/3")
    k, n = int(m.group(1)), int(m.group(2))
    if n < 1 or not 1 <= k <= n:
        raise ValueError(f"shard {text!r}: K must be between 1 and N (N >= 1)")
    return k, n


def estimate(item: Item) -> float:
    """Seconds an item takes when no run recorded it, from runs here under TCG (2 s a guest to boot,
    about half a second a step; a step's `sleep` and a tenth of a long step's `timeout` on top; the
    debug kernel about 3 times slower): a first guess that the first recorded night replaces."""
    sc = item.scenario
    seconds = 2.0 * len(sc.guests) + 0.5 * len(sc.steps)
    for step in sc.steps:
        if step.kind == "sleep":
            seconds += float(step.args["sleep"])
        elif "timeout" in step.given and float(step.args["timeout"]) > 60:
            seconds += 0.1 * float(step.args["timeout"])
    seconds *= 1 + 0.3 * (item.cell.smp - 1)
    if "debug" in item.cell.fragments():
        seconds *= 3
    return round(min(seconds, sc.timeout), 1)


def load_durations(path: Path | None) -> dict[str, float]:
    if path is None or not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return {str(k): float(v) for k, v in data.items()}


def durations_of(all_items: list[Item], recorded: dict[str, float]) -> dict[str, float]:
    """Each item's seconds: as recorded; else the median of its recorded siblings (the same scenario
    in the same group and kernel configuration, e.g. the fuzzer's other seeds); else the estimate."""
    siblings: dict[tuple[str, str, tuple[str, ...]], list[float]] = {}
    for i in all_items:
        if i.id in recorded:
            siblings.setdefault((i.group, i.scenario.name, kernel_of(i)), []).append(recorded[i.id])
    out = {}
    for i in all_items:
        known = siblings.get((i.group, i.scenario.name, kernel_of(i)))
        out[i.id] = recorded.get(i.id, statistics.median(known) if known else estimate(i))
    return out


def kernel_of(item: Item) -> tuple[str, ...]:
    """The kernel configuration an item boots (its cell's and its scenario's extra fragments)."""
    return tuple(dict.fromkeys([*item.scenario.kernel_fragments, *item.cell.fragments()]))


def shards(all_items: list[Item], n: int, recorded: dict[str, float],
           build_seconds: float = BUILD_SECONDS) -> list[list[Item]]:
    """``n`` shards partitioning ``all_items``, balanced by duration, each kernel configuration kept
    on as few shards as balance allows (each CI runner builds the kernels of its own items, for
    ``build_seconds`` each).

    The items of one configuration form a unit; a unit longer than a fair share (the items' time
    divided by ``n``) is cut, longest items first, into pieces of at most that share. Units go longest
    first to the shard they load least (LPT), a configuration new to a shard costing its build."""
    seconds = durations_of(all_items, recorded)
    by_kernel: dict[tuple[str, ...], list[Item]] = {}
    for item in sorted(all_items, key=lambda i: (-seconds[i.id], i.id)):
        by_kernel.setdefault(kernel_of(item), []).append(item)
    share = sum(seconds.values()) / n
    units: list[tuple[float, tuple[str, ...], list[Item]]] = []
    for config, members in by_kernel.items():
        piece: list[Item] = []
        for item in members:
            if piece and sum(seconds[i.id] for i in piece) + seconds[item.id] > share:
                units.append((sum(seconds[i.id] for i in piece), config, piece))
                piece = []
            piece.append(item)
        units.append((sum(seconds[i.id] for i in piece), config, piece))
    parts: list[list[Item]] = [[] for _ in range(n)]
    load = [0.0] * n
    kernels: list[set[tuple[str, ...]]] = [set() for _ in range(n)]
    for cost, config, piece in sorted(units, key=lambda u: (-u[0], u[2][0].id)):
        after = [load[j] + cost + (0.0 if config in kernels[j] else build_seconds) for j in range(n)]
        k = min(range(n), key=lambda j: (after[j], j))
        load[k] = after[k]
        kernels[k].add(config)
        parts[k].extend(piece)
    order = {i.id: pos for pos, i in enumerate(all_items)}
    return [sorted(p, key=lambda i: order[i.id]) for p in parts]


def shard(all_items: list[Item], k: int, n: int, recorded: dict[str, float]) -> list[Item]:
    return shards(all_items, n, recorded)[k - 1]


def list_line(item: Item, seconds: float) -> str:
    """One ``--list`` line: the id, the estimated or recorded seconds, the expected outcome."""
    tail = f"  expect: {item.expected}" if item.expected else ""
    return f"{item.id}  ~{seconds:.0f}s{tail}"
