"""Debian packages as a guest image layer: resolve with apt, download, unpack, pack as a cpio.

``layer(["python3-minimal", "sqlite3"])`` asks apt on the host for the packages and their dependency
closure (Depends and Pre-Depends, no Recommends or Suggests, amd64 or all), exactly as apt itself
resolves it (``apt-get install -s`` against an empty dpkg database), downloads the exact versions
(``apt-get download``), unpacks each with ``dpkg-deb -x`` into one staging root, drops what the guest
does not need (documentation, man pages, locales), builds the dynamic loader's cache for the staged
libraries (``ldconfig -r``) and packs the root as a cpio archive that the runner appends to the
initramfs at boot. The layer is cached by the requested names and the exact resolved versions.

Maintainer scripts are not run. Packages whose work busybox already does in the guest, or which only
maintainer scripts use (``BUSYBOX_COVERS``), are left out unless a scenario names them: apt is told
they are installed, so neither they nor their own dependencies come in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import command, paths

RECIPE_VERSION = "2"
ARCH = "amd64"
ARCH_TRIPLET = "x86_64-linux-gnu"
NAME_RE = re.compile(r"[a-z0-9][a-z0-9+.-]+")
# Left out of a layer unless asked for by name; apt sees them as installed (versions: its candidates).
BUSYBOX_COVERS = (
    # the guest's shell and tools are busybox's
    "bash", "bsdutils", "coreutils", "dash", "debianutils", "diffutils", "findutils", "grep", "gzip",
    "hostname", "login", "mawk", "sed", "tar", "util-linux",
    # used by maintainer scripts only, which are not run; base-files and base-passwd would replace the
    # guest's own /etc files
    "adduser", "base-files", "base-passwd", "debconf", "dpkg", "init-system-helpers", "lsb-base",
    "passwd", "sensible-utils", "sysvinit-utils", "ucf",
)
# Paths (relative to the root) the guest does not get: documentation, translations, and glibc's
# loadable charset converters (8 MB; iconv keeps its built-in UTF-8, ASCII, Latin-1, UCS-2/4).
SKIP_PATHS = ("usr/share/doc", "usr/share/doc-base", "usr/share/man", "usr/share/info",
              "usr/share/locale", "usr/share/lintian", "usr/share/bug", "usr/share/bash-completion",
              f"usr/lib/{ARCH_TRIPLET}/gconv")
APT_OPTIONS = ("-o", "APT::Install-Recommends=false", "-o", "APT::Install-Suggests=false",
               "-o", f"APT::Architecture={ARCH}", "-o", "APT::Sandbox::User=root", "-q")
APT_LISTS = Path("/var/lib/apt/lists")
FRESH_LISTS_S = 600
APT_ARCHIVES = Path("/var/cache/apt/archives")  # apt's own download cache: reused when it has a file


class PackageError(Exception):
    """Packages could not be resolved, downloaded or unpacked; ``names`` are the culprits, if known."""

    def __init__(self, message: str, names: Sequence[str] = ()) -> None:
        self.names = tuple(names)
        super().__init__(message)


@dataclass(frozen=True, order=True)
class Resolved:
    """One package of a closure, as apt resolved it."""

    name: str
    version: str
    arch: str

    @property
    def deb_name(self) -> str:
        """The file name apt gives this package's .deb (``:`` of an epoch written ``%3a``)."""
        return f"{self.name}_{self.version.replace(':', '%3a')}_{self.arch}.deb"


@dataclass(frozen=True)
class Layer:
    path: Path
    packages: tuple[Resolved, ...]
    key: str


def parse_stanzas(text: str) -> list[dict[str, str]]:
    """Debian control stanzas (``apt-cache show``, a dpkg status file) -> dicts; continuation lines joined."""
    out: list[dict[str, str]] = []
    cur: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line.strip():
            if cur:
                out.append(cur)
            cur, last = {}, ""
        elif line[0] in " \t" and last:
            cur[last] += "\n" + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            last = key.strip()
            cur[last] = value.strip()
    if cur:
        out.append(cur)
    return out


_INST = re.compile(r"^Inst (\S+) (?:\[[^]]*\] )?\((\S+) .*\[([^]]+)\]\)", re.M)
_UNKNOWN = (re.compile(r"^E: Unable to locate package (\S+)", re.M),
            re.compile(r"^E: Package '([^']+)' has no installation candidate", re.M),
            re.compile(r"^E: Couldn't find any package by \S+ '([^']+)'", re.M))


def parse_simulation(text: str) -> list[Resolved]:
    """The packages ``apt-get install -s`` would install, in its order ("Inst NAME (VERSION ... [ARCH])")."""
    return [Resolved(m.group(1).split(":")[0], m.group(2), m.group(3)) for m in _INST.finditer(text)]


