"""Benchmarks (``lab bench ...``): each prints its figures and a one-line summary last."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from . import image, paths, runner
from .machine import Machine, MachineConfig, parse_size_mib


def summarize(values: list[float]) -> str:
    return (f"median={statistics.median(values):.2f} min={min(values):.2f} "
            f"max={max(values):.2f} runs={len(values)}")


BENCH_RESULTS = paths.REPO / "results" / "bench"


def host_info() -> dict[str, Any]:
    """The machine a benchmark ran on (printed with the figures and kept in the record)."""
    from . import command, hostclock

    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    qemu = command.run(["qemu-system-x86_64", "--version"], check=False).stdout.splitlines()[:1]
    return {"host": platform.node(), "cpu": cpu, "cores": os.cpu_count(), "qemu": qemu[0] if qemu else "",
            "host_tsc_khz": hostclock.tsc_khz(), "load_avg_1m": round(os.getloadavg()[0], 2)}


def guest_clock(m: Machine) -> str:
    """The guest's clocksource: the in-guest timings are only as good as it (tsc: exact; jiffies: 4 ms)."""
    res = m.ssh.run("cat /sys/devices/system/clocksource/clocksource0/current_clocksource", 10)
    return res.stdout.strip() or "unknown"


def record(bench: str, args: argparse.Namespace, medians: dict[str, Any], runs: list[Any]) -> Path:
    """Write one benchmark run as JSON (results/bench/BENCH-TIME.json) and append it to
    results/bench/history.jsonl, the series the report plots over time."""
    BENCH_RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    rec = {"bench": bench, "time": stamp, "args": {k: v for k, v in vars(args).items() if k != "func"},
           "machine": host_info(), "medians": medians, "runs": runs}
    path = BENCH_RESULTS / f"{bench}-{stamp}.json"
    path.write_text(json.dumps(rec, indent=2) + "\n")
    with open(BENCH_RESULTS / "history.jsonl", "a") as f:
        f.write(json.dumps(rec) + "\n")
    print(f"bench record: {path}", file=sys.stderr)
    return path


def bench_boot(args: argparse.Namespace) -> int:
    """Boot to SSH-ready ``runs`` times; the guest is shut down between runs. ``--firmware a,b``
    boots each firmware in turn within every run (an interleaved A/B); the last line is the first's."""
    built = runner.build_all()
    log_dir = runner.new_artifact_dir("bench-boot")
    firmwares = [f for f in args.firmware.split(",") if f] or ["auto"]
    times: dict[str, list[float]] = {f: [] for f in firmwares}
    accel = ""
    for i in range(args.runs):
        for fw in firmwares:
            cfg = MachineConfig(name=f"boot{i}", kernel=built.kernel.image, initrd=built.image.initrd,
                                memory_mib=args.memory, accel=args.accel, append=args.append, firmware=fw)
            with Machine(cfg, log_dir) as m:
                times[fw].append(m.boot_seconds)
                accel = m.accel
            print(f"run {i + 1} firmware={fw}: {m.boot_seconds:.2f} s to SSH-ready", file=sys.stderr)
    first = times[firmwares[0]]
    record("boot", args, {"median_s": statistics.median(first), "accel": accel, "firmware": firmwares[0],
                          "by_firmware": {fw: statistics.median(t) for fw, t in times.items()}}, first)
    for fw in reversed(firmwares):
        print(f"boot: {summarize(times[fw])} accel={accel} firmware={fw}")
    return 0


