"""Process migration between two guests: the ``migrate`` scenario step and the bench's process side.

freeze on the source -> carry the declared files -> checkpoint on the source and restart on the
target (streamed: ``checkpoint | linkcat send`` -> ``linkcat recv`` -> fifo -> ``restart`` over the
guest link's NIC, or the same through the link's shared memory with ``shmcat``; or as a file copied
through the host) -> the restored task runs on the target -> kill the original.
If restart fails, the source is thawed and must still be running: nothing is lost.

Pre-copy (``precopy=N``, streamed only): ``restart`` starts on the target first, on a fifo that a
holder keeps open; before the freeze, N rounds of ``checkpoint -p`` stream the running task's memory
(round 0 every page, later rounds what it dirtied since) into it, and restart keeps their pages;
frozen, ``checkpoint -P`` streams the last pass (every other state, the last dirty pages and
references to the rounds' pages): only that is read, and only the last dirty pages sent, while the
task is stopped.

With ``address`` (a service address on the scenario's network that the task's TCP connections use),
checkpoint holds the task's TCP connections (``checkpoint -T``, CHECKPOINT_TCP_HOLD: silent from
the moment each is saved), the target gets the address before restart binds it but answers no ARP
(``arp_ignore=8``), and once the task runs on the target the address leaves the source, the
original is killed (its connections vanish without FIN or RST; a segment that reaches the source
meanwhile is dropped, never answered with a RST as an address's unknown connection would be) and
the target announces the address (gratuitous ARP): the peers' segments go to the target from then
on. A failed migration removes the address
from the target and releases the held connections on the source (``checkpoint -R``) before the
thaw: the source carries on with its peers.

With ``verify`` (the default of the step) the lab snapshots the frozen source before checkpoint and
the restored task while ``restart -H`` holds it before its first instruction, and the step fails on
any difference that ``lab.verify.LEGITIMATE`` does not explain.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field

from . import engines, procsnap, verify
from .engines import Engine
from .machine import LINK_NIC, Machine
from .relay import host_pipe
from .ssh import Result
from .steps.base import poll_sh
from .steps.link import link_pipe, shm_pipe, shm_recv, shm_send
from .steps.network import add_address, announce_address, del_address
from .steps.process import CGROUP_ROOT, freeze_commands, kill_tree_sh

RESTORED_POLL = (
    'while [ "$(cat /proc/{pid}/comm 2>/dev/null)" = restart ]; do usleep 5000; done; '
    "cat /proc/{pid}/comm 2>/dev/null || echo GONE"
)
IMAGE = "/tmp/migrate.image"  # a file (our engine) or a directory (CRIU)
CKPT_LOG, RESTART_LOG = "/tmp/migrate.clog", "/tmp/migrate.rlog"
FIFO = "/tmp/migrate.fifo"  # what restart reads, on the target
RECV_LOG = "/tmp/migrate.recv"  # the stream receiver's stderr, on the target
# kill every `checkpoint` and `linkcat` of the guest (busybox has no pkill) and wait until they are gone
KILL_CHECKPOINT = (
    'for p in /proc/[0-9]*; do case "$(cat $p/comm 2>/dev/null)" in checkpoint|linkcat) kill -KILL ${p#/proc/};; '
    'esac; done; i=0; while grep -qxE "checkpoint|linkcat" /proc/[0-9]*/comm 2>/dev/null && [ $i -lt 400 ]; '
    'do i=$((i+1)); usleep 25000; done'
)
# a streamed image that stops for this long (a link cut) fails the restart on the target
STREAM_IDLE_S = 5
SEND_CONNECT_S = 20  # how long the sender tries to connect to the target's receiver


@dataclass
class Migration:
    """What one migration did and measured (seconds are host-side, monotonic)."""

    ok: bool = False
    new_pid: str = ""
    image_bytes: int = 0
    downtime_s: float = 0.0
    total_s: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    restart_log: str = ""
    before: verify.Snapshot | None = None  # procsnap of the frozen source
    after: verify.Snapshot | None = None  # procsnap of the restored task, held before it ran
    verdict: verify.Verdict | None = None  # with check: before vs after


def image_bytes(m: Machine, path: str) -> int:
    """Size of an image on ``m``: a file, or every file of an image directory."""
    out = m.ssh.run(f"find {shlex.quote(path)} -type f -exec stat -c %s {{}} +", 30, check=True).stdout
    return sum(int(n) for n in out.split())


def carry_files(src: Machine, dst: Machine, files: tuple[str, ...], *, via: str, link_addr: str, port: int,
                timeout: float) -> None:
    """Copy ``files`` (absolute paths) from ``src`` to ``dst`` as one tar stream: over the link's NIC
    or its shared memory, or through the host."""
    if not files:
        return
    rel = " ".join(shlex.quote(f.lstrip("/")) for f in files)
    pack = f"tar cf - -C / {rel}"
    if via == "host":
        failed, _ = host_pipe(src, dst, pack, "tar xf - -C /", timeout)
    elif via == "shm":
        failed = shm_pipe(src, dst, pack, "tar xf - -C /", timeout)
    else:
        failed = link_pipe(src, dst, pack, "tar xf - -C /", link_addr, port, timeout)
    if failed is not None:
        raise RuntimeError(f"carrying {', '.join(files)} to {dst.cfg.name} failed: {failed.stdout}{failed.stderr}")


@dataclass
class Precopy:
    """The target side of a pre-copy: restart reading the fifo, and the holder that keeps it open."""

    restarting: engines.Restarting
    holder: str  # its pid, on the target


def precopy_rounds(src: Machine, dst: Machine, pid: str, rounds: int, until: int, *, via: str, link_addr: str,
                   port: int, timeout: float, check: bool, engine: Engine, mig: Migration) -> Precopy:
    """Start restart on ``dst`` reading the fifo, then stream up to ``rounds`` pre-copy rounds of the
    running task ``pid`` into it (fewer once a round is no larger than ``until`` bytes). Measures
    ``precopy_s`` (all rounds), ``precopy_bytes`` and each round's bytes."""
    t0 = time.monotonic()
    dst.ssh.run(f"rm -rf {IMAGE} {RESTART_LOG}* {FIFO} && mkfifo {FIFO}", 10, check=True)
    # a writer for as long as the migration may take: the rounds' writers come and go
    holder = dst.ssh.run(f"setsid sh -c 'exec sleep {int(timeout) + 60} > {FIFO}' </dev/null >/dev/null 2>&1 & "
                         "echo $!", 10, check=True).stdout.strip()
    pc = Precopy(engine.start_restart(dst, FIFO, RESTART_LOG, "/", check, pid, timeout), holder)
    total = 0
    for n in range(rounds):
        source = f"checkpoint {pid} -p -l {CKPT_LOG}"
        sink = f"cat > {FIFO}"
        if via == "shm":
            failed = shm_pipe(src, dst, source, sink, timeout)
        else:
            failed = link_pipe(src, dst, source, sink, link_addr, port + 2, timeout)
        if failed is not None:
            log = src.ssh.run(f"tail -n 5 {CKPT_LOG} 2>/dev/null", 10).stdout
            raise RuntimeError(f"pre-copy round {n} of {pid} failed: {failed.stdout}{failed.stderr}{log}")
        # "checkpoint: pid P: pre-copy round N: K pages, B bytes"
        out = src.ssh.run(f"tail -n 1 {CKPT_LOG}", 10).stdout
        size = int(out.rsplit(" bytes", 1)[0].rsplit(" ", 1)[1]) if out.strip().endswith(" bytes") else 0
        mig.phases[f"round{n}_bytes"] = float(size)
        total += size
        if size <= until:
            break
    mig.phases["precopy_s"] = time.monotonic() - t0
    mig.phases["precopy_bytes"] = float(total)
    return pc


