"""Build the guest initramfs: busybox, dropbear and its libraries, and our programs.

The image is generic: per-guest settings (hostname, addresses, keys) reach the guest through QEMU's
fw_cfg at boot, and scenario workloads are appended as a second cpio archive (the kernel unpacks
concatenated archives), so one cached image serves every guest and scenario.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import command, kernel, paths
from .progress import Progress

IMAGES_DIR = paths.REPO / "images"
ROOTFS_DIR = IMAGES_DIR / "rootfs"
GUEST_SRC = IMAGES_DIR / "guest"
SAMPLES_SRC = IMAGES_DIR / "samples"
BUSYBOX = Path("/bin/busybox")
DROPBEAR = Path("/usr/sbin/dropbear")
RECIPE_VERSION = "2"
CFLAGS = ("-static", "-O2", "-Wall", "-s")
# Guest programs that are themselves checkpointed (the generic workload, the benchmark's task) stay
# static: their images then hold no shared-library mappings. The tools link against the guest's
# libc instead: a static glibc program is ~700 KB, and every MB of initramfs costs ~20 ms of boot
# under TCG (unpacked, then poisoned page by page when the initrd is freed).
STATIC_PROGRAMS = frozenset({"crworkload", "crbench"})
DYNAMIC_CFLAGS = ("-O2", "-Wall", "-s")


class ImageBuildError(Exception):
    """The guest image could not be built."""


@dataclass(frozen=True)
class GuestImage:
    root: Path

    @property
    def initrd(self) -> Path:
        return self.root / "initramfs.cpio"

    @property
    def key(self) -> str:
        return self.root.name


def _package_version(name: str) -> str:
    proc = command.run(["dpkg-query", "-W", "-f=${Version}", name], check=False)
    return proc.stdout.strip() if proc.returncode == 0 else "missing"


def shared_libraries(binary: Path) -> list[Path]:
    """The shared objects ``binary`` loads (ldd), including the dynamic loader."""
    out = command.run(["ldd", binary]).stdout
    libs = []
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts:
            target = parts[parts.index("=>") + 1]
            if target.startswith("/"):
                libs.append(Path(target))
        elif parts and parts[0].startswith("/"):
            libs.append(Path(parts[0]))
    return libs


def library_closure(binary: Path) -> list[Path]:
    """What ``binary`` needs to run in the guest: its shared objects (none for a static program).

    Raises :class:`ImageBuildError` naming the libraries the host's loader cannot find.
    """
    proc = command.run(["ldd", binary], check=False)
    if proc.returncode != 0:
        if "not a dynamic executable" in proc.stdout or "statically linked" in proc.stdout:
            return []
        raise ImageBuildError(f"ldd {binary} failed: {proc.stdout.strip()}")
    missing = sorted({line.split()[0] for line in proc.stdout.splitlines() if "=> not found" in line})
    if missing:
        raise ImageBuildError(f"{binary} needs libraries the host does not have: {', '.join(missing)}")
    return shared_libraries(binary)


def compile_static(source: Path, output: Path, headers: Path, extra: Sequence[str] = (),
                   cflags: Sequence[str] = CFLAGS) -> None:
    """Compile one guest program (statically unless ``cflags`` say otherwise) against the built
    kernel's exported headers."""
    output.parent.mkdir(parents=True, exist_ok=True)
    argv = ["gcc", *cflags, *extra, "-I", str(headers / "include"), "-o", str(output), str(source), "-lm"]
    proc = command.run(argv, check=False)
    if proc.returncode != 0:
        raise ImageBuildError(f"cannot compile {source}:\n$ {command.quote(argv)}\n{proc.stdout}")


def write_cpio(root: Path, output: Path) -> None:
    """Pack ``root`` as a newc cpio archive owned by root with fixed mtimes (reproducible)."""
    for p in [root, *root.rglob("*")]:
        os.utime(p, (0, 0), follow_symlinks=False)
    names = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    with open(output, "wb") as out:
        proc = subprocess.run(
            ["cpio", "--quiet", "-o", "-H", "newc", "-R", "0:0", "--reproducible"],
            input="\n".join(names).encode(), cwd=root, stdout=out, stderr=subprocess.PIPE, check=False,
        )
    if proc.returncode != 0:
        raise ImageBuildError(f"cpio failed: {proc.stderr.decode(errors='replace')}")


def _programs(src_dir: Path) -> list[Path]:
    return sorted(src_dir.glob("*.c")) if src_dir.is_dir() else []


