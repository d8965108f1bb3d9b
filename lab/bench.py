"""Benchmarks (``lab bench ...``): each prints its figures and a one-line summary last."""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

from . import image, paths, runner
from .machine import Machine, MachineConfig, parse_size_mib

BENCH_SRC = paths.REPO / "images" / "bench"


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


def parse_sizes(text: str) -> list[int]:
    """``"16M,64M,256M"`` -> MiB, in order."""
    try:
        return [parse_size_mib(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise SystemExit(f"lab bench: {exc}") from exc


def parse_fields(line: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in line.split() if "=" in part)


def boot_bench_guest(name: str, memory_mib: int, accel: str, programs: list[str]) -> tuple[Machine, Path]:
    """A guest with the bench programs of images/bench installed (not yet launched)."""
    built = runner.build_all()
    log_dir = runner.new_artifact_dir(f"bench-{name}")
    extra = image.workload_archive([(p, BENCH_SRC / f"{p}.c") for p in programs], built.kernel)
    initrd = image.compose_initrd(built.image, extra, log_dir / "initrd.cpio")
    cfg = MachineConfig(name=name, kernel=built.kernel.image, initrd=initrd, memory_mib=memory_mib,
                        accel=accel, boot_timeout=180)
    return Machine(cfg, log_dir), log_dir


def cr_once(m: Machine, mib: int) -> dict[str, float]:
    """One checkpoint + restart of a ``mib`` MiB task in the guest; seconds and bandwidth."""
    m.ssh.run("rm -f /tmp/crbench.out /tmp/crbench.img", 30, check=True)
    m.ssh.run(f"crbench ckpt {mib} /tmp/crbench.img", 600, check=True)
    m.ssh.run("setsid crbench restart /tmp/crbench.img </dev/null >/tmp/crbench.err 2>&1 &", 30, check=True)
    wait = runner.poll_sh("grep -q restart_s= /tmp/crbench.out", 600)
    res = m.ssh.run(f"{wait}; cat /tmp/crbench.out; cat /tmp/crbench.err", 620)
    fields: dict[str, str] = {}
    for line in res.stdout.splitlines():
        fields.update(parse_fields(line))
    if not res.ok or "restart_s" not in fields or fields.get("memory") != "ok":
        raise SystemExit(f"lab bench cr: run failed for {mib} MiB:\n{res.stdout}{res.stderr}")
    mb = mib * (1 << 20) / 1e6
    ckpt_s, rst_s = float(fields["checkpoint_s"]), float(fields["restart_s"])
    return {"memcpy": float(fields["memcpy_mbs"]), "checkpoint": mb / ckpt_s, "restart": mb / rst_s,
            "checkpoint_s": ckpt_s, "restart_s": rst_s, "bytes": float(fields["bytes"])}


def bench_cr(args: argparse.Namespace) -> int:
    """Checkpoint and restart MB/s inside the guest, against the guest's memcpy MB/s (same run)."""
    sizes = parse_sizes(args.mem)
    memory = max(512, 3 * max(sizes) + 256)
    m, _ = boot_bench_guest("bench-cr", memory, args.accel, ["crbench"])
    line = ""
    with m:
        for mib in sizes:
            runs = [cr_once(m, mib) for _ in range(args.runs)]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            line = (f"cr: mem={mib}M checkpoint={med['checkpoint']:.0f} restart={med['restart']:.0f} "
                    f"memcpy={med['memcpy']:.0f} ratio_ckpt={med['checkpoint'] / med['memcpy']:.2f} "
                    f"ratio_rst={med['restart'] / med['memcpy']:.2f} accel={m.accel}")
            print(f"{line} checkpoint_s={med['checkpoint_s']:.3f} restart_s={med['restart_s']:.3f} "
                  f"image_bytes={med['bytes']:.0f} runs={args.runs}", file=sys.stderr)
    print(line)
    return 0


def add_parser(sub: Any) -> None:
    b = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="bcmd", required=True)
    boot = b.add_parser("boot", help="boot to SSH-ready")
    boot.add_argument("--runs", type=int, default=5)
    boot.add_argument("--memory", type=int, default=256, help="MiB")
    boot.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto")
    boot.set_defaults(func=bench_boot)
    cr = b.add_parser("cr", help="checkpoint/restart throughput vs memcpy, in the guest")
    cr.add_argument("--mem", default="16M,64M,256M", help="task sizes, comma-separated")
    cr.add_argument("--runs", type=int, default=3)
    cr.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto")
    cr.set_defaults(func=bench_cr)
