"""nox sessions for the lab. Each does its own set-up: host packages (as root), kernel, image.

    nox -s migrate             the main job: migrate scenarios, summary, JUnit XML + JSON results
    nox -s lint tests scenarios   what CI runs: lint, the lab's own tests, every scenario
    nox -s matrix              the nightly hardware-emulation matrix (-- --shard K/N, -- --list)
    nox -s nightly             the matrix's debug-all group: every scenario on the debug kernel
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

# virtualenv, not venv: Debian's nox depends on python3-virtualenv, while `python3 -m venv` needs
# python3-venv, which a new Debian machine lacks. Both spellings below also work on nox 2022.11
# (Debian bookworm's package) and on current nox from PyPI.
nox.options.default_venv_backend = "virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "tests"]

ROOT = Path(__file__).parent
RESULTS = ROOT / "results"
XDIST = os.environ.get("LAB_WORKERS", "2")
MATRIX = ROOT / "matrix" / "nightly.yaml"


def _setup(session: nox.Session, *, build: bool = True) -> None:
    """Install the lab, the host packages it needs, and build kernel and image (cached)."""
    session.install("-e", ".")
    session.run("lab", "doctor", "--install")
    if build:
        session.run("lab", "kernel", "build")
        session.run("lab", "image", "build")


def _pytest(session: nox.Session, name: str, *args: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    for old in RESULTS.glob(f"{name}*.json"):
        old.unlink()  # per-worker files of an earlier run would mix into the summary
    session.run(
        "pytest", "--strict-markers", f"--junitxml={RESULTS / (name + '.xml')}", *args, *session.posargs,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff and mypy on the lab package and its tests."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", "lab", "tests", "scenarios", "noxfile.py")
    session.run("mypy", "lab")


@nox.session
def tests(session: nox.Session) -> None:
    """The lab's own tests: unit tests (no guest) and integration tests (real guests)."""
    _setup(session)
    _pytest(session, "tests", "tests")


@nox.session
def scenarios(session: nox.Session) -> None:
    """Every YAML scenario under scenarios/, in parallel (pytest-xdist)."""
    _setup(session)
    _pytest(session, "scenarios", "scenarios", "-n", XDIST, f"--lab-json={RESULTS / 'scenarios.json'}")


@nox.session
def migrate(session: nox.Session) -> None:
    """The main job: migrate scenarios between two guests, with a readable summary."""
    _setup(session)
    target = ROOT / "scenarios" / "migrate"
    if not target.is_dir():
        session.error("scenarios/migrate/ does not exist yet (see the migrate issue)")
    _pytest(session, "migrate", str(target), "-n", XDIST, f"--lab-json={RESULTS / 'migrate.json'}")
    session.run("python", "-m", "lab.summary", str(RESULTS), "migrate")


def _matrix(session: nox.Session, *selection: str) -> None:
    session.env["LAB_NIGHTLY"] = "1"  # pytest collection's switch for the long cells; the matrix names them
    listing = "--list" in session.posargs
    _setup(session, build=not listing)
    session.run("lab", "matrix", str(MATRIX), "--results", str(RESULTS), *selection, *session.posargs)


@nox.session
def matrix(session: nox.Session) -> None:
    """The nightly hardware-emulation matrix (matrix/nightly.yaml): CPU models, machines, SMP, memory,
    accel, kernel configurations and preemption models, cgroup v1/v2, cross-CPU C/R pairs. Writes
    results/report.html, results/matrix/items/*.json, results/kcidb.json and results/durations.json.
    Hours under TCG: for the schedule (.github/workflows/nightly-matrix.yml), never CI.
    `nox -s matrix -- --shard 2/3` runs one shard, `-- --list` only lists the items, `-- -k 'cross-cpu/*'`
    selects by id."""
    _matrix(session)


@nox.session
def nightly(session: nox.Session) -> None:
    """The matrix's debug-all group: every scenario on the debug kernel (KASAN, lockdep, kmemleak), the
    nightly-only cells included (the 10-minute race stress); `nox -s matrix` runs it with the rest."""
    _matrix(session, "-k", "debug-all/*")
