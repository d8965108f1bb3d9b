"""Matrix results on disk: shard results merged into one run, durations for the next sharding,
earlier runs as history, and the KCIDB export.

A results directory holds ``matrix/items/*.json`` (one :class:`~lab.matrix.run.ItemResult` per
item), ``report.html``, ``kcidb.json`` and ``durations.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .run import ITEMS_DIR, ItemResult, read_dir, write

MATRIX_DIR = "matrix"
PLAN_FILE = "plan.json"  # beside items/: the matrix's name and every item id, as the shard listed them
KCIDB_ORIGIN = "lab"
KCIDB_STATUS = {"pass": "PASS", "fail": "FAIL", "infra": "ERROR", "skip": "SKIP", "miss": "MISS"}


class MergeError(Exception):
    """Shard results that cannot be merged (the same item with two different results)."""


def items_dir(results: Path) -> Path:
    return results / MATRIX_DIR / ITEMS_DIR


def find_items(directory: Path) -> list[ItemResult]:
    """The item results under ``directory``: a results dir, its ``matrix/``, or an items dir."""
    for candidate in (items_dir(directory), directory / ITEMS_DIR, directory):
        if candidate.is_dir() and any(candidate.glob("*.json")):
            return [r for r in read_dir(candidate) if r.id]
    return []


def merge(directories: list[Path]) -> list[ItemResult]:
    """Every item of every directory, once; the same id with different results is an error."""
    merged: dict[str, tuple[ItemResult, Path]] = {}
    for d in directories:
        found = find_items(d)
        if not found and planned([d]) is None:
            raise MergeError(f"{d}: no matrix item results (matrix/items/*.json) and no plan.json")
        for item in found:
            if item.id in merged and merged[item.id][0] != item:
                raise MergeError(f"item {item.id} has different results in {merged[item.id][1]} and {d}")
            merged.setdefault(item.id, (item, d))
    return [m[0] for m in merged.values()]


def missing(merged: list[ItemResult], expected_ids: list[str]) -> list[ItemResult]:
    """Placeholders for the items of the matrix that no shard reported."""
    have = {i.id for i in merged}

    def cross(item_id: str) -> str:
        first = item_id.rsplit("@", 1)[1].split(",")[0]
        return first if "->" in first else ""
    return [ItemResult(i, i.split("/", 1)[0], i.split("/", 1)[1].rsplit("@", 1)[0], "", {}, cross(i), "", "miss",
                       0.0, reason="not run: no shard reported this item")
            for i in expected_ids if i not in have]


def planned(directories: list[Path]) -> tuple[str, list[str]] | None:
    """The matrix name and item ids the shards recorded (``matrix/plan.json``); shards of different
    plans are an error."""
    found: dict[tuple[str, tuple[str, ...]], Path] = {}
    for d in directories:
        for candidate in (d / MATRIX_DIR / PLAN_FILE, d / PLAN_FILE):
            if candidate.is_file():
                data = json.loads(candidate.read_text())
                found.setdefault((str(data["matrix"]), tuple(data["items"])), candidate)
                break
    if len(found) > 1:
        raise MergeError(f"shards of different matrices or item lists: {', '.join(map(str, found.values()))}")
    if not found:
        return None
    name, ids = next(iter(found))
    return name, list(ids)


def write_items(items: list[ItemResult], results: Path) -> None:
    target = items_dir(results)
    if target.is_dir():
        for old in target.glob("*.json"):
            old.unlink()
    for item in items:
        write(item, target)


def durations(items: list[ItemResult], previous: dict[str, float]) -> dict[str, float]:
    """Recorded seconds per item id: this run's (items that ran) over the previous record."""
    out = dict(previous)
    out.update({i.id: i.seconds for i in items if i.status in ("pass", "fail") and i.seconds > 0})
    return dict(sorted(out.items()))


def history(directory: Path | None) -> list[tuple[str, list[ItemResult]]]:
    """Earlier runs: each subdirectory of ``directory`` with item results, oldest first (by name)."""
    if directory is None or not directory.is_dir():
        return []
    runs = []
    for sub in sorted(p for p in directory.iterdir() if p.is_dir()):
        found = find_items(sub)
        if found:
            runs.append((sub.name, found))
    return runs


def _kid(text: str) -> str:
    return f"{KCIDB_ORIGIN}:" + re.sub(r"[^A-Za-z0-9_.=+-]+", "_", text)


def kcidb(items: list[ItemResult]) -> dict[str, Any]:
    """The run in KCIDB's I/O schema (v4): one checkout (the lab commit), a build per kernel
    configuration, a test per item; submit with ``kcidb-submit`` to send it to KernelCI."""
    checkouts: dict[str, dict[str, Any]] = {}
    builds: dict[str, dict[str, Any]] = {}
    tests = []
    for item in items:
        commit = item.commit or "unknown"
        checkout_id = _kid(commit)
        checkouts.setdefault(checkout_id, {
            "id": checkout_id, "origin": KCIDB_ORIGIN, "tree_name": "linux-6.1-checkpoint-restart",
            "git_commit_hash": commit if re.fullmatch(r"[0-9a-f]{40}", commit) else None,
            "comment": f"lab commit {commit}; Debian linux-source {item.kernel.get('version', '?')}",
            "valid": True,
        })
        key = item.kernel.get("key") or "unbuilt"
        build_id = _kid(key)
        frags = [str(f).removesuffix(".config") for f in item.kernel.get("fragments", [])]
        builds.setdefault(build_id, {
            "id": build_id, "checkout_id": checkout_id, "origin": KCIDB_ORIGIN, "architecture": "x86_64",
            "config_name": "+".join(frags) or "unknown", "valid": bool(item.kernel.get("key")),
            "misc": {"kernel_release": item.kernel.get("release", ""), "cache_key": key},
        })
        cell = " ".join(f"{k}={v}" for k, v in item.cell.items() if v != "")
        test: dict[str, Any] = {
            "id": _kid(item.id), "build_id": build_id, "origin": KCIDB_ORIGIN,
            "path": f"lab.matrix.{item.group}.{item.scenario}".replace("/", "."),
            "status": KCIDB_STATUS.get(item.status, "ERROR"), "duration": item.seconds,
            "environment": {"comment": f"QEMU {cell}", "misc": item.cell},
            "misc": {"item": item.id, "expected": item.expected, "reason": item.reason, "shard": item.shard},
        }
        if item.started:
            test["start_time"] = item.started
        if item.cross:
            test["misc"]["cross_cpu"] = item.cross
        tests.append(test)
    return {"version": {"major": 4, "minor": 3}, "checkouts": list(checkouts.values()),
            "builds": list(builds.values()), "tests": tests}


def write_json(data: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path
