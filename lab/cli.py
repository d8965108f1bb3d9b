"""The ``lab`` command line."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from . import bench, host, image, kernel, report, runner, scenario, verify
from .matrix import cli as matrix_cli

# written by `lab shell` into its artifact directory: how `lab verify --guest` reaches the guest
GUEST_FILE = "guest.json"


def _sigterm(signum: int, frame: FrameType | None) -> None:
    # Turn SIGTERM into an exception so every context manager shuts its guest down.
    raise SystemExit(128 + signum)


def cmd_doctor(args: argparse.Namespace) -> int:
    return host.doctor(args.install)


def cmd_kernel_build(args: argparse.Namespace) -> int:
    return kernel.main_build(args.fragment, args.force)


def cmd_image_build(args: argparse.Namespace) -> int:
    return image.main_build(args.force, args.package or ())


def cmd_run(args: argparse.Namespace) -> int:
    try:
        sc = scenario.load(args.scenario)
        sc = sc.with_params(dict(p.partition("=")[::2] for p in args.param or ()))
    except scenario.ScenarioError as exc:
        print(f"lab run: {exc}", file=sys.stderr)
        return 2
    except KeyError as exc:
        print(f"lab run: --param: {exc.args[0]}", file=sys.stderr)
        return 2
    results, rc = [], 0
    for engine in sc.engines:  # `engine: both` runs the scenario through each engine
        one = sc.for_engine(engine)
        try:
            result = runner.run_scenario(one, accel=args.accel)
        except runner.ScenarioFailure as exc:
            print(f"FAIL {one.name}\n{exc}", file=sys.stderr)
            results.append(exc.result)
            rc = 1
            continue
        results.append(result)
        print(f"PASS {one.name} in {result.seconds:.1f} s (accel={result.accel}, artifacts {result.artifacts})")
    if args.json:
        report.write_json(results[0] if len(results) == 1 else results, Path(args.json))
    return rc


def cmd_shell(args: argparse.Namespace) -> int:
    from .machine import Machine, MachineConfig
    from .packages import PackageError

    built = runner.build_all()
    try:
        initrd = image.with_packages(built.image, args.package or ())
    except PackageError as exc:
        print(f"lab shell: {exc}", file=sys.stderr)
        return 1
    cfg = MachineConfig(name="shell", kernel=built.kernel.image, initrd=initrd,
                        memory_mib=args.memory, smp=args.smp, accel=args.accel)
    log_dir = runner.new_artifact_dir("shell")
    with Machine(cfg, log_dir) as m:
        print(f"guest up in {m.boot_seconds:.1f} s (accel={m.accel}); console log {m.console_log}; "
              "exit the shell to shut it down", file=sys.stderr)
        m.ssh.save(log_dir / GUEST_FILE)
        print(f"from another terminal, while it is up: lab verify --guest {log_dir} PID_BEFORE PID_AFTER",
              file=sys.stderr)
        known_hosts = log_dir / "known_hosts"
        known_hosts.write_text(f"[127.0.0.1]:{m.ssh_port} {m.keys.host_public}\n")
        argv = ["ssh", "-q", "-i", str(m.keys.client_key), "-p", str(m.ssh_port),
                "-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes",
                "-o", "IdentitiesOnly=yes", "root@127.0.0.1", *args.command]
        return subprocess.call(argv)


def cmd_ckptinfo(args: argparse.Namespace) -> int:
    from . import ckptimage

    return ckptimage.main(args.image)


def cmd_ckpt2elf(args: argparse.Namespace) -> int:
    from . import ckptimage, etckpt

    try:
        data, notes = etckpt.convert(args.image.read_bytes(), args.drop_fd, args.by_fd)
    except (OSError, etckpt.ConvertError, ckptimage.ImageError) as exc:
        print(f"lab ckpt2elf: {args.image}: {exc}", file=sys.stderr)
        return 1
    for note in notes:
        print(f"lab ckpt2elf: {note}", file=sys.stderr)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.chmod(0o755)
    tmp.replace(args.out)
    print(f"lab ckpt2elf: {args.out}: {len(data)} bytes")
    return 0


def _snapshots(args: argparse.Namespace) -> tuple[verify.Snapshot, verify.Snapshot]:
    """Each of BEFORE and AFTER: a snapshot file, or a live pid in the guest of ``--guest``."""
    from .ssh import GuestSSH, SSHError

    pids = [a for a in (args.before, args.after) if a.isdigit() and not Path(a).exists()]
    ssh = None
    if pids:
        if args.guest is None:
            raise ValueError(f"{pids[0]} is a pid: say in which guest with --guest DIR "
                             "(the artifact directory `lab shell` printed)")
        ssh = GuestSSH.load(args.guest / GUEST_FILE if args.guest.is_dir() else args.guest)
    snaps = []
    try:
        for arg in (args.before, args.after):
            if arg in pids:
                assert ssh is not None
                res = ssh.run(f"procsnap {arg}", 60)
                if not res.ok:
                    raise ValueError(f"procsnap {arg} in the guest failed: {(res.stdout + res.stderr).strip()}")
                snaps.append(verify.parse(res.stdout))
            else:
                snaps.append(verify.parse(Path(arg).read_text()))
    except SSHError as exc:
        raise ValueError(f"cannot reach the guest of {args.guest} (is its `lab shell` still up?): {exc}") from exc
    finally:
        if ssh is not None:
            ssh.close()
    return snaps[0], snaps[1]


def cmd_verify(args: argparse.Namespace) -> int:
    try:
        before, after = _snapshots(args)
    except (OSError, ValueError) as exc:
        print(f"lab verify: {exc}", file=sys.stderr)
        return 2
    verdict = verify.compare(before, after)
    for u in verdict.unreadable:
        print(f"UNREAD   {u}")
    for d in verdict.unexpected:
        print(f"DIFFERS  {d}")
    for d, rule in verdict.known:
        print(f"GAP #{rule.issue:<3} {d}  ({rule.reason})")
    if args.all:
        for d, rule in verdict.legitimate:
            print(f"ok       {d}  ({rule.reason})")
    print(f"verify: {len(verdict.unexpected)} unexpected, {len(verdict.unreadable)} unreadable, "
          f"{len(verdict.known)} known gaps, "
          f"{len(verdict.legitimate)} legitimate differences, {len(before)} fields before")
    return 0 if verdict.ok else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lab", description="QEMU test lab for Linux checkpoint/restart")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("doctor", help="check host prerequisites")
    d.add_argument("--install", action="store_true", help="apt-get what is missing (as root)")
    d.set_defaults(func=cmd_doctor)

    k = sub.add_parser("kernel", help="kernel commands").add_subparsers(dest="kcmd", required=True)
    kb = k.add_parser("build", help="build the patched kernel; prints the image path last")
    kb.add_argument("--fragment", action="append",
                    help="config fragment name from kernel-config/ (repeatable; default base+checkpoint)")
    kb.add_argument("--force", action="store_true", help="rebuild even on a cache hit")
    kb.set_defaults(func=cmd_kernel_build)

    i = sub.add_parser("image", help="guest image commands").add_subparsers(dest="icmd", required=True)
    ib = i.add_parser("build", help="build the guest initramfs; prints its path last")
    ib.add_argument("--force", action="store_true")
    ib.add_argument("--package", action="append", metavar="NAME",
                    help="also a layer with this Debian package and its dependencies (repeatable; "
                    "`lab shell --package NAME` boots with it); the path printed is then the image with it")
    ib.set_defaults(func=cmd_image_build)

    r = sub.add_parser("run", help="run one scenario; exit 0 iff it passed")
    r.add_argument("scenario", type=Path)
    r.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto")
    r.add_argument("--json", help="write the result as JSON to this file")
    r.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="set one of the scenario's `params` (repeatable), as a matrix cell does")
    r.set_defaults(func=cmd_run)

    s = sub.add_parser("shell", help="boot a guest and open a shell in it")
    s.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto")
    s.add_argument("--memory", type=int, default=512, help="MiB")
    s.add_argument("--smp", type=int, default=1)
    s.add_argument("--package", action="append", metavar="NAME",
                   help="Debian package (and its dependencies) in the guest (repeatable)")
    s.add_argument("command", nargs="*", help="run this instead of an interactive shell")
    s.set_defaults(func=cmd_shell)

    c = sub.add_parser("ckptinfo", help="print a checkpoint image's records")
    c.add_argument("image", type=Path)
    c.set_defaults(func=cmd_ckptinfo)

    e = sub.add_parser("ckpt2elf", help="convert a checkpoint image into an ET_CKPT file that execve() restores")
    e.add_argument("-D", "--drop-fd", type=int, default=-1, metavar="FD",
                   help="leave out descriptor FD, a regular file (the image's own, in a self checkpoint)")
    e.add_argument("-f", "--by-fd", action="store_true",
                   help="the mapped files passed as descriptors 3, 4, ... by the exec caller (restart -x opens them)")
    e.add_argument("image", type=Path)
    e.add_argument("out", type=Path)
    e.set_defaults(func=cmd_ckpt2elf)

    v = sub.add_parser("verify", help="diff two procsnap snapshots or two live tasks (restore verification); "
                       "exit 0 iff nothing differs that lab.verify does not explain")
    v.add_argument("before", help="`procsnap PID` output of the checkpointed task "
                   "(e.g. artifacts/*/verify-*-before.snap), or its pid in the --guest")
    v.add_argument("after", help="the same of the restored task")
    v.add_argument("--guest", type=Path, metavar="DIR",
                   help="the guest of a running `lab shell` (its artifact directory) in which pids are snapshotted")
    v.add_argument("--all", action="store_true", help="also list the legitimate differences")
    v.set_defaults(func=cmd_verify)

    bench.add_parser(sub)
    matrix_cli.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _sigterm)
    args = build_parser().parse_args(argv)
    try:
        rc: int = args.func(args)
        return rc
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    entry()