def unknown_names(text: str) -> list[str]:
    """Package names apt's error output says it does not know (or cannot install: virtual, no candidate)."""
    return sorted({m.group(1) for rx in _UNKNOWN for m in rx.finditer(text)})


def fake_status(stanzas: Iterable[dict[str, str]]) -> str:
    """A dpkg status file that says these packages are installed and held (with what they provide, no
    dependencies). Held: without their dependencies apt would otherwise see them as another version
    of the same number and, for some closures (criu: util-linux), install them again."""
    parts = []
    for s in stanzas:
        lines = [f"Package: {s['Package']}", "Status: hold ok installed", f"Version: {s['Version']}",
                 f"Architecture: {s.get('Architecture', ARCH)}", "Maintainer: lab", "Description: lab"]
        for key in ("Provides", "Multi-Arch", "Essential"):
            if key in s:
                lines.append(f"{key}: {s[key]}")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def have_apt() -> bool:
    return all(shutil.which(t) for t in ("apt-get", "apt-cache", "dpkg-deb"))


def _apt_state_key() -> str:
    """What apt resolves against: its configuration and package lists (names, sizes, mtimes)."""
    d = command.Digest()
    for root in (Path("/etc/apt"), APT_LISTS):
        if root.is_dir():
            for p in sorted(root.rglob("*")):
                if p.is_file() and p.name != "lock":
                    st = p.stat()
                    d.add(str(p), f"{st.st_size} {st.st_mtime_ns}")
    return d.hexdigest()


_updated = False


def _lists_age() -> float:
    """Seconds since ``apt-get update`` last wrote its lists (infinite without lists)."""
    # ctime: when apt wrote the file (the mtime is the archive's Last-Modified); every update rewrites
    # the InRelease files, unchanged Packages files are kept
    times = [p.stat().st_ctime for p in APT_LISTS.glob("*Release")] if APT_LISTS.is_dir() else []
    return time.time() - max(times) if times else float("inf")


def _apt_update() -> bool:
    """``apt-get update`` after a failed lookup: at most once per process, as root, and not when the
    lists are minutes old (then the name really is unknown). True if it ran and succeeded."""
    global _updated
    if _updated or os.geteuid() != 0 or _lists_age() < FRESH_LISTS_S:
        return False
    _updated = True
    proc = command.run(["apt-get", "update", "-q"], check=False)
    return proc.returncode == 0


def _cache() -> Path:
    d = paths.cache_dir() / "packages"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _simulate(names: Sequence[str], workdir: Path) -> subprocess.CompletedProcess[str]:
    skipped = [n for n in BUSYBOX_COVERS if n not in names]
    show = command.run(["apt-cache", "show", "--no-all-versions", *skipped], check=False)
    status = workdir / "status"
    status.write_text(fake_status(parse_stanzas(show.stdout)))
    return command.run(["apt-get", "install", "-s", *APT_OPTIONS, "-o", f"Dir::State::status={status}",
                        "--", *names], check=False)


def resolve(names: Sequence[str]) -> list[Resolved]:
    """The closure apt installs for ``names`` on an empty system (minus ``BUSYBOX_COVERS``), memoized.

    Unknown names (or a stale package list) make one ``apt-get update`` and a second try; then a
    :class:`PackageError` names the packages apt does not know.
    """
    names = sorted(set(names))
    for n in names:
        if not NAME_RE.fullmatch(n):
            raise PackageError(f"{n!r} is not a Debian package name", [n])
    if not have_apt():
        raise PackageError("packages need apt-get, apt-cache and dpkg-deb on the host (a Debian host)", names)
    memo_dir = _cache() / "resolved"
    memo_dir.mkdir(exist_ok=True)
    d = command.Digest()
    d.add("recipe", RECIPE_VERSION)
    d.add("names", " ".join(names))
    d.add("covers", " ".join(BUSYBOX_COVERS))
    d.add("apt", _apt_state_key())
    memo = memo_dir / f"{d.hexdigest()}.json"
    if memo.is_file():
        return [Resolved(*r) for r in json.loads(memo.read_text())]
    with tempfile.TemporaryDirectory(prefix="apt-", dir=_cache()) as tmp:
        proc = _simulate(names, Path(tmp))
        if proc.returncode != 0 and _apt_update():
            proc = _simulate(names, Path(tmp))
    if proc.returncode != 0:
        unknown = unknown_names(proc.stdout)
        if unknown:
            raise PackageError(f"apt has no installable package named {', '.join(unknown)} "
                               "(unknown, or only virtual)", unknown)
        errors = "\n".join(line for line in proc.stdout.splitlines() if not line.startswith(("Reading", "Building")))
        raise PackageError(f"apt cannot install {' '.join(names)}:\n{errors.strip()}", names)
    resolved = parse_simulation(proc.stdout)
    wrong = [r for r in resolved if r.arch not in (ARCH, "all")]
    if wrong:
        raise PackageError(f"apt chose packages of another architecture: {wrong}", [r.name for r in wrong])
    missing = [n for n in names if n not in {r.name for r in resolved}]
    if missing:  # e.g. a virtual package satisfied by something else: say what was meant
        raise PackageError(f"not a real package (apt installs something else for it): {', '.join(missing)}",
                           missing)
    tmp_memo = memo.with_suffix(f".{os.getpid()}.tmp")
    tmp_memo.write_text(json.dumps([[r.name, r.version, r.arch] for r in resolved]))
    tmp_memo.rename(memo)
    return resolved


