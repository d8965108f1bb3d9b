"""Integration tests boot real guests on the real lab kernel (built once, cached)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lab import runner


@pytest.fixture(scope="session")
def built() -> runner.Built:
    return runner.build_all()


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "logs"
    d.mkdir()
    yield d
