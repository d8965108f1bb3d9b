"""Host prerequisites: what the lab needs on the machine, and ``lab doctor [--install]``.

``REQUIREMENTS`` is the doctor's list. It is kept honest by probing, not by review: ``toolbox()``
makes a directory of the executables that a new Debian machine would have after the README's set-up
(the packages every Debian root has, the README's ``nox`` and the doctor's list, each with the
packages it depends on), and the unit tests run the kernel build's ``headers_install`` and the image
builder with only that directory on ``PATH``. A tool that the build starts to need and the list lacks
(as rsync once was) fails them with "not found", on any machine, whatever else it has installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
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
    Requirement("vde2", "vde_switch", "the switch of a guest network of several guests (`network:`)"),
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
    Requirement("chromium", "chromium", "the lab's tests: the HTML report checked in a real headless browser"),
    Requirement("fonts-dejavu-core", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                "text for that browser (chromium only recommends a font)"),
)


# What a new Debian machine has before the doctor runs: a minimal root's packages (Essential, or
# Priority: required) plus these, with their dependencies; `nox` is what the README's command installs.
NEW_MACHINE_PACKAGES = ("apt", "python3", "git", "ca-certificates", "nox")
BIN_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


@dataclass(frozen=True)
class Package:
    """One installed Debian package, as dpkg knows it."""

    name: str
    essential: bool
    priority: str
    depends: tuple[tuple[str, ...], ...]  # Pre-Depends + Depends: groups of alternatives
    provides: tuple[str, ...]


_DPKG_FORMAT = (  # dpkg-query expands the \\t and \\n itself
    "${Package}\\t${Essential}\\t${Priority}\\t${db:Status-Abbrev}\\t${Pre-Depends}, ${Depends}\\t${Provides}\\n"
)


def _names(field: str) -> list[list[str]]:
    """``a (>= 1) | b:any, c`` -> [['a', 'b'], ['c']]."""
    groups = []
    for group in field.split(","):
        alts = [re.sub(r"[\s(].*$", "", alt.strip()).split(":")[0] for alt in group.split("|")]
        alts = [a for a in alts if a]
        if alts:
            groups.append(alts)
    return groups


def parse_dpkg_status(text: str) -> dict[str, Package]:
    """Parse ``dpkg-query -W -f=_DPKG_FORMAT`` output; only packages in state "ii" are kept."""
    db: dict[str, Package] = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) != 6 or not fields[3].startswith("ii"):
            continue
        name, essential, priority, _, depends, provides = fields
        db[name] = Package(
            name=name,
            essential=essential == "yes",
            priority=priority,
            depends=tuple(tuple(g) for g in _names(depends)),
            provides=tuple(p[0] for p in _names(provides)),
        )
    return db


def installed_packages() -> dict[str, Package]:
    out = command.run(["dpkg-query", "-W", f"-f={_DPKG_FORMAT}"]).stdout
    return parse_dpkg_status(out)


def closure(roots: Iterable[str], db: Mapping[str, Package]) -> set[str]:
    """``roots`` and every installed package they depend on, through any installed alternative."""
    providers: dict[str, list[str]] = {}
    for pkg in db.values():
        for virtual in pkg.provides:
            providers.setdefault(virtual, []).append(pkg.name)
    seen: set[str] = set()
    todo = [r for r in roots if r in db]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for group in db[name].depends:
            for alt in group:
                for real in ([alt] if alt in db else []) + providers.get(alt, []):
                    if real not in seen:
                        todo.append(real)
    return seen


def vouched_packages(db: Mapping[str, Package], *, without: Iterable[str] = ()) -> set[str]:
    """The packages a new machine has once the README's commands ran: base + nox + the doctor's list.

    ``without`` drops packages from the doctor's list (the unit tests use it to show that a probe
    fails when a package it needs is not listed).
    """
    drop = set(without)
    base = {p.name for p in db.values() if p.essential or p.priority == "required"}
    wanted = [*NEW_MACHINE_PACKAGES, *(r.package for r in REQUIREMENTS if r.package not in drop)]
    return closure([*base, *wanted], db)


def toolbox(dest: Path, packages: Iterable[str]) -> Path:
    """Fill ``dest`` with links to every executable on the usual PATH that ``packages`` provide.

    Links and alternatives (``awk`` -> mawk) count for the package whose file they resolve to.
    Returns ``dest``, to be used as the whole of ``PATH``.
    """
    names = sorted(set(packages))
    listed = command.run(["dpkg-query", "-L", *names]).stdout.splitlines() if names else []
    owned = {os.path.realpath(f) for f in listed if f.startswith("/")}
    dest.mkdir(parents=True, exist_ok=True)
    for d in reversed(BIN_DIRS):  # earlier PATH entries win, as in a shell
        if not os.path.isdir(d):
            continue
        for entry in os.scandir(d):
            real = os.path.realpath(entry.path)
            if real in owned and os.access(real, os.X_OK) and not os.path.isdir(real):
                link = dest / entry.name
                if link.is_symlink():
                    link.unlink()
                link.symlink_to(real)
    return dest


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