def migrate_process(src: Machine, dst: Machine, pid: str, *, via: str, link_addr: str = "", port: int = 7500,
                    files: tuple[str, ...] = (), cgroup: str = "v2", cut_link_after: float | None = None,
                    timeout: float = 300.0, check: bool = False, while_held: str = "",
                    engine: Engine | None = None, address: str = "", same_pid: bool = False,
                    precopy: int = 0, precopy_until: int = 0, stream_idle_s: float = STREAM_IDLE_S) -> Migration:
    """Migrate task ``pid`` from ``src`` to ``dst`` with ``engine`` (default: our kernel's C/R),
    carrying the declared ``files`` first.

    Our engine over the link streams: ``checkpoint | linkcat send`` on the source, ``linkcat recv``
    into a fifo that ``restart`` reads on the target, so checkpoint, transfer and restart overlap
    (``via: shm``: the same through the link's shared memory, ``shmcat send``/``recv``).
    Otherwise the image (a file, or CRIU's directory) is made on the source, carried like the files
    (over the link or through the host) and restarted from on the target.

    ``same_pid``: restart with the task's pid and tids (``restart -p``; a multi-threaded task needs it).
    ``check``: restore verification (snapshots on both sides, ``Migration.verdict``, with the
    engine's known differences). The time the snapshots take is measured as ``verify_s`` and not
    counted in the downtime. ``while_held``: a shell command run on the target (``{pid}`` = the
    restored pid) before its snapshot; the lab's own tests change the held task with it to show
    that verification notices.

    ``precopy``: at most that many pre-copy rounds while the task runs (see the module), fewer when
    a round is no larger than ``precopy_until`` bytes.

    ``stream_idle_s``: a streamed restart fails once no data came for this long (a cut link).
    """
    engine = engine or engines.get("kernel")
    streamed = via in ("link", "shm") and engine.name == "kernel"
    if cut_link_after is not None and not (streamed and via == "link"):
        raise ValueError("cut_link_after needs a streamed migration (via: link, engine: kernel)")
    if precopy and not streamed:
        raise ValueError("precopy needs a streamed migration (via: link or shm, engine: kernel)")
    if address and not streamed:
        raise ValueError("address needs a streamed migration (via: link or shm, engine: kernel)")
    moved = False  # the target has the address
    mig = Migration()
    freeze, thaw = freeze_commands(pid, cgroup)
    # the tools append to their logs: an earlier migration's lines must not pass for this one's
    src.ssh.run(f"rm -f {CKPT_LOG} /tmp/migrate.send", 10, check=True)
    dst.ssh.run(f"rm -f {RESTART_LOG} {RESTART_LOG}.err", 10, check=True)
    t0 = time.monotonic()
    pc: Precopy | None = None
    try:
        if precopy:
            pc = precopy_rounds(src, dst, pid, precopy, precopy_until, via=via, link_addr=link_addr, port=port,
                                timeout=timeout, check=check, engine=engine, mig=mig)
    except BaseException:
        dst.ssh.run(f"kill {pc.holder}; killall -q restart; true" if pc else "killall -q restart; true", 10)
        raise
    t_freeze = time.monotonic()
    res = src.ssh.run(freeze, 30)
    if not res.ok:
        raise RuntimeError(f"cannot freeze {pid} on {src.cfg.name}: {res.stdout}{res.stderr}")
    t_frozen = time.monotonic()
    mig.phases["freeze_s"] = t_frozen - t_freeze
    verify_s = 0.0
    try:
        if check:
            t = time.monotonic()
            mig.before = procsnap.snapshot(src, pid, timeout)
            verify_s += time.monotonic() - t
        carry_files(src, dst, files, via=via, link_addr=link_addr, port=port + 1, timeout=timeout)
        mig.phases["files_s"] = time.monotonic() - t_frozen
        t_ckpt = time.monotonic()
        if pc is None:
            dst.ssh.run(f"rm -rf {IMAGE} {RESTART_LOG}*", 10, check=True)
        if streamed:
            fifo = FIFO
            if pc is None:
                dst.ssh.run(f"rm -f {fifo} && mkfifo {fifo}", 10, check=True)
            if via == "shm":
                recv, sender = shm_recv(timeout, stream_idle_s), shm_send(SEND_CONNECT_S)
            else:
                recv = f"linkcat recv {port} {int(timeout)} {stream_idle_s:g}"
                sender = f"linkcat send {link_addr} {port} {SEND_CONNECT_S}"
            dst.ssh.run(f"setsid sh -c '{recv} > {fifo} 2>{RECV_LOG}' </dev/null >/dev/null 2>&1 &", 10,
                        check=True)
            if address:
                add_address(dst, address, announce=False, hidden=True)
                moved = True
            if pc is None:
                restarting = engine.start_restart(dst, fifo, RESTART_LOG, "/", check, pid, timeout,
                                                  same_pid=same_pid)
            else:
                restarting = pc.restarting
            flag = (" -T" if address else "") + (" -P" if pc else "")
            # pipefail: a checkpoint that fails mid-stream (its error record sent) fails the step
            # with its own log, not only restart's "record ... type 9999"
            send = f"set -o pipefail; checkpoint {pid}{flag} -l {CKPT_LOG} | {sender} 2>/tmp/migrate.send"
            if cut_link_after is not None:
                src.ssh.run(f"setsid sh -c {shlex.quote(send)} </dev/null >/dev/null 2>&1 &", 10, check=True)
                # mid-stream: once the receiver has the sender (a cut before the connect would only
                # show the connect failing, after waiting the sender's whole connect window)
                dst.ssh.run(poll_sh(f"grep -q '^linkcat: connected' {RECV_LOG}", SEND_CONNECT_S, 10),
                            SEND_CONNECT_S + 10)
                time.sleep(cut_link_after)
                src.qmp("set_link", name=LINK_NIC, up=False)
                sent = Result(send, 1, "", "link cut")
            else:
                sent = src.ssh.run(send, timeout)
            out = src.ssh.run(f"cat /tmp/migrate.send {CKPT_LOG} 2>/dev/null", 10).stdout
            for line in out.splitlines():
                if line.startswith(("linkcat: ", "shmcat: ")) and line.split()[1].isdigit():
                    mig.image_bytes = int(line.split()[1])
            if pc:
                mig.phases["last_pass_bytes"] = float(mig.image_bytes)
                mig.image_bytes += int(mig.phases["precopy_bytes"])
        else:
            src.ssh.run(f"rm -rf {IMAGE}", 10, check=True)
            sent = engines.checkpoint(engine, src, pid, IMAGE, CKPT_LOG, f"{CGROUP_ROOT[cgroup]}/lab-frozen",
                                        timeout)
            restarting = None
            if sent.ok:
                mig.phases["checkpoint_s"] = time.monotonic() - t_ckpt
                t_copy = time.monotonic()
                mig.image_bytes = image_bytes(src, IMAGE)
                carry_files(src, dst, (IMAGE,), via=via, link_addr=link_addr, port=port, timeout=timeout)
                mig.phases["transfer_s"] = time.monotonic() - t_copy
                restarting = engine.start_restart(dst, IMAGE, RESTART_LOG, "/", check, pid, timeout,
                                                  same_pid=same_pid)
        t_restart = time.monotonic()
        mig.phases["sent_s"] = t_restart - t_ckpt
        state = "GONE"
        verify_after_s = 0.0
        # after a link cut nothing more arrives: the stream stops and restart fails within its idle
        # time (the cut waits for the connect; should the sender never have connected, the receiver
        # would wait its whole timeout while the task on A stays frozen): bound the wait by the
        # sender's connect window and the idle time
        wait_s = timeout + 30 if cut_link_after is None else stream_idle_s + SEND_CONNECT_S + 5
        new_pid = engine.wait_restored(dst, restarting, wait_s) if restarting is not None else ""
        if new_pid and check:
            assert restarting is not None
            if while_held:
                dst.ssh.run(while_held.format(pid=new_pid), 30, check=True)
            t = time.monotonic()
            mig.after = procsnap.snapshot(dst, new_pid, timeout)
            verify_after_s = time.monotonic() - t
            verify_s += verify_after_s
            engine.release(dst, restarting)
        if new_pid:
            state = dst.ssh.run(RESTORED_POLL.format(pid=new_pid), timeout + 30).stdout.strip()
        t_running = time.monotonic() - verify_after_s  # as if nobody had looked
        if check:
            mig.phases["verify_s"] = verify_s
        if streamed:
            mig.phases["stream_s"] = t_running - t_ckpt  # checkpoint, transfer and restart overlap
        else:
            mig.phases["restart_s"] = t_running - t_restart
        mig.restart_log = dst.ssh.run(f"cat {RESTART_LOG} {RESTART_LOG}.err 2>/dev/null", 10).stdout
        if not sent.ok:
            mig.restart_log = src.ssh.run(f"tail -n 40 {CKPT_LOG} 2>/dev/null", 10).stdout + mig.restart_log
        if sent.ok and state not in ("GONE", "restart", ""):
            mig.ok = True
            mig.new_pid = new_pid
            mig.downtime_s = t_running - t_frozen - (verify_s - verify_after_s)
            if address:
                # the address leaves the source first: a peer's segment that reached the source
                # once its held connections are gone (killed) would be answered with a RST; to an
                # address the source no longer has it is dropped, and retransmitted to the target
                del_address(src, address)
            # the task and, for a tree, every descendant (the freeze took them all)
            src.ssh.run(kill_tree_sh(pid, thaw, 10), 40)
            if address:
                announce_address(dst, address)
            if mig.before is not None and mig.after is not None:
                mig.verdict = verify.compare(mig.before, mig.after, gaps=engine.differences)
        mig.total_s = time.monotonic() - t0 - verify_s
        return mig
    finally:
        if pc is not None:
            dst.ssh.run(f"kill {pc.holder} 2>/dev/null; true", 10)
        if not mig.ok:
            # nothing lost: stop what is left of the transfer and let the original run on
            if src.is_running():
                if cut_link_after is not None:
                    src.qmp("set_link", name=LINK_NIC, up=True)
                src.ssh.run("killall -q linkcat shmcat checkpoint criu; true", 10)
                if address:
                    # and wait until the checkpoint is gone (killall does not wait); one that dies
                    # releases what it held on its way out: wait for it, then release whatever a
                    # finished one left held, then thaw
                    src.ssh.run(KILL_CHECKPOINT, 30)
                    src.ssh.run(f"checkpoint {pid} -R -l {CKPT_LOG}", 20)
                src.ssh.run(thaw, 20)
            if dst.is_running():
                dst.ssh.run("killall -q linkcat shmcat restart criu; true", 10)
                if moved:
                    dst.ssh.run(f"ip addr del {address}/24 dev net0; sysctl -qw net.ipv4.conf.net0.arp_ignore=0",
                                10)