def image_key(kbuild: kernel.KernelBuild) -> str:
    d = command.Digest()
    d.add("recipe", RECIPE_VERSION)
    d.add("kernel", kbuild.key)  # the headers the programs are compiled against
    d.add("busybox", _package_version("busybox-static"))
    d.add("dropbear", _package_version("dropbear-bin"))
    d.add("compiler", kernel.compiler_version())
    d.add("cflags", " ".join(CFLAGS))
    d.add("dynamic", " ".join(DYNAMIC_CFLAGS) + " static:" + ",".join(sorted(STATIC_PROGRAMS)))
    for lib in shared_libraries(DROPBEAR):
        d.add(f"lib/{lib.name}", command.sha256_file(lib.resolve()))
    d.add_tree("rootfs", ROOTFS_DIR)
    d.add_tree("guest", GUEST_SRC)
    d.add_tree("samples", SAMPLES_SRC)
    return d.hexdigest()


def _install(src: Path, dest: Path, mode: int = 0o755) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)
    dest.chmod(mode)


def populate(root: Path, kbuild: kernel.KernelBuild) -> None:
    """Lay out the guest filesystem under ``root``."""
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "run", "root",
              "etc/dropbear", "var/log", "samples", "home/lab", "mnt"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "tmp").chmod(0o1777)
    (root / "root").chmod(0o700)
    _install(BUSYBOX, root / "bin/busybox")
    applets = command.run([str(BUSYBOX), "--list-full"]).stdout.split()
    for applet in applets:
        link = root / applet
        if not link.exists() and not link.is_symlink():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to("/bin/busybox")
    (root / "init").symlink_to("/bin/busybox")
    _install(DROPBEAR, root / "usr/sbin/dropbear")
    for lib in shared_libraries(DROPBEAR):
        _install(lib.resolve(), root / str(lib).lstrip("/"))
    for src in ROOTFS_DIR.rglob("*"):
        if src.is_file():
            dest = root / src.relative_to(ROOTFS_DIR)
            mode = 0o755 if os.access(src, os.X_OK) else 0o644
            _install(src, dest, mode)
    for src in _programs(GUEST_SRC):
        out = root / "usr/bin" / src.stem
        if src.stem in STATIC_PROGRAMS:
            compile_static(src, out, kbuild.headers)
            continue
        compile_static(src, out, kbuild.headers, cflags=DYNAMIC_CFLAGS)
        for lib in library_closure(out):
            if not (root / str(lib).lstrip("/")).exists():
                _install(lib.resolve(), root / str(lib).lstrip("/"))
    for src in _programs(SAMPLES_SRC):
        compile_static(src, root / "samples" / src.stem, kbuild.headers)


def build_image(kbuild: kernel.KernelBuild, *, force: bool = False,
                progress: Progress | None = None) -> GuestImage:
    progress = progress or Progress("image")
    for tool in (BUSYBOX, DROPBEAR):
        if not tool.exists():
            raise ImageBuildError(f"{tool} is missing: run `lab doctor --install`")
    key = image_key(kbuild)
    cache = paths.cache_dir() / "image"
    out = GuestImage(cache / key)
    if out.initrd.is_file() and not force:
        progress.done(f"cache hit {key}")
        return out
    with progress, paths.locked(cache / "build.lock"):
        if out.initrd.is_file() and not force:
            progress.done(f"cache hit {key} (built by another process)")
            return out
        with tempfile.TemporaryDirectory(prefix="rootfs-", dir=cache) as tmp:
            root = Path(tmp) / "root"
            progress.status("populate")
            populate(root, kbuild)
            staging = cache / f".{key}.partial"
            if staging.exists():
                shutil.rmtree(staging)
            staging.mkdir()
            write_cpio(root, staging / "initramfs.cpio")
            (staging / "kernel-key").write_text(kbuild.key + "\n")
            if out.root.exists():
                shutil.rmtree(out.root)
            staging.rename(out.root)
    size = out.initrd.stat().st_size / 1e6
    progress.done(f"built {key} ({size:.1f} MB)")
    return out


@dataclass(frozen=True)
class Binary:
    """A host program copied into the guest at ``dst``, with its library closure unless told not to."""

    path: Path
    dst: str
    closure: bool = True


@dataclass(frozen=True)
class Files:
    """A file or a directory tree (scripts, data) copied into the guest at ``dst``, modes kept."""

    src: Path
    dst: str


def _tree(src: Path) -> list[Path]:
    return [src] if not src.is_dir() else sorted(src.rglob("*"))


def _add_files(d: command.Digest, item: Files) -> None:
    d.add("files", f"{item.src} -> {item.dst}")
    for p in _tree(item.src):
        rel = str(p.relative_to(item.src)) if p != item.src else "."
        if p.is_symlink():
            d.add(f"link/{rel}", os.readlink(p))
        elif p.is_file():
            d.add(f"file/{rel}", f"{os.access(p, os.X_OK)}")
            d.add_file(f"data/{rel}", p)
        elif p.is_dir():
            d.add(f"dir/{rel}", "")


def _copy_files(item: Files, root: Path) -> None:
    dest = root / item.dst.lstrip("/")
    if item.src.is_dir():
        shutil.copytree(item.src, dest, symlinks=True, dirs_exist_ok=True)
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(item.src, dest)
    for p in [dest, *dest.rglob("*")] if dest.is_dir() else [dest]:
        if not p.is_symlink():
            p.chmod(0o755 if p.is_dir() or os.access(p, os.X_OK) else 0o644)