def _deb_fields(deb: Path) -> Resolved:
    out = command.run(["dpkg-deb", "-f", deb, "Package", "Version", "Architecture"]).stdout
    f = parse_stanzas(out)[0]
    return Resolved(f["Package"], f["Version"], f["Architecture"])


def download(packages: Sequence[Resolved]) -> dict[Resolved, Path]:
    """The .deb of each package: from the lab's cache, apt's own, or ``apt-get download`` of that version."""
    debs = _cache() / "debs"
    debs.mkdir(exist_ok=True)
    out: dict[Resolved, Path] = {}
    with paths.locked(debs / ".lock"):
        want = []
        for p in packages:
            mine = debs / p.deb_name
            if not mine.is_file() and (APT_ARCHIVES / p.deb_name).is_file():
                shutil.copyfile(APT_ARCHIVES / p.deb_name, mine.with_suffix(".part"))
                mine.with_suffix(".part").rename(mine)
            if mine.is_file():
                out[p] = mine
            else:
                want.append(p)
        if want:
            with tempfile.TemporaryDirectory(prefix="dl-", dir=debs) as tmp:
                specs = [f"{p.name}:{p.arch}={p.version}" if p.arch != "all" else f"{p.name}={p.version}"
                         for p in want]
                argv = ["apt-get", "download", *APT_OPTIONS, "--", *specs]
                proc = command.run(argv, cwd=Path(tmp), check=False)
                if proc.returncode != 0 and _apt_update():
                    proc = command.run(argv, cwd=Path(tmp), check=False)
                if proc.returncode != 0:
                    raise PackageError(f"apt-get download failed:\n$ {command.quote(argv)}\n{proc.stdout.strip()}",
                                       [p.name for p in want])
                for deb in Path(tmp).glob("*.deb"):
                    got = _deb_fields(deb)
                    deb.rename(debs / got.deb_name)
            for p in want:
                if not (debs / p.deb_name).is_file():
                    raise PackageError(f"apt-get download did not bring {p.deb_name}", [p.name])
                out[p] = debs / p.deb_name
    return out


def unpack(debs: Iterable[Path], root: Path) -> None:
    """``dpkg-deb -x`` each package into ``root``; drop ``SKIP_PATHS``; the loader cache for its libraries."""
    root.mkdir(parents=True, exist_ok=True)
    for deb in debs:
        command.run(["dpkg-deb", "-x", deb, root])
    for rel in SKIP_PATHS:
        p = root / rel
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
    conf = root / "etc/ld.so.conf"
    if not conf.exists():
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text("include /etc/ld.so.conf.d/*.conf\n")
    # ldconfig -r chroots into the root: it needs root (it only writes etc/ld.so.cache there)
    command.run(["ldconfig", "-r", root, "-X"])


def layer_key(packages: Sequence[Resolved]) -> str:
    d = command.Digest()
    d.add("recipe", RECIPE_VERSION)
    d.add("skip", " ".join(SKIP_PATHS))
    for p in sorted(packages):
        d.add("package", f"{p.name} {p.version} {p.arch}")
    return d.hexdigest()


def layer(names: Sequence[str]) -> Layer | None:
    """The cached cpio layer holding ``names`` and their dependencies; None when no package is asked for."""
    from .image import write_cpio

    if not names:
        return None
    resolved = resolve(names)
    key = layer_key(resolved)
    cache = _cache() / "layers"
    cache.mkdir(exist_ok=True)
    out = Layer(cache / f"{key}.cpio", tuple(resolved), key)
    if out.path.is_file():
        return out
    with paths.locked(cache / ".lock"):
        if out.path.is_file():
            return out
        debs = download(resolved)
        with tempfile.TemporaryDirectory(prefix="layer-", dir=cache) as tmp:
            root = Path(tmp) / "root"
            unpack([debs[p] for p in resolved], root)
            part = Path(tmp) / "layer.cpio"
            write_cpio(root, part)
            (cache / f"{key}.json").write_text(json.dumps(
                {"names": sorted(names), "packages": [[p.name, p.version, p.arch] for p in resolved]}, indent=1))
            part.rename(out.path)
    return out
