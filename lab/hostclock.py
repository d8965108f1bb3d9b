"""The guest clock under TCG: tell the guest kernel the TSC frequency instead of letting it guess.

Under TCG a guest's RDTSC reads the host's TSC (QEMU's ``cpu_get_host_ticks``), so the guest's TSC
runs at the host's frequency. The guest kernel calibrates it against the emulated PIT, which under
TCG fails in about half the boots ("tsc: Unable to calibrate against PIT"): the guest then runs on
the jiffies clocksource (4 ms steps) and every in-guest timing is coarse; and even when it works,
the clocksource watchdog drops the TSC later under load. With ``tsc_early_khz=`` (the frequency
measured here, once per host boot) and ``tsc=reliable`` the guest clock is the host's, and the
delay loop is derived from it instead of calibrated (0.36 s of each boot). ``nolapic_timer`` skips
the local APIC timer's 100-jiffy calibration loop (0.24 s): the PIT drives the tick, as under TCG
it is no slower. ``no_timer_check`` skips the IO-APIC's check that the timer interrupt arrives
within a busy-wait of about 60 ms of host time: on a loaded host the emulated PIT's interrupts can
come later than that, and the guest panicked ("IO-APIC + timer doesn't work!", seen in CI with a
kernel build beside it); the check finds broken chipsets, which QEMU's is not.

The same options also pick the guest kernel's copy and clear routines: TCG runs each iteration of a
``rep movsb``/``rep stosb`` as a separate pass through its translated code, so the kernel's
"fast string" routines (chosen for ERMS/FSRM/REP_GOOD CPUs, and ``-cpu max`` claims them) are its
slowest under emulation. ``clearcpuid=erms,fsrm,rep_good`` makes the kernel use its unrolled
``mov`` loops (as on a CPU without them): a 256 MiB pipe copy went 2.6-3.2 s -> 0.55-1.1 s, dd of
/dev/zero 0.36-0.76 s -> 0.11-0.19 s, and restart ran faster in six of six A/B pairs (``lab bench
cr --append``, 2026-12-01, under load). User space is not affected (glibc reads CPUID itself);
the kernel is tainted ``S`` (CPU out of spec), which only shows in reports that fail a run anyway.
"""

from __future__ import annotations

import functools
import platform
import subprocess
from pathlib import Path

from . import command, paths

# rdtsc against CLOCK_MONOTONIC_RAW over 200 ms: prints the TSC frequency in kHz
SOURCE = r"""
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static double ns(const struct timespec *t) { return t->tv_sec * 1e9 + t->tv_nsec; }

int main(void)
{
	struct timespec a, b;
	unsigned long long t0, t1;

	clock_gettime(CLOCK_MONOTONIC_RAW, &a);
	t0 = __rdtsc();
	do
		clock_gettime(CLOCK_MONOTONIC_RAW, &b);
	while (ns(&b) - ns(&a) < 2e8);
	t1 = __rdtsc();
	printf("%.0f\n", (t1 - t0) / ((ns(&b) - ns(&a)) / 1e6));
	return 0;
}
"""


def _invariant_tsc() -> bool:
    flags = next((ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("flags")), "")
    return {"constant_tsc", "nonstop_tsc"} <= set(flags.split())


@functools.cache
def tsc_khz() -> int | None:
    """The host's TSC frequency in kHz, or None where it is not a usable clock (no invariant TSC,
    not x86-64, no compiler). Measured once per host boot and cached."""
    if platform.machine() != "x86_64" or not _invariant_tsc():
        return None
    boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    cache = paths.cache_dir() / "host-tsc-khz"
    if cache.is_file():
        known, _, text = cache.read_text().partition(" ")
        if known == boot_id and text.strip().isdigit():
            return int(text)
    tool = paths.cache_dir() / "tools" / "tsckhz"
    try:
        tool.parent.mkdir(parents=True, exist_ok=True)
        src = tool.with_suffix(".c")
        src.write_text(SOURCE)
        command.run(["gcc", "-O2", "-o", str(tool), str(src)])
        khz = int(subprocess.run([str(tool)], capture_output=True, text=True, check=True, timeout=10).stdout)
    except (OSError, ValueError, subprocess.SubprocessError, command.CommandError):
        return None
    cache.write_text(f"{boot_id} {khz}\n")
    return khz


def tcg_append() -> str:
    """Kernel command-line options for a guest under TCG (see the module's docstring)."""
    khz = tsc_khz()
    clock = f"tsc_early_khz={khz} tsc=reliable " if khz else ""
    return clock + "nolapic_timer no_timer_check " + TCG_STRING_OPS


# the kernel's unrolled copy/clear loops instead of rep movsb/stosb (see the module's docstring)
TCG_STRING_OPS = "clearcpuid=erms,fsrm,rep_good"
