"""Build the lab's kernel: Debian's linux-source-6.1 + our series and overlay + config fragments.

Config, source preparation and the build are kept apart (as kunit does): ``prepare_tree`` makes the
source tree reflect the series and overlay while touching only files whose content changed (so the
kept build tree rebuilds incrementally), ``configure`` merges the fragments and checks that every
option survived, ``build_kernel`` ties them together behind a content-addressed cache.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import command, paths
from .progress import Progress

BASE_TARBALL = Path("/usr/src/linux-source-6.1.tar.xz")
BASE_PACKAGE = "linux-source-6.1"
KERNEL_DIR = paths.REPO / "kernel"
FRAGMENT_DIR = paths.REPO / "kernel-config"
DEFAULT_FRAGMENTS = ("base", "checkpoint")
# Bump when the recipe below changes in a way that changes the output.
RECIPE_VERSION = "1"
REPRODUCIBLE_ENV = {
    "KBUILD_BUILD_TIMESTAMP": "1970-01-01 00:00:00 UTC",
    "KBUILD_BUILD_USER": "lab",
    "KBUILD_BUILD_HOST": "lab",
    "KBUILD_BUILD_VERSION": "1",
}


class KernelBuildError(Exception):
    """The kernel could not be built; the message says which step and where the log is."""


@dataclass(frozen=True)
class KernelBuild:
    """A built kernel in the cache."""

    root: Path

    @property
    def image(self) -> Path:
        return self.root / "bzImage"

    @property
    def headers(self) -> Path:
        """``make headers_install`` output: compile guest programs with ``-I headers/include``."""
        return self.root / "headers"

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def metadata_path(self) -> Path:
        return self.root / "metadata.json"

    def metadata(self) -> dict[str, object]:
        data: dict[str, object] = json.loads(self.metadata_path.read_text())
        return data

    @property
    def key(self) -> str:
        return self.root.name


@dataclass(frozen=True)
class KernelInputs:
    """Everything that goes into a kernel build, each part hashable."""

    fragments: tuple[Path, ...]
    series_dir: Path = KERNEL_DIR / "patches"
    overlay_dir: Path = KERNEL_DIR / "files"
    tarball: Path = BASE_TARBALL

    @classmethod
    def from_names(cls, names: Sequence[str]) -> KernelInputs:
        frags = []
        for name in names:
            p = Path(name)
            if p.suffix != ".config":
                p = FRAGMENT_DIR / f"{name}.config"
            if not p.is_file():
                known = sorted(f.stem for f in FRAGMENT_DIR.glob("*.config"))
                raise KernelBuildError(f"no config fragment {p} (known: {', '.join(known)})")
            frags.append(p)
        return cls(fragments=tuple(frags))

    @property
    def flavor(self) -> str:
        return "-".join(f.stem for f in self.fragments) or "tiny"

    def patches(self) -> list[Path]:
        return read_series(self.series_dir)

    def overlay_files(self) -> list[Path]:
        if not self.overlay_dir.is_dir():
            return []
        return sorted(
            p.relative_to(self.overlay_dir)
            for p in self.overlay_dir.rglob("*")
            if p.is_file() and p.name != ".keep"
        )

    def key(self, base_version: str, compiler: str) -> str:
        d = command.Digest()
        d.add("recipe", RECIPE_VERSION)
        d.add("base", base_version)
        d.add("compiler", compiler)
        for frag in self.fragments:
            d.add_file(f"fragment/{frag.name}", frag)
        for patch in self.patches():
            d.add_file(f"patch/{patch.name}", patch)
        d.add_tree("overlay", self.overlay_dir)
        return d.hexdigest()


def read_series(series_dir: Path) -> list[Path]:
    """The patches named in ``series_dir/series``, in order (quilt format: ``#`` comments)."""
    series = series_dir / "series"
    if not series.is_file():
        return []
    out = []
    for n, line in enumerate(series.read_text().splitlines(), 1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        name = name.split()[0]
        patch = series_dir / name
        if not patch.is_file():
            raise KernelBuildError(f"{series}:{n}: patch {name} does not exist")
        out.append(patch)
    return out


_PATCH_PATH = re.compile(r"^(?:---|\+\+\+) (\S+)")


def patch_paths(patch: Path) -> set[str]:
    """Tree-relative paths a ``-p1`` patch touches (created, changed or deleted)."""
    found = set()
    for line in patch.read_text(errors="replace").splitlines():
        m = _PATCH_PATH.match(line)
        if m and m.group(1) != "/dev/null" and "/" in m.group(1):
            found.add(m.group(1).split("/", 1)[1])
    return found


def base_version() -> str:
    """Debian package version of linux-source-6.1, e.g. ``6.1.192-2``."""
    proc = command.run(["dpkg-query", "-W", "-f=${Version}", BASE_PACKAGE], check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise KernelBuildError(f"{BASE_PACKAGE} is not installed: run `lab doctor --install`")
    return proc.stdout.strip()


def compiler_version() -> str:
    return command.run(["gcc", "--version"]).stdout.splitlines()[0]


def kernel_cache() -> Path:
    return paths.cache_dir() / "kernel"


def pristine_tree(version: str, tarball: Path = BASE_TARBALL) -> Path:
    """Unpack the base tarball once per base version."""
    dest = kernel_cache() / f"pristine-{version}"
    if (dest / "Makefile").is_file():
        return dest
    tmp = Path(tempfile.mkdtemp(prefix="unpack-", dir=kernel_cache()))
    try:
        command.run(["tar", "-xJf", tarball, "-C", tmp, "--strip-components=1"])
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return dest


def _same_content(a: Path, b: Path) -> bool:
    return a.is_file() and b.is_file() and a.stat().st_size == b.stat().st_size and (
        a.read_bytes() == b.read_bytes()
    )


def _replace(src: Path, dest: Path) -> None:
    """Copy by write-and-rename: never writes into a file hard-linked with the pristine tree."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.lab-tmp")
    shutil.copy2(src, tmp)
    os.utime(tmp)  # a changed file must look newer than its objects
    tmp.rename(dest)


def prepare_tree(inputs: KernelInputs, pristine: Path, tree: Path) -> list[str]:
    """Make ``tree`` = pristine + series + overlay, rewriting only files whose content changed.

    Returns the tree-relative paths that were rewritten.
    """
    if not (tree / "Makefile").is_file():
        if tree.exists():
            shutil.rmtree(tree)
        command.run(["cp", "-al", pristine, tree])
    manifest = tree / ".lab-touched"
    before = set(manifest.read_text().split()) if manifest.is_file() else set()
    patches = inputs.patches()
    overlay = [str(p) for p in inputs.overlay_files()]
    now: set[str] = set(overlay)
    for patch in patches:
        now |= patch_paths(patch)

    changed = []
    with tempfile.TemporaryDirectory(prefix="stage-", dir=kernel_cache()) as stage_name:
        stage = Path(stage_name)
        for rel in now:
            src = pristine / rel
            if src.is_file():
                (stage / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, stage / rel)
        for patch in patches:
            proc = command.run(
                ["patch", "-p1", "-F0", "--no-backup-if-mismatch", "-d", stage, "-i", patch],
                check=False,
            )
            if proc.returncode != 0:
                raise KernelBuildError(
                    f"patch {patch.name} does not apply to {BASE_PACKAGE} without fuzz:\n{proc.stdout}"
                )
        for rel in overlay:
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(inputs.overlay_dir / rel, stage / rel)
        for rel in sorted(before | now):
            want = stage / rel if (stage / rel).is_file() else pristine / rel
            have = tree / rel
            if not want.is_file():
                if have.exists():
                    have.unlink()
                    changed.append(rel)
            elif not _same_content(want, have):
                _replace(want, have)
                changed.append(rel)
    manifest.write_text("\n".join(sorted(now)) + "\n")
    return changed


_OPTION = re.compile(r"^(CONFIG_\w+)=(.*)$|^# (CONFIG_\w+) is not set$")


def parse_config(text: str) -> dict[str, str]:
    """Options of a .config or fragment; ``n`` for ``# CONFIG_X is not set``."""
    opts = {}
    for line in text.splitlines():
        m = _OPTION.match(line.strip())
        if m:
            if m.group(1):
                opts[m.group(1)] = m.group(2)
            else:
                opts[m.group(3)] = "n"
    return opts


def wanted_options(fragments: Sequence[Path]) -> dict[str, tuple[str, str]]:
    """Option -> (value, fragment name) as the fragments ask for it, the last fragment winning.

    As the kernel's merge_config.sh does: a later fragment (say, ``criu`` after ``base``) may
    override an earlier one's value; only the last word counts.
    """
    wanted: dict[str, tuple[str, str]] = {}
    for frag in fragments:
        for opt, value in parse_config(frag.read_text()).items():
            wanted[opt] = (value, frag.name)
    return wanted


def missing_options(fragments: Sequence[Path], final_config: str) -> list[str]:
    """Fragment options whose (last) value did not survive into the final config, with what happened."""
    final = parse_config(final_config)
    problems = []
    for opt, (want, frag) in wanted_options(fragments).items():
        got = final.get(opt, "n")
        if got != want:
            shown = "not set" if got == "n" else got
            problems.append(f"{opt}={want} (from {frag}) became {shown}")
    return problems


def _make(tree: Path, build: Path, *targets: str, log: Path, progress: Progress) -> None:
    argv = [
        "make", "-C", str(tree), f"O={build}", "CC=ccache gcc", "HOSTCC=ccache gcc",
        f"-j{os.cpu_count() or 1}", *targets,
    ]
    env = {
        **os.environ,
        **REPRODUCIBLE_ENV,
        "CCACHE_BASEDIR": str(kernel_cache()),
        "LC_ALL": "C",
    }
    with open(log, "a") as logf:
        logf.write(f"$ {command.quote(argv)}\n")
        logf.flush()
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True,
            errors="replace",
        )
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                logf.write(line)
                progress.step(line.strip())
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        rc = proc.wait()
    if rc != 0:
        text = log.read_text(errors="replace")
        tail = "\n".join(text.splitlines()[-40:])
        hint = ""
        missing = re.findall(r"^(?:/bin/sh: \d+: ([\w.+-]+): not found"
                             r"|make(?:\[\d+\])?: ([\w.+-]+): No such file or directory)$", text, re.M)
        if tools := sorted({a or b for a, b in missing}):
            hint = (f"\nmissing host tool(s): {', '.join(tools)}: the build needs a package that `lab doctor` "
                    "does not know (add it to lab/host.py REQUIREMENTS)")
        raise KernelBuildError(f"make {' '.join(targets)} failed (exit {rc}):\n{tail}\nfull log: {log}{hint}")


def configure(tree: Path, build: Path, fragments: Sequence[Path], log: Path, progress: Progress) -> None:
    """tinyconfig + kvm_guest.config + fragments, olddefconfig, then check every option survived."""
    build.mkdir(parents=True, exist_ok=True)
    _make(tree, build, "tinyconfig", log=log, progress=progress)
    merge = [
        str(tree / "scripts/kconfig/merge_config.sh"), "-m", "-O", str(build), str(build / ".config"),
        str(tree / "kernel/configs/kvm_guest.config"), *map(str, fragments),
    ]
    proc = command.run(merge, cwd=tree, check=False)
    with open(log, "a") as logf:
        logf.write(proc.stdout)
    if proc.returncode != 0:
        raise KernelBuildError(f"merge_config.sh failed:\n{proc.stdout}")
    _make(tree, build, "olddefconfig", log=log, progress=progress)
    problems = missing_options(fragments, (build / ".config").read_text())
    if problems:
        raise KernelBuildError(
            "config fragment options did not survive olddefconfig (missing dependency?):\n  "
            + "\n  ".join(problems)
        )


def _cache_slot(inputs: KernelInputs, version: str) -> KernelBuild:
    return KernelBuild(kernel_cache() / "out" / inputs.key(version, compiler_version()))


def cached_build(inputs: KernelInputs) -> KernelBuild | None:
    """The finished build for ``inputs`` if the cache has it, without building anything."""
    if not BASE_TARBALL.is_file():
        return None
    out = _cache_slot(inputs, base_version())
    return out if out.metadata_path.is_file() else None


def build_kernel(inputs: KernelInputs, *, force: bool = False, progress: Progress | None = None) -> KernelBuild:
    """Return the cached build for ``inputs``, building it (incrementally) when missing."""
    progress = progress or Progress("kernel")
    version = base_version()
    out = _cache_slot(inputs, version)
    key = out.key
    if out.metadata_path.is_file() and not force:
        progress.done(f"cache hit {key}")
        return out
    with progress, paths.locked(kernel_cache() / "build.lock"):
        # the inputs are read again under the lock: a file edited while this build waited for it
        # must not be built under the key of what it was before
        out = _cache_slot(inputs, version)
        key = out.key
        if out.metadata_path.is_file() and not force:
            progress.done(f"cache hit {key} (built by another process)")
            return out
        timings: dict[str, float] = {}
        t0 = time.monotonic()
        pristine = pristine_tree(version, inputs.tarball)
        tree = kernel_cache() / "tree"
        changed = prepare_tree(inputs, pristine, tree)
        for _ in range(3):  # edited while the tree was prepared: prepare again, under the new key
            again = _cache_slot(inputs, version)
            if again.key == key:
                break
            out, key = again, again.key
            changed += prepare_tree(inputs, pristine, tree)
        else:
            raise KernelBuildError(f"kernel inputs keep changing while the tree is prepared ({key})")
        timings["prepare_s"] = time.monotonic() - t0
        build = kernel_cache() / f"build-{inputs.flavor}"
        staging = out.root.with_name(f".{key}.partial")
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        log = staging / "build.log"
        t = time.monotonic()
        progress.status("configure")
        configure(tree, build, inputs.fragments, log, progress)
        timings["configure_s"] = time.monotonic() - t
        t = time.monotonic()
        progress.status("build")
        try:
            _make(tree, build, "bzImage", log=log, progress=progress)
        except KernelBuildError:
            failed = kernel_cache() / "last-failed-build.log"
            shutil.copy2(log, failed)
            raise
        timings["build_s"] = time.monotonic() - t
        t = time.monotonic()
        _make(tree, build, "headers_install", f"INSTALL_HDR_PATH={staging / 'headers'}", log=log,
              progress=progress)
        timings["headers_s"] = time.monotonic() - t
        shutil.copy2(build / "arch/x86/boot/bzImage", staging / "bzImage")
        shutil.copy2(build / ".config", staging / "config")
        shutil.copy2(build / "System.map", staging / "System.map")
        release = (build / "include/config/kernel.release").read_text().strip()
        timings["total_s"] = time.monotonic() - t0
        meta = {
            "key": key,
            "base_package": BASE_PACKAGE,
            "base_version": version,
            "kernel_release": release,
            "compiler": compiler_version(),
            "fragments": [f.name for f in inputs.fragments],
            "patches": [p.name for p in inputs.patches()],
            "overlay_files": [str(p) for p in inputs.overlay_files()],
            "rewritten_sources": changed,
            "build_dir": str(build),
            "host": platform.node(),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "timings": {k: round(v, 2) for k, v in timings.items()},
            "env": REPRODUCIBLE_ENV,
        }
        (staging / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
        if out.root.exists():
            shutil.rmtree(out.root)
        staging.rename(out.root)
    progress.done(f"built {release} in {timings['total_s']:.0f} s")
    return out


def default_fragment_names() -> list[str]:
    """``$LAB_KERNEL_FRAGMENTS`` (e.g. "base checkpoint debug"), else base + checkpoint."""
    chosen = os.environ.get("LAB_KERNEL_FRAGMENTS", "").split()
    return chosen or [n for n in DEFAULT_FRAGMENTS if (FRAGMENT_DIR / f"{n}.config").is_file()]


def known_fragments() -> list[str]:
    return sorted(f.stem for f in FRAGMENT_DIR.glob("*.config"))


def default_inputs(extra: Sequence[str] = ()) -> KernelInputs:
    """The default fragments, then ``extra`` ones (a scenario's ``kernel_fragments``: the last wins)."""
    names = default_fragment_names()
    return KernelInputs.from_names([*names, *(e for e in extra if e not in names)])


def main_build(fragments: Sequence[str] | None, force: bool) -> int:
    try:
        inputs = KernelInputs.from_names(fragments) if fragments else default_inputs()
        result = build_kernel(inputs, force=force)
    except (KernelBuildError, command.CommandError) as exc:
        print(f"lab kernel build: {exc}", file=sys.stderr)
        return 1
    print(result.image)
    return 0
