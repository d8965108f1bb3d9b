"""Security scenarios (issue 9). The nightly cells under nightly/ are long: collected only when
LAB_NIGHTLY=1 (the nightly matrix sets it); `lab run scenarios/security/nightly/FILE.yaml` runs one
by hand."""

from __future__ import annotations

import os
from pathlib import Path


def pytest_ignore_collect(collection_path: Path, config: object) -> bool | None:
    if os.environ.get("LAB_NIGHTLY") == "1":
        return None
    here = Path(__file__).parent / "nightly"
    if collection_path == here or here in collection_path.parents:
        return True
    return None
