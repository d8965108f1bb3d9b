"""``lab matrix FILE [--shard K/N] [--list]`` and ``lab report merge DIR...``."""

from __future__ import annotations

import argparse
import fnmatch
import sys
from pathlib import Path
from typing import Any

from . import html, plan, results, run, spec

COUNT_STATUSES = ("pass", "fail", "infra", "skip", "miss")


def _durations_file(matrix_file: Path, given: str | None) -> Path:
    return Path(given) if given else matrix_file.with_name(f"{matrix_file.stem}.durations.json")


def _select(items: list[plan.Item], patterns: list[str] | None) -> list[plan.Item]:
    if not patterns:
        return items
    return [i for i in items if any(fnmatch.fnmatchcase(i.id, p) for p in patterns)]


def counts_line(items: list[run.ItemResult]) -> str:
    """The closing line: ``N passed, N failed, N skipped`` (infrastructure errors and missing items
    count as failed and are named on the line before)."""
    n = {s: sum(1 for i in items if i.status == s) for s in COUNT_STATUSES}
    return f"{n['pass']} passed, {n['fail'] + n['infra'] + n['miss']} failed, {n['skip']} skipped"


def _finish(items: list[run.ItemResult], out: Path, title: str, history_dir: Path | None,
            previous_durations: dict[str, float]) -> int:
    runs = [html.Run(label, found) for label, found in results.history(history_dir)]
    report = html.write(html.Run("this run", items), out / "report.html", title=title, history=runs)
    results.write_json(results.kcidb(items), out / "kcidb.json")
    results.write_json(results.durations(items, previous_durations), out / "durations.json")
    infra = [i.id for i in items if i.status == "infra"]
    miss = [i.id for i in items if i.status == "miss"]
    print(f"report: {report}; KCIDB: {out / 'kcidb.json'}; durations: {out / 'durations.json'}")
    if infra:
        print(f"infrastructure errors (not C/R failures): {len(infra)}: {', '.join(infra[:10])}")
    if miss:
        print(f"missing (no shard reported them): {len(miss)}: {', '.join(miss[:10])}")
    print(counts_line(items))
    return 0 if items and all(i.status in ("pass", "skip") for i in items) else 1


def cmd_matrix(args: argparse.Namespace) -> int:
    try:
        mf = spec.load(args.file)
    except spec.MatrixError as exc:
        print(f"lab matrix: {exc}", file=sys.stderr)
        return 2
    try:
        k, n = plan.parse_shard(args.shard) if args.shard else (1, 1)
    except ValueError as exc:
        print(f"lab matrix: {exc}", file=sys.stderr)
        return 2
    every = plan.items(mf)
    recorded = plan.load_durations(_durations_file(args.file, args.durations))
    mine = _select(plan.shard(every, k, n, recorded), args.k)
    chosen = {i.id for i in mine}
    seconds = {k: v for k, v in plan.durations_of(every, recorded).items() if k in chosen}
    if args.list:
        for item in mine:
            print(plan.list_line(item, seconds[item.id]))
        cross = sum(1 for i in mine if i.cross)
        print(f"{len(mine)} items ({cross} cross-CPU) of {len(every)}, shard {k}/{n}, "
              f"~{sum(seconds.values()) / 60:.0f} min", file=sys.stderr)
        return 0
    if not mine and not args.shard:
        print("lab matrix: no item selected", file=sys.stderr)
        return 2
    out = Path(args.results)
    target = results.items_dir(out)
    if target.is_dir():
        for old in target.glob("*.json"):
            old.unlink()  # an earlier run's items would mix into this report
    results.write_json({"matrix": mf.name, "file": str(args.file), "shard": f"{k}/{n}",
                        "items": [i.id for i in every]}, out / results.MATRIX_DIR / results.PLAN_FILE)
    print(f"lab matrix: {len(mine)} items of {len(every)} (shard {k}/{n}), ~{sum(seconds.values()) / 60:.0f} min",
          flush=True)
    done = run.run_items(mine, out / results.MATRIX_DIR, shard=f"{k}/{n}",
                         echo=lambda line: print(line, flush=True))
    if not done:  # a shard may be empty (fewer items than shards): nothing failed
        print(counts_line(done))
        return 0
    return _finish(done, out, f"{mf.name} matrix, shard {k}/{n}", args.history, recorded)


def cmd_report_merge(args: argparse.Namespace) -> int:
    dirs = [Path(d) for d in args.dirs]
    try:
        merged = results.merge(dirs)
        planned = None if args.matrix else results.planned(dirs)  # --matrix: its items, whatever ran
    except results.MergeError as exc:
        print(f"lab report merge: {exc}", file=sys.stderr)
        return 2
    name, order = planned if planned else ("", [])
    if args.matrix:
        try:
            mf = spec.load(args.matrix)
        except spec.MatrixError as exc:
            print(f"lab report merge: {exc}", file=sys.stderr)
            return 2
        name, order = mf.name, [i.id for i in plan.items(mf, predict=False)]
    merged += results.missing(merged, order)
    rank = {iid: pos for pos, iid in enumerate(order)}
    merged.sort(key=lambda i: rank.get(i.id, len(rank)))
    out = Path(args.output)
    results.write_items(merged, out)
    previous = plan.load_durations(Path(args.durations) if args.durations else None)
    return _finish(merged, out, f"{name} matrix" if name else "matrix", args.history, previous)


def add_parser(sub: Any) -> None:
    m = sub.add_parser("matrix", help="run (or --list) the items of a matrix file, or one shard of them")
    m.add_argument("file", type=Path, help="matrix file, e.g. matrix/nightly.yaml")
    m.add_argument("--list", action="store_true", help="only list the items, one line each (stable ids)")
    m.add_argument("--shard", metavar="K/N", help="only the K-th of N shards balanced by duration")
    m.add_argument("-k", action="append", metavar="GLOB", help="only items whose id matches (repeatable)")
    m.add_argument("--results", default="results", help="results directory (default: results)")
    m.add_argument("--durations", help="recorded seconds per item (default: FILE's .durations.json)")
    m.add_argument("--history", type=Path, help="directory of earlier runs' results, for the trend")
    m.set_defaults(func=cmd_matrix)

    r = sub.add_parser("report", help="matrix results").add_subparsers(dest="rcmd", required=True)
    mg = r.add_parser("merge", help="merge shard results into one report (report.html, kcidb.json, durations.json)")
    mg.add_argument("dirs", nargs="+", help="results directories of the shards")
    mg.add_argument("-o", "--output", default="results", help="merged results directory (default: results)")
    mg.add_argument("--matrix", type=Path, help="the matrix file whose items no shard reported are listed as missing "
                    "(default: the item list each shard recorded)")
    mg.add_argument("--history", type=Path, help="directory of earlier runs' results, for the trend")
    mg.add_argument("--durations", help="the previous durations.json, updated with this run's")
    mg.set_defaults(func=cmd_report_merge)
