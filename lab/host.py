"""Host prerequisites: what the lab needs on the machine, and ``lab doctor [--install]``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from . import command


@dataclass(frozen=True)
class Requirement:
    package: str  # Debian package that provides it
    probe: str  # an executable on PATH, or an absolute path that must exist
    why: str

    def present(self) -> bool:
        if self.probe.startswith("/"):
            return Path(self.probe).exists()
        return shutil.which(self.probe) is not None


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("qemu-system-x86", "qemu-system-x86_64", "runs the guests"),
    Requirement("linux-source-6.1", "/usr/src/linux-source-6.1.tar.xz", "the base kernel source"),
    Requirement("gcc", "gcc", "compiles the kernel and guest programs"),
    Requirement("libc6-dev", "/usr/lib/x86_64-linux-gnu/libc.a", "static guest programs"),
    Requirement("make", "make", "kernel build"),
    Requirement("flex", "flex", "kernel build (kconfig)"),
    Requirement("bison", "bison", "kernel build (kconfig)"),
    Requirement("bc", "bc", "kernel build"),
    Requirement("libelf-dev", "/usr/include/libelf.h", "kernel build (objtool)"),
    Requirement("libssl-dev", "/usr/include/openssl/ssl.h", "kernel build (sign-file, certs)"),
    Requirement("xz-utils", "xz", "unpacks the kernel source"),
    Requirement("lz4", "lz4", "compresses the kernel image (fast to decompress at boot)"),
    Requirement("patch", "patch", "applies the kernel series"),
    Requirement("rsync", "rsync", "kernel build (make headers_install)"),
    Requirement("cpio", "cpio", "packs the initramfs"),
    Requirement("ccache", "ccache", "fast kernel rebuilds"),
    Requirement("busybox-static", "/bin/busybox", "guest userland"),
    Requirement("dropbear-bin", "/usr/sbin/dropbear", "guest SSH server and host keys"),
    Requirement("openssh-client", "ssh", "lab shell"),
    Requirement("kmod", "depmod", "kernel build"),
)


def missing() -> list[Requirement]:
    return [r for r in REQUIREMENTS if not r.present()]


def install_command(reqs: list[Requirement]) -> list[str]:
    pkgs = sorted({r.package for r in reqs})
    return ["apt-get", "install", "-y", "--no-install-recommends", *pkgs]


def doctor(install: bool) -> int:
    """Report every prerequisite; with ``install`` apt-get what is missing (root only)."""
    for r in REQUIREMENTS:
        mark = "ok " if r.present() else "MISSING"
        print(f"  {mark:8} {r.package:18} {r.probe:40} {r.why}")
    kvm = os.access("/dev/kvm", os.R_OK | os.W_OK)
    print(f"  {'ok' if kvm else 'note':8} {'/dev/kvm':18} {'usable' if kvm else 'absent: TCG only'}")
    todo = missing()
    if not todo:
        print("doctor: all host prerequisites present")
        return 0
    cmd = install_command(todo)
    if not install:
        print(f"doctor: {len(todo)} missing; install with:\n  sudo apt-get update && sudo {command.quote(cmd)}")
        return 1
    if os.geteuid() != 0:
        print(f"doctor: not root; run:\n  sudo apt-get update && sudo {command.quote(cmd)}")
        return 1
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-q"], cmd + ["-q"]):
        print(f"$ {command.quote(argv)}", flush=True)
        if subprocess.run(argv, env=env, check=False).returncode != 0:
            print("doctor: apt-get failed", file=sys.stderr)
            return 1
    still = missing()
    if still:
        print(f"doctor: still missing after install: {', '.join(r.package for r in still)}")
        return 1
    print("doctor: all host prerequisites present")
    return 0
