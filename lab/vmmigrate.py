"""Whole-VM migration over QMP, the baseline that process migration is compared with.

The target is a second QEMU with the same configuration started with ``-incoming defer``; it is
told where to listen with ``migrate-incoming`` and the source is sent there with ``migrate``. The
stream is a UNIX socket in a private run dir. QEMU's own figures (total time, downtime, bytes) are
read from ``query-migrate`` once the MIGRATION event reports completion.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .machine import Machine, MachineError


@dataclass(frozen=True)
class VMMigration:
    total_s: float  # QEMU's total-time
    downtime_s: float  # QEMU's downtime (guest paused)
    bytes: int  # RAM bytes transferred
    wall_s: float  # host-measured, migrate command to completion
    status: dict[str, Any]


def incoming(src: Machine, name: str, log_dir: Path) -> Machine:
    """A stopped twin of ``src`` waiting for a migration (``-incoming defer``), same keys and disks.

    Launch it with ``launch(wait_ssh=False)``: the guest arrives with the migration.
    """
    link = src.cfg.link and dataclasses.replace(src.cfg.link, local=name)  # its own socket, same peer
    cfg = dataclasses.replace(src.cfg, name=name, accel=src.accel, link=link,
                              extra_args=(*src.cfg.extra_args, "-incoming", "defer"))
    return Machine(cfg, log_dir, keys=src.keys)


def migrate_vm(src: Machine, dst: Machine, sock: Path, timeout: float = 600.0) -> VMMigration:
    """Migrate ``src`` into ``dst`` (launched, waiting). On return ``dst`` runs the guest."""
    uri = f"unix:{sock}"
    dst.qmp("migrate-incoming", uri=uri)
    src.qmp("migrate-set-capabilities", capabilities=[{"capability": "events", "state": True}])
    t0 = time.monotonic()
    src.qmp("migrate", uri=uri)
    deadline = t0 + timeout
    while True:
        ev = src.event_wait("MIGRATION", timeout=max(1.0, deadline - time.monotonic()))
        status = ev.get("data", {}).get("status")
        if status == "completed":
            break
        if status in ("failed", "cancelled"):
            raise MachineError(f"VM migration {status}: {src.qmp('query-migrate')}")
        if time.monotonic() > deadline:
            raise MachineError(f"VM migration did not complete in {timeout:.0f} s")
    wall = time.monotonic() - t0
    info: dict[str, Any] = src.qmp("query-migrate")
    ram = info.get("ram", {})
    return VMMigration(
        total_s=info.get("total-time", 0) / 1000.0,
        downtime_s=info.get("downtime", 0) / 1000.0,
        bytes=int(ram.get("transferred", 0)),
        wall_s=wall,
        status=info,
    )