def workload_archive(sources: Iterable[tuple[str, Path]], kbuild: kernel.KernelBuild,
                     binaries: Iterable[Binary] = (), files: Iterable[Files] = ()) -> Path | None:
    """Scenario workloads in one cached cpio.

    C sources (name, file) are compiled to /usr/local/bin/NAME; host binaries are copied to their
    ``dst`` with their shared libraries at the host paths; files and directories go to their ``dst``.
    """
    items = sorted(sources)
    bins = sorted(binaries, key=lambda b: b.dst)
    trees = list(files)
    if not items and not bins and not trees:
        return None
    d = command.Digest()
    d.add("kernel", kbuild.key)
    d.add("cflags", " ".join(CFLAGS))
    d.add("dynamic", " ".join(DYNAMIC_CFLAGS) + " static:" + ",".join(sorted(STATIC_PROGRAMS)))
    for name, src in items:
        d.add(f"src/{name}", src.read_bytes())
        for header in sorted(src.parent.glob("*.h")):  # what #include "x.h" beside it may pull in
            d.add(f"hdr/{name}/{header.name}", header.read_bytes())
    libs: dict[Path, list[Path]] = {}
    for b in bins:
        libs[b.path] = library_closure(b.path) if b.closure else []
        d.add(f"bin/{b.dst}", command.sha256_file(b.path.resolve()))
        for lib in libs[b.path]:
            d.add(f"lib/{lib}", command.sha256_file(lib.resolve()))
    for t in trees:
        _add_files(d, t)
    cache = paths.cache_dir() / "workloads"
    archive = cache / f"{d.hexdigest()}.cpio"
    if archive.is_file():
        return archive
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wl-", dir=cache) as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        for name, src in items:
            compile_static(src, root / "usr/local/bin" / name, kbuild.headers)
        for b in bins:
            for lib in libs[b.path]:
                _install(lib.resolve(), root / str(lib).lstrip("/"))
            _install(b.path.resolve(), root / b.dst.lstrip("/"))
        for t in trees:
            _copy_files(t, root)
        part = Path(tmp) / "out.cpio"
        write_cpio(root, part)
        part.rename(archive)
    return archive


def scenario_layers(sources: Iterable[tuple[str, Path]], kbuild: kernel.KernelBuild,
                    binaries: Iterable[Binary] = (), files: Iterable[Files] = (),
                    packages: Sequence[str] = ()) -> list[Path]:
    """The cpio layers a scenario's guests boot with on top of the image: packages, then workloads."""
    from . import packages as debian

    layers = []
    pkg_layer = debian.layer(packages)
    if pkg_layer is not None:
        layers.append(pkg_layer.path)
    archive = workload_archive(sources, kbuild, binaries, files)
    if archive is not None:
        layers.append(archive)
    return layers


def compose_initrd(image: GuestImage, extra: Path | Sequence[Path] | None, dest: Path) -> Path:
    """The initrd a guest boots: the base image, then each extra layer (later files win)."""
    extras = [extra] if isinstance(extra, Path) else list(extra or ())
    if not extras:
        return image.initrd
    with open(dest, "wb") as out:
        for part in (image.initrd, *extras):
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out)
    dest.chmod(stat.S_IRUSR | stat.S_IWUSR)
    return dest


def with_packages(image: GuestImage, names: Sequence[str]) -> Path:
    """The image's initramfs with a layer of Debian packages on top (cached); the image's own without."""
    from . import packages as debian

    pkg_layer = debian.layer(names)
    if pkg_layer is None:
        return image.initrd
    dest = paths.cache_dir() / "packages" / "initrd" / f"{image.key}-{pkg_layer.key}.cpio"
    if not dest.is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_suffix(f".{os.getpid()}.part")
        compose_initrd(image, pkg_layer.path, part)
        part.rename(dest)
    return dest


def main_build(force: bool, names: Sequence[str] = ()) -> int:
    from . import packages as debian

    try:
        kbuild = kernel.build_kernel(kernel.default_inputs())
        image = build_image(kbuild, force=force)
        initrd = image.initrd
        if names:
            with Progress("packages") as progress:
                progress.status("resolve, download, unpack")
                pkg_layer = debian.layer(names)
            assert pkg_layer is not None
            size = pkg_layer.path.stat().st_size / 1e6
            progress.done(f"{len(pkg_layer.packages)} packages ({' '.join(p.name for p in pkg_layer.packages)}), "
                          f"layer {pkg_layer.key} ({size:.1f} MB)")
            initrd = with_packages(image, names)
    except (ImageBuildError, debian.PackageError, kernel.KernelBuildError, command.CommandError) as exc:
        print(f"lab image build: {exc}", file=sys.stderr)
        return 1
    print(initrd)
    return 0
