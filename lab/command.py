"""Run host commands: print each one quoted, capture its output, fail with the evidence."""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


class CommandError(Exception):
    """A host command failed; carries the command line and the tail of its output."""

    def __init__(self, argv: Sequence[str], returncode: int, output: str, log: Path | None = None):
        self.argv = list(argv)
        self.returncode = returncode
        self.output = output
        self.log = log
        tail = "\n".join(output.rstrip().splitlines()[-30:])
        where = f"\nfull log: {log}" if log else ""
        super().__init__(f"command failed with exit {returncode}: {quote(argv)}\n{tail}{where}")


def quote(argv: Sequence[str | os.PathLike[str]]) -> str:
    return " ".join(shlex.quote(str(a)) for a in argv)


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    verbose: bool = False,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv``; on failure raise :class:`CommandError` with the output."""
    args = [str(a) for a in argv]
    if verbose:
        print(f"$ {quote(args)}", file=sys.stderr)
    full_env = {**os.environ, **env} if env else None
    proc = subprocess.run(
        args, cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, errors="replace", check=False,
    )
    if check and proc.returncode != 0:
        raise CommandError(args, proc.returncode, proc.stdout)
    return proc


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Digest:
    """A content hash built from named parts, so a cache key says what went into it."""

    def __init__(self) -> None:
        self._h = hashlib.sha256()

    def add(self, name: str, data: bytes | str) -> None:
        raw = data.encode() if isinstance(data, str) else data
        self._h.update(f"{name}\0{len(raw)}\0".encode())
        self._h.update(raw)

    def add_file(self, name: str, path: Path) -> None:
        self.add(name, path.read_bytes())

    def add_tree(self, name: str, root: Path) -> None:
        if not root.is_dir():
            return
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.name != ".keep":
                self.add_file(f"{name}/{p.relative_to(root)}", p)

    def hexdigest(self, length: int = 16) -> str:
        return self._h.hexdigest()[:length]
