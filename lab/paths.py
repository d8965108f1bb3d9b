"""Where the lab keeps its inputs (the repository) and its outputs (the cache)."""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """The lab's cache root: ``$LAB_CACHE_DIR`` or ``$XDG_CACHE_HOME/lab``."""
    override = os.environ.get("LAB_CACHE_DIR")
    if override:
        root = Path(override)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(xdg) / "lab"
    root.mkdir(parents=True, exist_ok=True)
    return root


def run_root() -> Path:
    """Parent of the per-guest private run directories (sockets, keys)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    root = Path(base) / "lab" if base and os.access(base, os.W_OK) else cache_dir() / "run"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


def artifacts_dir() -> Path:
    """Where failing runs leave console logs and images: ``$LAB_ARTIFACTS`` or ./artifacts."""
    return Path(os.environ.get("LAB_ARTIFACTS", str(REPO / "artifacts")))


def new_run_dir(prefix: str) -> Path:
    """A private (0700) run directory that records its owner, so a sweep can find orphans."""
    d = Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=run_root()))
    d.chmod(0o700)
    (d / "owner").write_text(f"{os.getpid()}\n")
    return d


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock file, so parallel lab processes (xdist workers) take turns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
