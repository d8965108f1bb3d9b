"""Benchmarks (``lab bench ...``): each prints its figures and a one-line summary last."""

from __future__ import annotations

import argparse
import statistics
import sys
from typing import Any

from . import runner
from .machine import Machine, MachineConfig


def summarize(values: list[float]) -> str:
    return (f"median={statistics.median(values):.2f} min={min(values):.2f} "
            f"max={max(values):.2f} runs={len(values)}")


def bench_boot(args: argparse.Namespace) -> int:
    """Boot to SSH-ready ``runs`` times; the guest is shut down between runs."""
    built = runner.build_all()
    log_dir = runner.new_artifact_dir("bench-boot")
    times: list[float] = []
    accel = ""
    for i in range(args.runs):
        cfg = MachineConfig(name=f"boot{i}", kernel=built.kernel.image, initrd=built.image.initrd,
                            memory_mib=args.memory, accel=args.accel)
        with Machine(cfg, log_dir) as m:
            times.append(m.boot_seconds)
            accel = m.accel
        print(f"run {i + 1}: {m.boot_seconds:.2f} s to SSH-ready", file=sys.stderr)
    print(f"boot: {summarize(times)} accel={accel}")
    return 0


def add_parser(sub: Any) -> None:
    b = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="bcmd", required=True)
    boot = b.add_parser("boot", help="boot to SSH-ready")
    boot.add_argument("--runs", type=int, default=5)
    boot.add_argument("--memory", type=int, default=256, help="MiB")
    boot.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto")
    boot.set_defaults(func=bench_boot)