def parse_sizes(text: str) -> list[int]:
    """``"16M,64M,256M"`` -> MiB, in order."""
    try:
        return [parse_size_mib(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise SystemExit(f"lab bench: {exc}") from exc


def parse_fields(line: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in line.split() if "=" in part)


def cr_once(m: Machine, sizes: list[int]) -> dict[int, dict[str, float]]:
    """One run of the guest's crbench over ``sizes`` (MiB): MB/s of checkpoint, restart and memcpy."""
    arg = ",".join(str(mib) for mib in sizes)
    res = m.ssh.run(f"rm -f /tmp/crbench.*; crbench -m {arg} -d /tmp", 1800)
    out: dict[int, dict[str, float]] = {}
    for line in res.stdout.splitlines():
        if line.startswith("crbench: mem="):
            f = parse_fields(line.replace("(MB/s)", ""))
            out[int(f["mem"].rstrip("M"))] = {k: float(f[k]) for k in ("checkpoint", "restart", "memcpy", "etckpt")}
    if not res.ok or set(out) != set(sizes):
        raise SystemExit(f"lab bench cr: crbench failed:\n{res.stdout}{res.stderr}")
    return out


def bench_cr(args: argparse.Namespace) -> int:
    """Checkpoint and restart MB/s inside the guest against the guest's memcpy MB/s (same run); with
    ``--engine kernel,criu`` also the same external C/R through each engine, times and image sizes side
    by side (``vs_criu_dump``/``vs_criu_restore``: our time / CRIU's)."""
    from . import engines

    names = [n for n in args.engine.split(",") if n]
    if unknown := [n for n in names if n not in engines.ENGINES]:
        raise SystemExit(f"lab bench cr: unknown engine {', '.join(unknown)} (known: {', '.join(engines.ENGINES)})")
    by_engine = names != ["kernel"]
    sizes = parse_sizes(args.mem)
    built = runner.build_all([f for n in names for f in engines.get(n).kernel_fragments])
    run = paths.new_run_dir("bench-cr")
    try:
        initrd = built.image.initrd
        if by_engine:
            layers = image.scenario_layers([("crtest", CRTEST)], built.kernel,
                                           packages=[p for n in names for p in engines.get(n).packages])
            initrd = image.compose_initrd(built.image, layers, run / "initrd.cpio")
        cfg = MachineConfig(name="bench-cr", kernel=built.kernel.image, initrd=initrd,
                            memory_mib=max(512, 3 * max(sizes) + 256), accel=args.accel, boot_timeout=180,
                            append=args.append)
        line = ""
        medians: dict[str, dict[str, float]] = {}
        raw: dict[str, list[dict[str, float]]] = {}
        with Machine(cfg, runner.new_artifact_dir("bench-cr")) as m:
            clock = guest_clock(m)
            for mib in sizes:
                runs = []
                for _ in range(args.runs):
                    r = cr_once(m, [mib])[mib]
                    if by_engine:
                        r.update(engines_once(m, mib, names))
                    runs.append(r)
                med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                medians[f"{mib}M"], raw[f"{mib}M"] = med, runs
                line = (f"cr: mem={mib}M checkpoint={med['checkpoint']:.0f} restart={med['restart']:.0f} "
                        f"memcpy={med['memcpy']:.0f} ratio_ckpt={med['checkpoint'] / med['memcpy']:.2f} "
                        f"ratio_rst={med['restart'] / med['memcpy']:.2f} etckpt={med['etckpt']:.0f}")
                if by_engine:
                    line += "".join(f" {k}={v:.3f}" if k.endswith("_s") else f" {k}={v:.0f}"
                                    for k, v in med.items() if k.startswith(tuple(names)))
                if "kernel" in names and "criu" in names:
                    line += (f" vs_criu_dump={med['kernel_ckpt_s'] / med['criu_ckpt_s']:.2f}"
                             f" vs_criu_restore={med['kernel_rst_s'] / med['criu_rst_s']:.2f}"
                             f" vs_criu_bytes={med['kernel_image_bytes'] / med['criu_image_bytes']:.2f}")
                line += f" clock={clock} accel={m.accel}"
                print(f"{line} (median of {args.runs}; MB/s, seconds, bytes)", file=sys.stderr)
        record("cr", args, medians, [raw])
        print(line)
    finally:
        shutil.rmtree(run, ignore_errors=True)
    return 0


CRTEST = paths.REPO / "scenarios" / "checkpoint" / "workloads" / "crtest.c"


def timed(cmd: str) -> str:
    """``cmd`` under the guest tool ``timeit`` (CLOCK_MONOTONIC; see :func:`seconds`)."""
    return f"timeit {shlex.quote(cmd)}"


def seconds(stderr: str) -> float:
    """The duration ``timeit`` printed (its last line on stderr)."""
    for line in reversed(stderr.splitlines()):
        if line.startswith("timeit: ") and line.endswith(" s"):
            return float(line.split()[1])
    raise ValueError(f"no timing in {stderr!r}")


def engines_once(m: Machine, mib: int, names: list[str]) -> dict[str, float]:
    """One external C/R of a ``mib`` MiB crtest by each engine, same guest: seconds per phase.

    Each engine: freeze, checkpoint (our checkpoint(2), or criu dump --freeze-cgroup --leave-running),
    kill + thaw, restart until the task runs (our restart(2), or criu restore -d).
    """
    from . import engines, migrate
    from .engines import criu

    out: dict[str, float] = {}
    for name in names:
        m.ssh.run(f"rm -rf /tmp/b.img /tmp/ct.*; cd /tmp && setsid crtest /tmp/ct {mib} </dev/null >/dev/null 2>&1 & "
                  "echo $! > /tmp/b.pid", 30, check=True)
        m.ssh.run(runner.poll_sh("grep -q 'tick 2' /tmp/ct.ticks", 300), 320, check=True)
        pid = m.ssh.run("cat /tmp/b.pid", 10, check=True).stdout.strip()
        freeze, thaw = runner.freeze_commands(pid, "v2")
        m.ssh.run(freeze, 30, check=True)
        ckpt = engines.get(name).checkpoint_command(pid, "/tmp/b.img", "/tmp/b.log",
                                                    f"{runner.CGROUP_ROOT['v2']}/lab-frozen")
        res = m.ssh.run(timed(ckpt), 600)
        if not res.ok:
            raise SystemExit(f"lab bench cr: {name} checkpoint failed:\n{res.stdout}{res.stderr}")
        out[f"{name}_ckpt_s"] = seconds(res.stderr)
        out[f"{name}_image_bytes"] = float(migrate.image_bytes(m, "/tmp/b.img"))
        m.ssh.run(f"kill -KILL {pid}; {thaw}; while [ -e /proc/{pid} ]; do usleep 20000; done", 30, check=True)
        if name == "kernel":
            # until the restarted task is crtest (restart(2) returned into it), or gone
            rst = ("cd /tmp; setsid restart -i /tmp/b.img -l /tmp/b.rlog </dev/null >/dev/null 2>/tmp/b.err & r=$!; "
                   "until [ \"$(cat /proc/$r/comm 2>/dev/null)\" = crtest ]; do "
                   "[ -e /proc/$r ] || { echo \"restart pid $r is gone\"; cat /tmp/b.err; exit 1; }; "
                   "usleep 2000; done; "
                   "echo $r > /tmp/b.pid")
        else:
            rst = criu.CriuEngine().restore_command("/tmp/b.img", "/tmp/b.rlog", "/tmp", hold=False)
        res = m.ssh.run(timed(rst), 600)
        if not res.ok:
            log = m.ssh.run("tail -n 20 /tmp/b.rlog; dmesg | tail -n 8", 10).stdout
            raise SystemExit(f"lab bench cr: {name} restart failed:\n{res.stdout}{res.stderr}\n{log}")
        out[f"{name}_rst_s"] = seconds(res.stderr)
        m.ssh.run(f"kill -KILL $(cat /tmp/b.pid) {pid} 2>/dev/null; true", 10)
    return out


# pre-copy tracks dirty pages with soft-dirty bits: CONFIG_MEM_SOFT_DIRTY (in the criu fragment)
PRECOPY_FRAGMENTS = ("criu",)


def migrate_once(built: runner.Built, mib: int, accel: str, log_dir: Path,
                 initrd: Path, via: str = "link", append: str = "",
                 precopy: int = 0) -> tuple[dict[str, float], str, str]:
    """Process migration A -> B of a ``mib`` MiB workload (with ``precopy`` pre-copy rounds), then
    whole-VM migration B -> C."""
    from . import migrate, vmmigrate
    from .machine import Link
    from .ssh import KeyPair

    run = paths.new_run_dir("bench-migrate")
    try:
        keys = KeyPair.generate(run / "keys")

        def guest(name: str, index: int, peer: str) -> Machine:
            cfg = MachineConfig(name=name, kernel=built.kernel.image, initrd=initrd, memory_mib=512,
                                accel=accel, index=index, boot_timeout=180, append=append,
                                link=Link(run, name, peer, f"169.254.0.{index + 1}",
                                          shm_mib=16 if via == "shm" else 0))
            return Machine(cfg, log_dir, keys=keys)

        with guest("a", 0, "b") as a, guest("b", 1, "a") as b:
            a.ssh.run(f"cd /tmp && setsid crtest /tmp/ct {mib} </dev/null >/dev/null 2>&1 & echo $! > /tmp/ct.pid",
                      30, check=True)
            a.ssh.run(runner.poll_sh("grep -q 'tick 3' /tmp/ct.ticks", 300), 320, check=True)
            pid = a.ssh.run("cat /tmp/ct.pid", 10, check=True).stdout.strip()
            clock = guest_clock(a)
            mig = migrate.migrate_process(a, b, pid, via=via, link_addr="169.254.0.2", port=7600,
                                          files=("/tmp/ct.data", "/tmp/ct.ticks"), precopy=precopy)
            if not mig.ok:
                raise SystemExit(f"lab bench migrate: process migration failed:\n{mig.restart_log}")
            a.shutdown()
            if via == "shm":
                b.ssh.run("shmcat clear", 30, check=True)  # as the VM's other free memory
            c = vmmigrate.incoming(b, "c", log_dir)
            try:
                c.launch(wait_ssh=False)
                vm = vmmigrate.migrate_vm(b, c, run / "vm-migrate.sock")
                c.wait_ssh(60, booting=False)
                alive = c.ssh.run(f"kill -0 {mig.new_pid} && tail -1 /tmp/ct.ticks", 20)
                if not alive.ok:
                    raise SystemExit("lab bench migrate: the workload did not survive the VM migration")
            finally:
                c.shutdown()
        return {"process_s": mig.total_s, "process_bytes": float(mig.image_bytes),
                "process_downtime_s": mig.downtime_s, "vm_s": vm.total_s, "vm_bytes": float(vm.bytes),
                "vm_downtime_s": vm.downtime_s, **{f"process_{k}": v for k, v in mig.phases.items()}}, a.accel, clock
    finally:
        shutil.rmtree(run, ignore_errors=True)


def bench_migrate(args: argparse.Namespace) -> int:
    """Process migration and whole-VM migration of the same workload, side by side, in one run."""
    sizes = parse_sizes(args.mem)
    if args.precopy and args.via == "host":
        raise SystemExit("lab bench migrate: --precopy streams the rounds: --via link or shm")
    built = runner.build_all(PRECOPY_FRAGMENTS if args.precopy else ())
    log_dir = runner.new_artifact_dir("bench-migrate")
    extra = image.workload_archive([("crtest", CRTEST)], built.kernel)
    initrd = image.compose_initrd(built.image, extra, log_dir / "initrd.cpio")
    accel = args.accel
    lines: dict[int, str] = {}
    medians: dict[str, dict[str, float]] = {}
    raw: dict[str, list[dict[str, float]]] = {}
    for mib in sizes:
        results = [migrate_once(built, mib, accel, log_dir, initrd, args.via, args.append, args.precopy)
                   for _ in range(args.runs)]
        runs = [r for r, _, _ in results]
        used, clock = results[0][1], results[0][2]
        med = {k: statistics.median(r.get(k, 0.0) for r in runs) for k in runs[0]}
        medians[f"{mib}M"], raw[f"{mib}M"] = med, runs
        line = (f"migrate: mem={mib}M via={args.via} precopy={args.precopy} "
                f"process_s={med['process_s']:.2f} vm_s={med['vm_s']:.2f} "
                f"process_bytes={med['process_bytes']:.0f} vm_bytes={med['vm_bytes']:.0f} "
                f"time_ratio={med['process_s'] / med['vm_s']:.2f} "
                f"bytes_ratio={med['process_bytes'] / med['vm_bytes']:.2f} "
                f"process_downtime_s={med['process_downtime_s']:.3f} vm_downtime_s={med['vm_downtime_s']:.3f} "
                f"clock={clock} accel={used}")
        phases = " ".join(f"{k}={v:.2f}" for k, v in sorted(med.items()) if k.startswith("process_") and
                          k.endswith("_s") and k not in ("process_s", "process_downtime_s"))
        phases += "".join(f" {k}={v:.0f}" for k, v in sorted(med.items()) if k.endswith("_bytes") and
                          k.startswith("process_") and k != "process_bytes")
        print(f"{line}\n  process phases: {phases}; runs={args.runs}", file=sys.stderr)
        lines[mib] = line
    record("migrate", args, medians, [raw])
    print(lines.get(64, lines[sizes[-1]]))
    return 0


def add_parser(sub: Any) -> None:
    b = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="bcmd", required=True)
    boot = b.add_parser("boot", help="boot to SSH-ready")
    boot.add_argument("--runs", type=int, default=5)
    boot.add_argument("--memory", type=int, default=256, help="MiB")
    boot.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto")
    boot.add_argument("--firmware", default="auto",
                      help="auto (qboot when installed), seabios or a ROM path; a comma-separated list boots "
                           "each in turn within every run, for an A/B in one run")
    boot.set_defaults(func=bench_boot)
    cr = b.add_parser("cr", help="checkpoint/restart throughput vs memcpy, in the guest")
    cr.add_argument("--mem", default="16M,64M,256M", help="task sizes, comma-separated")
    cr.add_argument("--runs", type=int, default=3)
    cr.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto")
    cr.add_argument("--engine", default="kernel",
                    help="kernel (in-guest crbench vs memcpy), or a list such as kernel,criu: the same "
                         "external C/R through each engine, times side by side")
    cr.set_defaults(func=bench_cr)
    mg = b.add_parser("migrate", help="process migration vs whole-VM migration, side by side")
    mg.add_argument("--mem", default="16M,64M,256M", help="workload sizes, comma-separated")
    mg.add_argument("--runs", type=int, default=3)
    mg.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto")
    mg.add_argument("--via", choices=("link", "shm", "host"), default="link",
                    help="stream the image over the guest link's NIC or its shared memory (ivshmem), "
                         "or carry it through the host")
    mg.add_argument("--precopy", type=int, nargs="?", const=2, default=0, metavar="ROUNDS",
                    help="pre-copy the process's memory in ROUNDS rounds (default 2) while it runs, then "
                         "send only the last pass frozen (a kernel with CONFIG_MEM_SOFT_DIRTY)")
    mg.set_defaults(func=bench_migrate)
    for p in (boot, cr, mg):
        p.add_argument("--append", default="", metavar="OPTIONS",
                       help="more kernel command-line options for the benchmark's guests (an A/B of a boot "
                            "option; recorded with the results)")
