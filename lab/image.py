"""Build the guest initramfs: busybox, dropbear and its libraries, and our statically linked programs.

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
RECIPE_VERSION = "1"
CFLAGS = ("-static", "-O2", "-Wall", "-s")


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


def compile_static(source: Path, output: Path, headers: Path, extra: Sequence[str] = ()) -> None:
    """Compile one guest program statically against the built kernel's exported headers."""
    output.parent.mkdir(parents=True, exist_ok=True)
    argv = ["gcc", *CFLAGS, *extra, "-I", str(headers / "include"), "-o", str(output), str(source), "-lm"]
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
        compile_static(src, root / "usr/bin" / src.stem, kbuild.headers)
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
    with kernel.locked(cache / "build.lock"):
        if out.initrd.is_file() and not force:
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


def workload_archive(sources: Iterable[tuple[str, Path]], kbuild: kernel.KernelBuild) -> Path | None:
    """Compile scenario workloads (name, C source) into a cached cpio installing /usr/local/bin/NAME."""
    items = sorted(sources)
    if not items:
        return None
    d = command.Digest()
    d.add("kernel", kbuild.key)
    d.add("cflags", " ".join(CFLAGS))
    for name, src in items:
        d.add(f"src/{name}", src.read_bytes())
    cache = paths.cache_dir() / "workloads"
    archive = cache / f"{d.hexdigest()}.cpio"
    if archive.is_file():
        return archive
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wl-", dir=cache) as tmp:
        root = Path(tmp) / "root"
        for name, src in items:
            compile_static(src, root / "usr/local/bin" / name, kbuild.headers)
        part = Path(tmp) / "out.cpio"
        write_cpio(root, part)
        part.rename(archive)
    return archive


def compose_initrd(image: GuestImage, extra: Path | None, dest: Path) -> Path:
    """The initrd a guest boots: the base image, plus the workload archive when there is one."""
    if extra is None:
        return image.initrd
    with open(dest, "wb") as out:
        for part in (image.initrd, extra):
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out)
    dest.chmod(stat.S_IRUSR | stat.S_IWUSR)
    return dest


def main_build(force: bool) -> int:
    try:
        kbuild = kernel.build_kernel(kernel.default_inputs())
        image = build_image(kbuild, force=force)
    except (ImageBuildError, kernel.KernelBuildError, command.CommandError) as exc:
        print(f"lab image build: {exc}", file=sys.stderr)
        return 1
    print(image.initrd)
    return 0
