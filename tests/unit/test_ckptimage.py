"""The host-side image reader on images built here record by record (and on real ones in data/)."""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import pytest

from lab import ckptimage
from lab.ckptimage import HDR, MAGIC_HEAD, MAGIC_TAIL, NAMES, RECORDS, ImageError

DATA = Path(__file__).parent / "data" / "images"


def record(name: str, *values: object, payload: bytes = b"") -> bytes:
    rtype = NAMES[name]
    fmt = RECORDS[rtype][1]
    body = (struct.pack(fmt, *values) if fmt else b"") + payload
    raw = HDR.pack(rtype, HDR.size + len(body)) + body
    return raw + b"\0" * (-len(raw) % 8)


def string(text: str) -> bytes:
    return record("STRING", payload=text.encode() + b"\0")


def header() -> bytes:
    return (record("HEADER", MAGIC_HEAD, 2, 6, 1, 0, 1, 16, 65, 65, 65, 4096, 0, 1700000000, 0)
            + string("6.1.0") + string("#1 SMP") + string("x86_64")
            + record("HEADER_ARCH", 832, 8192, 0x7, 0))


def body() -> bytes:
    page = bytes(range(256)) * 16
    return (
        record("TASK", 42, 1, 17, 0, 0, 0, 0, 0, b"counter", 50000, 50000, 0, 1)
        + record("MM", 1, 0, 0, 0x400000, 0x401000, 0, 0, 0x600000, 0x600000, 0x7ffd0000, 0, 0, 0, 0, 0, 0, 0)
        + string("/usr/local/bin/counter")
        + record("VMA", 1, 0, 0x10000, 0x12000, 0x3, 0, 0)
        + record("PGARR", 1) + record("BUFFER", payload=struct.pack("<Q", 0x10000))
        + record("BUFFER", payload=page)
        + record("PGARR", 0)
    )


def tail(data: bytes) -> bytes:
    s, s2 = ckptimage.checksum(data)
    return record("TAIL", MAGIC_TAIL, s, s2)


def image() -> bytes:
    data = header() + body()
    return data + tail(data)


def test_parses_a_well_formed_image() -> None:
    img = ckptimage.parse(image())
    assert [r.name for r in img.records][:5] == ["HEADER", "STRING", "STRING", "STRING", "HEADER_ARCH"]
    assert img.uts == ("6.1.0", "#1 SMP", "x86_64")
    s = img.summary()
    assert s["comm"] == "counter" and s["vmas"] == 1 and s["pages"] == 1 and s["error"] is None
    assert "TASK" in img.records[5].describe() and "comm=counter" in img.records[5].describe()


def test_checksum_catches_a_bit_flip() -> None:
    data = bytearray(image())
    data[200] ^= 0x10
    with pytest.raises(ImageError, match="checksum|vma|type|length"):
        ckptimage.parse(bytes(data))


@pytest.mark.parametrize("cut", [3, 8, 64, 100, 300])
def test_truncation_is_reported(cut: int) -> None:
    with pytest.raises(ImageError):
        ckptimage.parse(image()[:cut])


def test_bad_magic() -> None:
    data = bytearray(image())
    data[8] ^= 1
    with pytest.raises(ImageError, match="magic"):
        ckptimage.parse(bytes(data))


def test_unknown_type_and_short_length() -> None:
    data = header() + HDR.pack(7777, 8)
    with pytest.raises(ImageError, match="unknown record type 7777"):
        ckptimage.parse(data)
    data = header() + HDR.pack(NAMES["TASK"], 4)
    with pytest.raises(ImageError, match="shorter than its header"):
        ckptimage.parse(data)
    data = header() + HDR.pack(NAMES["TASK"], 16) + b"\0" * 8
    with pytest.raises(ImageError, match="too short"):
        ckptimage.parse(data)


def test_huge_length() -> None:
    data = header() + HDR.pack(NAMES["BUFFER"], 0xFFFFFFF0)
    with pytest.raises(ImageError, match="truncated"):
        ckptimage.parse(data)


def test_error_record_is_reported() -> None:
    data = header() + record("ERROR", payload=b"\0checkpoint: fd 0 is a tty\0")
    img = ckptimage.parse(data)
    assert img.error == "checkpoint: fd 0 is a tty"
    assert ckptimage.main.__name__ == "main"


def test_data_after_tail() -> None:
    with pytest.raises(ImageError, match="after the tail"):
        ckptimage.parse(image() + string("x"))


def test_bad_vma() -> None:
    data = header() + record("VMA", 1, 0, 0x12000, 0x10000, 3, 0, 0)
    data += tail(data)
    with pytest.raises(ImageError, match="bad vma"):
        ckptimage.parse(data)


def test_main_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.img"
    good.write_bytes(image())
    assert ckptimage.main(good) == 0
    assert "comm=counter" in capsys.readouterr().out
    bad = tmp_path / "bad.img"
    bad.write_bytes(image()[:50])
    assert ckptimage.main(bad) == 1
    assert "bad.img" in capsys.readouterr().err
    assert ckptimage.main(tmp_path / "missing.img") == 1


def test_recorded_self_checkpoint_image() -> None:
    """An image the kernel wrote in a guest (seed sample self_checkpoint)."""
    img = ckptimage.read(DATA / "self_checkpoint.img")
    s = img.summary()
    assert s["comm"] == "self_checkpoint" and s["error"] is None
    assert s["vmas"] > 3 and s["pages"] > 0 and s["fds"] >= 1
    assert img.uts[2] == "x86_64"
    assert {ckptimage.VMA_TYPES[v.fields["vma_type"]] for v in img.all("VMA")} >= {"anon", "vdso"}


def test_recorded_error_image() -> None:
    """A failed checkpoint (stdout on a pipe) ends in an error record naming the descriptor."""
    img = ckptimage.read(DATA / "pipe_error.img")
    assert img.error is not None and "fd 1" in img.error and "pipe" in img.error
    assert ckptimage.main(DATA / "pipe_error.img") == 1


def test_reader_survives_corruptions_of_a_real_image() -> None:
    """Truncations and bit flips of a real image raise ImageError (or parse), never anything else."""
    import random

    data = (DATA / "self_checkpoint.img").read_bytes()
    rng = random.Random(1)
    rejected = 0
    for i in range(400):
        mutated = bytearray(data[: rng.randrange(len(data))] if i % 2 else data)
        if mutated and i % 2 == 0:
            pos = rng.randrange(len(mutated))
            mutated[pos] ^= 1 << rng.randrange(8)
        try:
            ckptimage.parse(bytes(mutated))
        except ImageError:
            rejected += 1
    assert rejected == 400  # the tail checksum catches every flip, the tail every truncation


def test_tamper_keeps_the_image_valid() -> None:
    data = image()
    other = ckptimage.tamper(data, release="6.9.9", arch=1)
    img = ckptimage.parse(other)  # still passes the checksum
    assert img.uts[0] == "6.9.9"
    assert img.header.fields["arch_id"] == 1
    assert len(other) == len(data)
    with pytest.raises(ImageError, match="does not fit"):
        ckptimage.tamper(data, release="x" * 100)


def socket_records() -> bytes:
    name = b"\1\0" + b"/tmp/s.sock\0"
    return (record("SOCKET", 1, 0, 1, 2, 0, 7, 0x8, 0, 212992, 212992, 10, -1, 1, 0, 0, 0,
                   2**64 - 1, 2**64 - 1, len(name), 0, name, b"")
            + string("/tmp/s.sock") + string("")
            + record("SOCKET_QUEUE", 1, 0, 3)
            + record("SOCKET_MSG", 3, 0, 0, 0) + record("BUFFER", payload=b"abc"))


def test_socket_records_are_decoded_with_their_names() -> None:
    data = header() + body() + socket_records()
    img = ckptimage.parse(data + tail(data))
    sock = img.first("SOCKET")
    assert sock.length == 344  # struct ckpt_hdr_socket
    assert sock.fields["laddr"] == "/tmp/s.sock" and sock.fields["raddr"] == "-"
    assert img.first("SOCKET_QUEUE").fields["bytes"] == 3
    assert ckptimage.sockaddr_text(b"\1\0\0abc\x01", 7) == "@abc\\x01"
    sin = b"\2\0" + (47101).to_bytes(2, "big") + bytes([127, 0, 0, 1]) + bytes(8)
    assert ckptimage.sockaddr_text(sin, 16) == "127.0.0.1:47101"
    loop6 = b"\n\0" + (47102).to_bytes(2, "big") + bytes(4) + bytes(15) + b"\1" + bytes(4)
    assert ckptimage.sockaddr_text(loop6, 28) == "[::1]:47102"
    mapped = b"\n\0" + (80).to_bytes(2, "big") + bytes(14) + b"\xff\xff" + bytes([10, 0, 2, 15, 0, 0, 0, 0])
    assert ckptimage.sockaddr_text(mapped, 28) == "[::ffff:10.0.2.15]:80"


def test_tamper_rewrites_a_named_field_of_the_nth_record() -> None:
    data = header() + body() + socket_records() + socket_records()
    data += tail(data)
    assert ckptimage.field_offset(NAMES["SOCKET"], "family") == (16, "H")
    assert ckptimage.field_offset(NAMES["SOCKET"], "laddr") == (88, "128s")
    other = ckptimage.tamper(data, fields={"SOCKET#1.family": 99, "SOCKET.peek_off": -5})
    img = ckptimage.parse(other)  # the checksum is fixed up
    assert [r.fields["family"] for r in img.all("SOCKET")] == [1, 99]
    assert img.first("SOCKET").fields["peek_off"] == -5
    with pytest.raises(ImageError, match="socket queue of 1 messages, 1099511627776 bytes"):
        ckptimage.parse(ckptimage.tamper(data, fields={"SOCKET_QUEUE.bytes": 1 << 40}))
    with pytest.raises(ImageError, match="no field"):
        ckptimage.tamper(data, fields={"SOCKET.nope": 1})
    with pytest.raises(ImageError, match="no record"):
        ckptimage.tamper(data, fields={"SOCKET#5.family": 1})


def timers_image(*timers: tuple[int, int], tid: int = 0) -> bytes:
    """An image with a POSIX_TIMERS record of SIGEV_THREAD_ID timers (id, flags), the second one signalling
    thread ``tid`` (0: the leader)."""
    entries = b"".join(ckptimage.PTIMER.pack(tid_, 0, 4, 34, 0, flags, 0, 1000, 0, -1, 0, tid * (i == 1), 0)
                       for i, (tid_, flags) in enumerate(timers))
    data = header() + record("POSIX_TIMERS", len(timers), 5, payload=entries) + body()
    return data + tail(data)


def test_posix_timers_are_read_and_their_ids_must_increase() -> None:
    img = ckptimage.parse(timers_image((0, 0x2), (3, 0)))
    timers = ckptimage.posix_timers(img.first("POSIX_TIMERS"))
    assert [t["id"] for t in timers] == [0, 3]
    assert [t["tid"] for t in timers] == [0, 0]
    with pytest.raises(ImageError, match="POSIX timer 3 signals thread 77, not a thread of the image"):
        ckptimage.parse(timers_image((0, 0), (3, 0), tid=77))
    assert ckptimage.PTIMER.size == 72
    with pytest.raises(ImageError, match="ids not increasing"):
        ckptimage.parse(timers_image((3, 0), (0, 0)))
    with pytest.raises(ImageError, match="bad flags"):
        ckptimage.parse(timers_image((0, 0x10)))


def test_shmem_and_pty_records_are_checked() -> None:
    data = header() + record("SHMEM", 1, 4, 0, 0, 4096) + body()
    with pytest.raises(ImageError, match="shmem 1 of kind 4"):
        ckptimage.parse(data + tail(data))
    data = header() + record("PTY", 1, 4, 0, 0, 0, 0, 0, 24, 80, 0, 0, 0) + body()
    with pytest.raises(ImageError, match="pty 1 end 4"):
        ckptimage.parse(data + tail(data))


def ipc_shm(ref: int = 1, key: int = 0x5CA1AB1E, mode: int = 0o640, flags: int = 0) -> bytes:
    return record("IPC_SHM", ref, key, 7, mode, 0, 0, 0, 0, 8192, flags, 0)


def test_ipc_shm_records_have_the_c_size_and_are_checked() -> None:
    data = header() + record("VMA", 7, 0, 0x20000, 0x22000, 0x23, 0, 8192) + ipc_shm() + body()
    img = ckptimage.parse(data + tail(data))
    shm = img.first("IPC_SHM")
    assert shm.length == 56
    assert (shm.fields["key"], shm.fields["id"], shm.fields["size"]) == (0x5CA1AB1E, 7, 8192)
    assert ckptimage.VMA_TYPES[img.first("VMA").fields["vma_type"]] == "sysv-shm"
    for bad, why in ((ipc_shm(mode=0o4600), "mode 0o4600"), (ipc_shm(ref=2), "segment 2"),
                     (ipc_shm(flags=2), "flags 0x2")):
        data = header() + bad + body()
        with pytest.raises(ImageError, match=why):
            ckptimage.parse(data + tail(data))
    data = header() + ipc_shm() + ipc_shm(mode=0o1640) + body()
    with pytest.raises(ImageError, match="repeated otherwise"):
        ckptimage.parse(data + tail(data))
    data = header() + ipc_shm() + ipc_shm() + ipc_shm(ref=2, key=0) + body()
    assert len(ckptimage.parse(data + tail(data)).all("IPC_SHM")) == 3


@pytest.mark.parametrize("flags", [ckptimage.FIFO_HUP, ckptimage.FIFO_ALL_HELD | ckptimage.FIFO_HUP])
def test_a_fifo_reader_may_carry_its_pollhup_state(flags: int) -> None:
    data = header() + record("FIFO", 1, 65536, 0, flags) + body()
    assert ckptimage.parse(data + tail(data)).all("FIFO")[0].fields["flags"] == flags


def test_unknown_fifo_flags_are_refused() -> None:
    data = header() + record("FIFO", 1, 65536, 0, 0x4) + body()
    with pytest.raises(ImageError, match="bad FIFO 1"):
        ckptimage.parse(data + tail(data))


def tree_record(*tasks: tuple[int, int, int, int, int, int]) -> bytes:
    """A TREE record of (pid, parent, pgid, sid, flags, exit_code) tasks; zombies named "z"."""
    z = ckptimage.TREE_ZOMBIE
    rows = b"".join(ckptimage.TREE_TASK.pack(pid, parent, pgid, sid, 0 if flags & ckptimage.TREE_GHOST else 17,
                                             flags, code, 0, 0, b"z" if flags & z else b"", 0,
                                             0x200 if flags & z else 0)
                    for pid, parent, pgid, sid, flags, code in tasks)
    return record("TREE", len(tasks), 0, payload=rows)


def tree_image(*tasks: tuple[int, int, int, int, int, int]) -> bytes:
    live = sum(1 for t in tasks if not t[4] & (ckptimage.TREE_ZOMBIE | ckptimage.TREE_GHOST))
    data = header() + tree_record(*tasks) + body() * live
    return data + tail(data)


def test_tree_is_decoded_and_drawn() -> None:
    img = ckptimage.parse(tree_image((10, -1, 10, 10, 0, 0), (11, 0, 10, 10, 0, 0), (12, 1, 12, 10, 0, 0),
                                     (13, 0, 10, 10, 1, 0x2a00)))
    tasks = img.tree()
    assert [t.pid for t in tasks] == [10, 11, 12, 13]
    assert tasks[3].zombie and tasks[3].comm == "z" and tasks[3].exit_code == 0x2a00
    assert img.summary()["tasks"] == 4
    lines = ckptimage.tree_lines(tasks)
    assert lines[2].startswith("    pid 12 pgid 12 sid 10")
    assert "zombie \"z\", exit code 0x2a00" in lines[3]


@pytest.mark.parametrize(("tasks", "why"), [
    (((10, -1, 0, 0, 0, 0), (11, 1, 0, 0, 0, 0)), "bad parent"),           # its own parent: a cycle
    (((10, -1, 0, 0, 0, 0), (11, 5, 0, 0, 0, 0)), "bad parent"),           # a missing parent
    (((10, 0, 0, 0, 0, 0),), "bad parent"),                                # a root with a parent
    (((10, -1, 0, 0, 0, 0), (10, 0, 0, 0, 0, 0)), "appears twice"),        # duplicate pids
    (((10, -1, 0, 0, 0, 0), (11, 0, 0, 0, 1, 0), (12, 1, 0, 0, 0, 0)), "bad parent"),  # zombie parent
    (((10, -1, 0, 0, 0, 0), (11, 0, 99, 0, 0, 0)), "not in the tree"),     # a group led from outside
    (((10, -1, 0, 0, 0, 0), (11, 0, 0, 10, 0, 0)), "not in the tree"),     # a session without a group
])
def test_hostile_trees_are_refused(tasks: tuple[tuple[int, int, int, int, int, int], ...], why: str) -> None:
    with pytest.raises(ImageError, match=why):
        ckptimage.parse(tree_image(*tasks))


def test_pid_namespace_and_ghosts_are_decoded() -> None:
    pidns, ghost = ckptimage.TREE_PIDNS, ckptimage.TREE_GHOST
    # the init of a namespace; a child in group 7 of session 7, both led by a dead task (a ghost)
    img = ckptimage.parse(tree_image((1, -1, 0, 0, pidns, 0), (3, 0, 7, 7, 0, 0), (7, 0, 7, 7, ghost, 0)))
    tasks = img.tree()
    assert tasks[2].ghost and not tasks[1].ghost and tasks[0].flags == pidns
    lines = ckptimage.tree_lines(tasks)
    assert "init of a pid namespace" in lines[0]
    assert "ghost (the dead leader of its group and session)" in lines[2]
    assert img.summary()["tasks"] == 3


@pytest.mark.parametrize(("tasks", "why"), [
    (((2, -1, 0, 0, ckptimage.TREE_PIDNS, 0),), "bad parent"),                       # a namespace's init is pid 1
    (((1, -1, 0, 0, 0, 0), (3, 0, 0, 0, ckptimage.TREE_PIDNS, 0)), "bad parent"),    # only the root's
    (((1, -1, 0, 0, 0, 0), (3, 0, 0, 0, 0, 0), (7, 1, 7, 0, ckptimage.TREE_GHOST, 0)), "bad parent"),  # not the root's
    (((1, -1, 0, 0, 0, 0), (3, 0, 7, 0, 0, 0), (7, 0, 3, 0, ckptimage.TREE_GHOST, 0)), "bad parent"),  # not its group
    (((1, -1, 0, 0, 0, 0), (3, 0, 0, 0, 0, 0), (7, 0, 7, 0, ckptimage.TREE_GHOST, 0)), "leads no group"),
    (((1, -1, 0, 0, 0, 0), (7, 0, 7, 0, ckptimage.TREE_GHOST, 0), (8, 1, 7, 0, 0, 0)), "bad parent"),  # its child
])
def test_hostile_namespaces_and_ghosts_are_refused(tasks: tuple[tuple[int, int, int, int, int, int], ...],
                                                    why: str) -> None:
    with pytest.raises(ImageError, match=why):
        ckptimage.parse(tree_image(*tasks))


def test_tree_and_task_sections_must_agree() -> None:
    data = header() + tree_record((10, -1, 0, 0, 0, 0), (11, 0, 0, 0, 0, 0)) + body()
    with pytest.raises(ImageError, match="2 live tasks in the tree, 1 task sections"):
        ckptimage.parse(data + tail(data))


def anon_records() -> bytes:
    return (record("EVENTFD", 12, 1, 0)
            + record("SIGNALFD", 1 << 11)
            + record("TIMERFD", 1, 0, 99_000_000_000, 50_000_000_000, 0, 0)
            + record("EPOLL", 1, 0)
            + record("EPOLL_ITEM", 3, 7, 0x19, 1, 42)
            + record("INOTIFY", 1, 1, 2, 0)
            + record("INOTIFY_WATCH", 1, 0x300, 0o40000, 0) + string("/tmp/d")
            + record("INOTIFY_EVENT", 1, 0x100, 0, 0) + string("new"))


def test_anonymous_inode_records_have_the_c_sizes() -> None:
    data = header() + body() + anon_records()
    img = ckptimage.parse(data + tail(data))
    sizes = {r.name: r.length for r in img.records}
    assert sizes["EVENTFD"] == 24 and sizes["SIGNALFD"] == 16 and sizes["TIMERFD"] == 48
    assert sizes["EPOLL"] == 16 and sizes["EPOLL_ITEM"] == 32
    assert sizes["INOTIFY"] == sizes["INOTIFY_WATCH"] == sizes["INOTIFY_EVENT"] == 24
    item = img.first("EPOLL_ITEM")
    assert (item.fields["objref"], item.fields["fd"], item.fields["data"]) == (3, 7, 42)
    assert img.first("TIMERFD").fields["interval_ns"] == 50_000_000_000
    with pytest.raises(ImageError, match="epoll of 70000 items"):
        ckptimage.parse(ckptimage.tamper(data + tail(data), fields={"EPOLL.nitems": 70000}))


def test_tamper_rewrites_a_field_of_one_posix_timer() -> None:
    data = timers_image((0, 0), (3, 0))
    out = ckptimage.tamper(data, fields={"POSIX_TIMERS.timers[1].value": 99})
    assert [t["value"] for t in ckptimage.posix_timers(ckptimage.parse(out).first("POSIX_TIMERS"))] == [0, 99]
    with pytest.raises(ImageError, match="signals thread 99"):
        ckptimage.parse(ckptimage.tamper(data, fields={"POSIX_TIMERS.timers[1].tid": 99}))
    with pytest.raises(ImageError, match="only POSIX_TIMERS"):
        ckptimage.tamper(data, fields={"POSIX_TIMERS.timers[0].nope": 1})


# pre-copy streams: rounds 0..N-1, then their last pass (whose clean pages are PGREFs)

def pc_header(uflags: int) -> bytes:
    return (record("HEADER", MAGIC_HEAD, 2, 6, 1, 0, 1, 16, 65, 65, 65, 4096, 0, 1700000000, uflags)
            + string("6.1.0") + string("#1 SMP") + string("x86_64")
            + record("HEADER_ARCH", 832, 8192, 0x7, 0))


def pc_round(n: int, chain: int = 0xC4A1) -> bytes:
    page = bytes([n]) * 4096
    data = (pc_header(ckptimage.CHECKPOINT_PRECOPY) + record("PRECOPY", chain, n, 0)
            + record("PGARR", 1) + record("BUFFER", payload=struct.pack("<Q", 0x11000))
            + record("BUFFER", payload=page) + record("PGARR", 0))
    return data + tail(data)


def pc_last(rounds: int, chain: int = 0xC4A1) -> bytes:
    b = body().replace(record("PGARR", 0), record("PGREF", 1) + record("BUFFER", payload=struct.pack("<Q", 0x11000))
                       + record("PGARR", 0))
    data = pc_header(ckptimage.CHECKPOINT_PRECOPY_LAST) + record("PRECOPY", chain, rounds, 0) + b
    return data + tail(data)


def test_precopy_stream_parses() -> None:
    img = ckptimage.parse(pc_round(0) + pc_round(1) + pc_last(2))
    assert img.summary()["precopy"] == {"chain": 0xC4A1, "round": 2, "refs": 1, "images": 3}
    assert ckptimage.parse(pc_round(0))  # a round alone can be read
    assert ckptimage.parse(pc_last(2))  # and a last pass alone


@pytest.mark.parametrize("stream, why", [
    (pc_round(0) + pc_round(1, chain=7) + pc_last(2), "round 1 of chain 0x7"),
    (pc_round(1) + pc_last(1), "round 1 of chain"),
    (pc_round(0) + pc_last(2), "with 2 rounds after 1 rounds"),
    (pc_round(0) + pc_last(1, chain=7), "last pass of chain 0x7"),
    (image() + pc_round(0), "data after the tail record"),
    (pc_round(0) + pc_round(1)[:-40], "truncated"),
])
def test_precopy_stream_errors(stream: bytes, why: str) -> None:
    with pytest.raises(ImageError, match=why):
        ckptimage.parse(stream)


def cow_body(mm_flags: int = ckptimage.MM_COW, vma_flags: int = ckptimage.VMA_INHERITED, cow_pages: int = 1) -> bytes:
    """A forked child's task section: its memory a copy of its parent's, one inherited vma whose first
    page is the parent's (PGCOW) and whose second is its own (PGARR)."""
    b = body().replace(record("MM", 1, 0, 0, 0x400000, 0x401000, 0, 0, 0x600000, 0x600000, 0x7ffd0000,
                              0, 0, 0, 0, 0, 0, 0),
                       record("MM", 1, 0, 0, 0x400000, 0x401000, 0, 0, 0x600000, 0x600000, 0x7ffd0000,
                              0, 0, 0, 0, 0, mm_flags, 0))
    b = b.replace(record("VMA", 1, 0, 0x10000, 0x12000, 0x3, 0, 0),
                  record("VMA", 1, vma_flags, 0x10000, 0x12000, 0x3, 0, 0))
    return b.replace(record("PGARR", 1), record("PGCOW", cow_pages)
                     + record("BUFFER", payload=struct.pack("<Q", 0x10000) * cow_pages) + record("PGARR", 1))


def test_copy_on_write_pages_of_a_forked_child() -> None:
    data = header() + cow_body()
    s = ckptimage.parse(data + tail(data)).summary()
    assert s["cow_pages"] == 1 and s["pages"] == 1


@pytest.mark.parametrize("kw, why", [
    ({"mm_flags": 0x2}, "bad mm flags 0x2"),
    ({"vma_flags": 0x4}, "bad vma flags 0x4"),
    ({"cow_pages": 0}, "PGCOW of 0 pages"),
])
def test_copy_on_write_records_are_checked(kw: dict[str, int], why: str) -> None:
    data = header() + cow_body(**kw)
    with pytest.raises(ImageError, match=why):
        ckptimage.parse(data + tail(data))


def test_pgref_outside_a_last_pass() -> None:
    data = header() + body().replace(record("PGARR", 0), record("PGREF", 1)
                                     + record("BUFFER", payload=struct.pack("<Q", 0x11000)) + record("PGARR", 0))
    with pytest.raises(ImageError, match="PGREF outside"):
        ckptimage.parse(data + tail(data))


def threaded_section(pid: int, tids: tuple[int, ...], tgid: int = 0, count: int = 0) -> bytes:
    """A task section whose THREADS record (``count`` threads, else its own) comes with ``tids``."""
    task = record("TASK", pid, 1, 17, 0, 0, 0, 0, 0, b"counter", 50000, 50000, 0, 1)
    rest = body()[len(task):]
    others = b"".join(record("THREAD_TASK", t, tgid or pid, 0, 0, b"t") for t in tids)
    return task + record("THREADS", count or len(tids) + 1, 0) + others + rest


def test_threads_are_checked_per_task_section_of_a_tree() -> None:
    tree = tree_record((10, -1, 0, 0, 0, 0), (11, 0, 0, 0, 0, 0))
    data = header() + tree + threaded_section(10, (12, 13)) + threaded_section(11, (14,))
    img = ckptimage.parse(data + tail(data))
    assert len(img.all("THREAD_TASK")) == 3 and img.summary()["threads"] == 5
    data = header() + tree + threaded_section(10, (12,)) + threaded_section(11, (14,), tgid=10)
    with pytest.raises(ImageError, match="thread 14 of process 10, whose leader 11"):
        ckptimage.parse(data + tail(data))
    data = header() + tree + threaded_section(10, (12,)) + threaded_section(11, (14,), count=3)
    with pytest.raises(ImageError, match="3 threads, but 1 THREAD_TASK"):
        ckptimage.parse(data + tail(data))


def test_inet_option_record_has_the_c_size() -> None:
    data = header() + body() + record("SOCKET_INET", 7, 33, 0x10, 4, 77, 9, 12345, 1000, 0x3)
    img = ckptimage.parse(data + tail(data))
    opts = img.first("SOCKET_INET")
    assert opts.length == 32  # struct ckpt_hdr_socket_inet
    assert (opts.fields["linger_s"], opts.fields["ttl"], opts.fields["maxseg"]) == (7, 33, 1000)
    with pytest.raises(ImageError, match="bad inet options"):
        ckptimage.parse(ckptimage.tamper(data + tail(data), fields={"SOCKET_INET.flags": 0x80}))


def tcp_socket_records(flags: int = 0x1000000, tcpopt: bytes | None = None) -> bytes:
    """A TCP socket (IPv4, not bound) with CKPT_SOCK_TCP_OPTS in ``flags`` and its SOCKET_TCPOPT."""
    if tcpopt is None:
        tcpopt = record("SOCKET_TCPOPT", b"reno", 65536, 250, 0x5, 0)
    return (record("SOCKET", 1, 0, 2, 1, 6, 7, flags, 0, 212992, 212992, 0, -1, 1, 0, 0, 0, 2**64 - 1,
                   2**64 - 1, 0, 0, b"", b"")
            + string("") + string("") + tcpopt + record("SOCKET_QUEUE", 0, 0, 0))


def test_tcp_option_record_is_decoded_and_checked() -> None:
    data = header() + body() + tcp_socket_records()
    img = ckptimage.parse(data + tail(data))
    opts = img.first("SOCKET_TCPOPT")
    assert opts.length == 40  # struct ckpt_hdr_socket_tcpopt
    assert opts.fields["congestion"].rstrip(b"\0") == b"reno"
    assert (opts.fields["window_clamp"], opts.fields["tx_delay"], opts.fields["flags"]) == (65536, 250, 0x5)
    with pytest.raises(ImageError, match="bad TCP options"):
        ckptimage.parse(ckptimage.tamper(data + tail(data), fields={"SOCKET_TCPOPT.flags": 0x10}))
    with pytest.raises(ImageError, match="bad TCP options"):
        ckptimage.parse(ckptimage.tamper(data + tail(data), fields={"SOCKET_TCPOPT.window_clamp": 2**31}))
    vegas = ckptimage.parse(ckptimage.tamper(data + tail(data), fields={"SOCKET_TCPOPT.congestion": "vegas"}))
    assert vegas.first("SOCKET_TCPOPT").fields["congestion"] == b"vegas" + bytes(11)
    with pytest.raises(ImageError, match="is a string"):
        ckptimage.tamper(data + tail(data), fields={"SOCKET_TCPOPT.congestion": 1})
    with pytest.raises(ImageError, match="is an integer"):
        ckptimage.tamper(data + tail(data), fields={"SOCKET_TCPOPT.flags": "x"})
    bad = record("SOCKET_TCPOPT", b"x" * 16, 0, 0, 0, 0)
    data = header() + body() + tcp_socket_records(tcpopt=bad)
    with pytest.raises(ImageError, match="bad TCP options"):
        ckptimage.parse(data + tail(data))
    data = header() + body() + tcp_socket_records(flags=0)
    with pytest.raises(ImageError, match="without a TCP socket that has them"):
        ckptimage.parse(data + tail(data))
    data = header() + body() + tcp_socket_records(tcpopt=b"")
    with pytest.raises(ImageError, match="without its SOCKET_TCPOPT"):
        ckptimage.parse(data + tail(data))


def raw_socket_records(flags: int = 0x2, offset: int = 4, with_raw: bool = True) -> bytes:
    """An IPv6 raw socket of protocol 253 bound to [::1], IPV6_CHECKSUM at ``offset``."""
    name = b"\n\0" + (253).to_bytes(2, "big") + bytes(4) + bytes(15) + b"\1" + bytes(4)
    raw = record("SOCKET_RAW", flags, offset, 0, *([0] * 8), 0) if with_raw else b""
    return (record("SOCKET", 1, 0, 10, 3, 253, 7, 0x8, 0, 212992, 212992, 0, -1, 1, 0, 0, 0, 2**64 - 1,
                   2**64 - 1, len(name), 0, name, b"")
            + string("") + string("") + raw + record("SOCKET_QUEUE", 0, 0, 0))


def test_raw_socket_record_is_decoded_and_checked() -> None:
    data = header() + body() + raw_socket_records()
    img = ckptimage.parse(data + tail(data))
    raw = img.first("SOCKET_RAW")
    assert raw.length == 56  # struct ckpt_hdr_socket_raw
    assert (raw.fields["flags"], raw.fields["offset"]) == (0x2, 4)
    assert img.first("SOCKET").fields["laddr"] == "[::1]:253"
    for hostile, why in ((raw_socket_records(offset=3), "checksum offset 3"),
                         (raw_socket_records(flags=0, offset=4), "checksum offset 4"),
                         (raw_socket_records(flags=0x8, offset=0), "flags 0x8"),
                         (raw_socket_records(with_raw=False), "raw socket 1 without its SOCKET_RAW")):
        data = header() + body() + hostile
        with pytest.raises(ImageError, match=why):
            ckptimage.parse(data + tail(data))
    orphan = header() + body() + record("SOCKET_RAW", 0, 0, 0, *([0] * 8), 0)
    with pytest.raises(ImageError, match="without a raw socket"):
        ckptimage.parse(orphan + tail(orphan))


def listener_records(nconns: int = 1, backlog: int = 1, conn_family: int = 2) -> bytes:
    """A TCP listener on 127.0.0.1:47101 (backlog 1) with its accept queue of ``nconns`` connections."""
    name = b"\2\0" + (47101).to_bytes(2, "big") + bytes([127, 0, 0, 1]) + bytes(8)
    peer = b"\2\0" + (40000).to_bytes(2, "big") + bytes([127, 0, 0, 1]) + bytes(8)
    data = (record("SOCKET", 1, 0, 2, 1, 6, 10, 0x8 | ckptimage.SOCK_ACCEPTQ, 0, 212992, 212992, backlog, -1, 1,
                   0, 0, 0, 2**64 - 1, 2**64 - 1, len(name), 0, name, b"")
            + string("") + string("") + record("SOCKET_ACCEPT", nconns, 0))
    for _ in range(nconns):
        data += (record("SOCKET_CONN", conn_family, 1, 0, 16, 16, name, peer)
                 + record("SOCKET_TCP", 1, 0, 2, 3, 0, 65535, 65535, 65535, 2, 1460, 0, 7, 7, 0x7)
                 + record("BUFFER") + record("BUFFER", payload=b"abc"))
    return data + record("SOCKET_QUEUE", 0, 0, 0)


def test_accept_queue_records_are_decoded_and_checked() -> None:
    data = header() + body() + listener_records()
    img = ckptimage.parse(data + tail(data))
    assert img.first("SOCKET_ACCEPT").fields["nconns"] == 1
    conn = img.first("SOCKET_CONN")
    assert conn.length == 280  # struct ckpt_hdr_socket_conn
    assert conn.fields["laddr"] == "127.0.0.1:47101" and conn.fields["raddr"] == "127.0.0.1:40000"
    for hostile, why in ((listener_records(nconns=3), "accept queue of 3 connections, backlog 1"),
                         (listener_records(conn_family=10), "of family 10, not its listener's")):
        data = header() + body() + hostile
        with pytest.raises(ImageError, match=why):
            ckptimage.parse(data + tail(data))
    orphan = header() + body() + record("SOCKET_ACCEPT", 0, 0)
    with pytest.raises(ImageError, match="without its TCP listener"):
        ckptimage.parse(orphan + tail(orphan))


def aio_records(head: int = 126, tail: int = 3, events: int = 4, nr: int = 127) -> bytes:
    """An aio ring vma and its context: io_setup(8), a one-page ring of 127 slots."""
    return (record("VMA", 8, 0, 0x7F0000000000, 0x7F0000001000, 0x3, 0, 0)
            + record("AIO", 0x7F0000000000, 4096, 8, events, 0, nr, head, tail, 0xA10A10A1, 1, 0, 32)
            + record("BUFFER", payload=bytes(32 * 127)))


def test_aio_record_has_the_c_size_and_its_ring_is_checked() -> None:
    data = header() + body() + aio_records()
    img = ckptimage.parse(data + tail(data))
    aio = img.first("AIO")
    assert aio.length == 64
    assert (aio.fields["head"], aio.fields["tail"], aio.fields["nr_ring_events"]) == (126, 3, 4)
    assert ckptimage.VMA_TYPES[8] == "aio"
    assert ckptimage.aio_in_ring(126, 3, 127) == 4 and ckptimage.aio_in_ring(5, 5, 127) == 0
    for bad, why in (({"head": 127}, "head 127"), ({"events": 5}, "5 events"), ({"nr": 1, "head": 0, "tail": 0,
                                                                                 "events": 0}, "nr 1")):
        data = header() + body() + aio_records(**bad)
        with pytest.raises(ImageError, match=why):
            ckptimage.parse(data + tail(data))


def ctty_image(nr: int, *entries: tuple[int, int, int, int], ptys: int = 1) -> bytes:
    """A tree: root 10 (the caller's session), C 11 leading session 11, G 12 leading group 12 of it;
    ``ptys`` pairs (a master PTY record each) and a CTTY record of ``entries`` if any."""
    tasks = ((10, -1, 0, 0, 0, 0), (11, 0, 11, 11, 0, 0), (12, 1, 12, 11, 0, 0))
    rows = b"".join(ckptimage.TREE_TASK.pack(pid, parent, pgid, sid, 17, flags, code, 0, 0, b"", 0, 0)
                    for pid, parent, pgid, sid, flags, code in tasks)
    pty = b"".join(record("PTY", ref, 1, ref - 1, 0, 0, 0, 0, 24, 80, 0, 0, 0) for ref in range(1, ptys + 1))
    data = header() + record("TREE", 3, nr, payload=rows) + pty + body() * 3
    if entries:
        data += record("CTTY", payload=b"".join(ckptimage.CTTY_ENTRY.pack(*e) for e in entries))
    return data + tail(data)


def test_controlling_ttys_of_a_tree_are_decoded() -> None:
    img = ckptimage.parse(ctty_image(2, (11, 1, 12, 11), (12, 1, 12, 11)))
    assert ckptimage.ctty_entries(img.first("CTTY")) == [(11, 1, 12, 11), (12, 1, 12, 11)]
    assert img.first("TREE").fields["nr_ctty"] == 2


@pytest.mark.parametrize(("nr", "entries", "why"), [
    (1, (), "0 CTTY records for a tree with 1"),                    # announced, missing
    (0, ((11, 1, 12, 11),), "1 CTTY records for a tree with 0"),    # not announced
    (2, ((11, 1, 12, 11),), "2 controlling ttys in 16 bytes"),      # fewer entries than announced
    (1, ((10, 1, 0, 0),), "bad pty 1"),                             # the root, in the caller's session
    (1, ((11, 2, 12, 11),), "bad pty 2"),                           # a pair not in the image
    (1, ((11, 0, 12, 11),), "bad pty 0"),                           # no pair
    (1, ((12, 1, 12, 11),), "bad pty 1"),                           # a member, its leader without it
    (1, ((11, 1, 10, 11),), "group 10"),                            # the group of another session
    (1, ((11, 1, 99, 11),), "group 99"),                            # a group not in the tree
    (1, ((11, 1, 12, 12),), "session 12"),                          # not the task's session
    (2, ((12, 1, 12, 11), (11, 1, 12, 11)), "pid 11"),              # not in the tree's order
    (2, ((11, 1, 12, 11), (11, 1, 12, 11)), "pid 11"),              # twice
    (2, ((11, 1, 12, 11), (12, 1, 0, 11)), "pid 12"),               # another group than its leader's
])
def test_hostile_controlling_ttys_are_refused(nr: int, entries: tuple[tuple[int, int, int, int], ...],
                                              why: str) -> None:
    with pytest.raises(ImageError, match=why):
        ckptimage.parse(ctty_image(nr, *entries))


def test_mixed_checksum_sees_two_blocks_of_equal_word_sums_swapped() -> None:
    # the second block is the first plus 16 in every byte: equal word sums, so the unmixed sums
    # (format version 5 and before) are blind to the swap; the mixed ones (version 6) are not
    a = bytes((i * 7 + i // 4096) & 0xFF for i in range(65536))
    b = bytes((x + 16) & 0xFF for x in a)
    assert ckptimage.checksum(a + b) == ckptimage.checksum(b + a)
    assert ckptimage.checksum(a + b, 6) != ckptimage.checksum(b + a, 6)


def test_mixed_checksum_matches_the_kernels_mix() -> None:
    # ckpt_csum_mix() of <linux/checkpoint_hdr.h>, by hand for one word
    w = 0x0123456789ABCDEF
    m = w ^ 5 * 0x9E3779B97F4A7C15 % 2**64
    m ^= m >> 31
    m = (m * 0x7FB5D329728EA185) % 2**64
    m ^= m >> 27
    assert ckptimage.csum_mix(w, 5) == m
    assert ckptimage.checksum(bytes(40) + w.to_bytes(8, "little"), 6)[0] == \
        (m + sum(ckptimage.csum_mix(0, i) for i in range(5))) % 2**64


def ip_socket_records(flags: int = 0x4, nmcast: int = 1, mcasts: int = 1, sock_flags: int = 0x400000) -> bytes:
    """An unbound UDP socket with IP_RECVERR, IP_RECVTTL and ``mcasts`` memberships of 239.1.2.3 on eth0."""
    ip = record("SOCKET_IP", flags, 0x2, 0, 1, 1, 0, 0, 0, 0, 0, -1, -1, 0, 0, nmcast, 0, b"lo", b"", b"", b"",
                b"")
    mc = record("SOCKET_MCAST", 0x030201EF, 0, b"eth0") * mcasts
    return (record("SOCKET", 1, 0, 2, 2, 17, 7, sock_flags, 0, 212992, 212992, 0, -1, 1, 0, 0, 0, 2**64 - 1,
                   2**64 - 1, 0, 0, b"", b"")
            + string("") + string("") + ip + mc + record("SOCKET_QUEUE", 0, 0, 0))


def test_ip_option_records_are_decoded_and_checked() -> None:
    data = header() + body() + ip_socket_records()
    img = ckptimage.parse(data + tail(data))
    ip = img.first("SOCKET_IP")
    assert ip.length == 120  # struct ckpt_hdr_socket_ip
    assert img.first("SOCKET_MCAST").length == 32  # struct ckpt_hdr_socket_mcast
    assert (ip.fields["flags"], ip.fields["cmsg_flags"], ip.fields["nmcast"]) == (0x4, 0x2, 1)
    for hostile, why in ((ip_socket_records(flags=0x80), "bad IP options"),
                         (ip_socket_records(nmcast=2), "1 multicast memberships missing"),
                         (ip_socket_records(nmcast=0), "membership without its SOCKET_IP"),
                         (ip_socket_records(sock_flags=0), "IP options without a socket")):
        data = header() + body() + hostile
        with pytest.raises(ImageError, match=why):
            ckptimage.parse(data + tail(data))


def filter_socket_records(length: int = 2, flags: int = 0x1, insns: int = 2, sock_flags: int = 0x800000) -> bytes:
    """A UNIX dgram socket with a classic filter of ``length`` instructions (``insns`` in its BUFFER)."""
    buf = record("BUFFER", payload=bytes(8 * insns))
    return (record("SOCKET", 1, 0, 1, 2, 0, 7, sock_flags, 0, 212992, 212992, 0, -1, 1, 0, 0, 0, 2**64 - 1,
                   2**64 - 1, 0, 0, b"", b"")
            + string("") + string("") + record("SOCKET_FILTER", length, flags, 0) + buf
            + record("SOCKET_QUEUE", 0, 0, 0))


def test_filter_record_is_decoded_and_checked() -> None:
    data = header() + body() + filter_socket_records()
    img = ckptimage.parse(data + tail(data))
    f = img.first("SOCKET_FILTER")
    assert f.length == 16  # struct ckpt_hdr_socket_filter
    assert (f.fields["len"], f.fields["flags"]) == (2, 0x1)
    for hostile, why in ((filter_socket_records(length=5000, insns=0), "bad filter \\(5000 instructions"),
                         (filter_socket_records(flags=0x2), "flags 0x2"),
                         (filter_socket_records(length=3), "3 instructions without their BUFFER"),
                         (filter_socket_records(sock_flags=0), "without a socket that has one")):
        data = header() + body() + hostile
        with pytest.raises(ImageError, match=why):
            ckptimage.parse(data + tail(data))


def test_signal_record_carries_the_job_control_stop() -> None:
    rlimits = [0] * 32
    data = header() + record("TASK", 42, 1, 17, 0, 0, 0, 0, 0, b"stopped", 50000, 50000, 0, 1) \
        + record("SIGNAL", 16, 1, 20, 0, 0, *rlimits)
    img = ckptimage.parse(data + tail(data))
    sig = img.all("SIGNAL")[0].fields
    assert (sig["nr_rlim"], sig["stop_flags"], sig["stop_signal"], sig["stop_code"]) == (16, 1, 20, 0)


def shared_image(rows: list[tuple[int, int, int, int]], fs: int, files: int) -> bytes:
    """A tree of (pid, parent, flags, files_of | fs_of << 16) tasks, in the root's group, with
    ``fs`` FS and ``files`` FILE_TABLE records among the task sections."""
    packed = b"".join(ckptimage.TREE_TASK.pack(pid, parent, 0, 0, 17, flags, 0, of & 0xffff, of >> 16,
                                               b"", 0, 0)
                      for pid, parent, flags, of in rows)
    tables = (record("FS", 0o22, 0) + string("/") + string("/tmp")) * fs + record("FILE_TABLE", 0, 0) * files
    data = header() + record("TREE", len(rows), 0, payload=packed) + body() * len(rows) + tables
    return data + tail(data)


def test_shared_tables_are_decoded_and_drawn() -> None:
    files, fs = ckptimage.TREE_FILES, ckptimage.TREE_FS
    # R; S shares R's fs_struct; F R's table; G R's table and F's fs_struct
    img = ckptimage.parse(shared_image([(10, -1, 0, 0), (11, 0, fs, 0), (12, 0, files, 0),
                                        (13, 2, files | fs, 2 << 16)], fs=2, files=2))
    tasks = img.tree()
    assert (tasks[3].files_of, tasks[3].fs_of) == (0, 2) and tasks[1].flags == fs
    lines = ckptimage.tree_lines(tasks)
    assert lines[1].endswith("fs_struct of task 0 (CLONE_FS)")
    assert lines[2].endswith("file table of task 0 (CLONE_FILES)")
    assert lines[3].endswith("file table of task 0 (CLONE_FILES), fs_struct of task 2 (CLONE_FS)")


@pytest.mark.parametrize(("rows", "why"), [
    ([(10, -1, 0, 0), (11, 0, 0x8, 1)], "bad shared tables"),              # its own table
    ([(10, -1, 0, 0), (11, 0, 0x8, 2), (12, 0, 0, 0)], "bad shared tables"),  # a later task's
    ([(10, -1, 0, 0), (11, 0, 0x10, 1 << 16 | 5)], "bad shared tables"),  # fs of a missing task
    ([(10, -1, 0, 0), (11, 0, 0x8, 0), (12, 0, 0x8, 1)], "bad shared tables"),  # a sharer's
    ([(10, -1, 0, 0), (11, 0, 0, 1)], "bad shared tables"),                 # an index without the flag
    ([(10, -1, 0x8, 0), (11, 0, 0, 0)], "bad parent"),                      # the root shares
])
def test_hostile_shared_tables_are_refused(rows: list[tuple[int, int, int, int]], why: str) -> None:
    with pytest.raises(ImageError, match=why):
        ckptimage.parse(shared_image(rows, fs=len(rows), files=len(rows)))


def test_a_sharer_has_no_table_of_its_own() -> None:
    files = ckptimage.TREE_FILES
    rows = [(10, -1, 0, 0), (11, 0, files, 0)]
    ckptimage.parse(shared_image(rows, fs=2, files=1))
    with pytest.raises(ImageError, match="2 FILE_TABLE records for 1 tasks"):
        ckptimage.parse(shared_image(rows, fs=2, files=2))
    with pytest.raises(ImageError, match="1 FS records for 2 tasks"):
        ckptimage.parse(shared_image(rows, fs=1, files=1))


def test_tree_entries_can_be_tampered_with() -> None:
    data = shared_image([(10, -1, 0, 0), (11, 0, ckptimage.TREE_FILES, 0)], fs=2, files=1)
    bad = ckptimage.tamper(data, fields={"TREE.tasks[1].files_of": 1})
    with pytest.raises(ImageError, match="bad shared tables"):
        ckptimage.parse(bad)
    assert ckptimage.tree_tasks(ckptimage.parse(data).all("TREE")[0])[1].files_of == 0


def uts_image(flags: int, uts: bytes) -> bytes:
    root = ckptimage.TREE_TASK.pack(10, -1, 0, 0, 17, flags, 0, 0, 0, b"", 0, 0)
    data = header() + record("TREE", 1, 0, payload=root) + uts + body()
    return data + tail(data)


def test_a_tree_s_own_uts_namespace_follows_the_tree() -> None:
    uts = record("UTS_NS", b"box42", b"lab.example", b"")
    img = ckptimage.parse(uts_image(ckptimage.TREE_UTSNS, uts))
    names = img.all("UTS_NS")[0].fields
    assert names["nodename"].rstrip(b"\0") == b"box42" and names["domainname"].rstrip(b"\0") == b"lab.example"
    with pytest.raises(ImageError, match="0 UTS_NS records for a tree with a UTS namespace"):
        ckptimage.parse(uts_image(ckptimage.TREE_UTSNS, b""))
    with pytest.raises(ImageError, match="1 UTS_NS records for a tree without"):
        ckptimage.parse(uts_image(0, uts))
    with pytest.raises(ImageError, match="names not NUL-terminated"):
        ckptimage.parse(uts_image(ckptimage.TREE_UTSNS, record("UTS_NS", b"x" * 65, b"", b"")))


def test_shmem_kinds_and_modes() -> None:
    for kind, ref, mode, ok in ((3, 0, 0o640, True), (3, 2, 0, True), (3, 2, 0o600, False), (1, 0, 0o600, False),
                                (3, 0, 0o10000, False), (4, 0, 0, False)):
        data = header() + record("SHMEM", 1, kind, ref, mode, 4096)
        if ok:
            assert ckptimage.parse(data + tail(data)).all("SHMEM")[0].fields["mode"] == mode
        else:
            with pytest.raises(ImageError, match="shmem 1 of kind"):
                ckptimage.parse(data + tail(data))


def packet_socket_records(packet: bytes | None = None, mcs: bytes | None = None, nmc: int = 1) -> bytes:
    """A raw packet socket (ETH_P_ARP) bound to eth0 with one membership: its SOCKET_PACKET and MC."""
    if packet is None:
        packet = record("SOCKET_PACKET", b"eth0", 0x0608, 2, 0x41, 16, 1500, 0, nmc, 7, 1, 0)
    if mcs is None:
        mcs = record("SOCKET_PACKET_MC", b"eth0", 1, 0, 2, b"")
    return (record("SOCKET", 1, 0, 17, 3, 0x0608, 7, 0, 0, 212992, 212992, 0, -1, 1, 0, 0, 0, 2**64 - 1,
                   2**64 - 1, 0, 0, b"", b"")
            + string("") + string("") + packet + mcs + record("SOCKET_QUEUE", 0, 0, 0))


def test_packet_socket_records_are_decoded_and_checked() -> None:
    data = header() + body() + packet_socket_records()
    img = ckptimage.parse(data + tail(data))
    p = img.first("SOCKET_PACKET")
    assert p.length == 64 and img.first("SOCKET_PACKET_MC").length == 64  # the C structs
    assert p.fields["ifname"].rstrip(b"\0") == b"eth0" and socket.ntohs(p.fields["proto"]) == 0x0806
    assert (p.fields["version"], p.fields["flags"], p.fields["reserve"], p.fields["stat_packets"]) == (2, 0x41, 16, 7)
    assert img.first("SOCKET_PACKET_MC").fields["count"] == 2
    for fields, match in (({"SOCKET_PACKET.flags": 0x80}, "bad packet options"),
                          ({"SOCKET_PACKET.version": 3}, "bad packet options"),
                          ({"SOCKET_PACKET.nmc": 65}, "bad packet options"),
                          ({"SOCKET_PACKET.ifname": "x" * 16}, "bad packet options"),
                          ({"SOCKET_PACKET.nmc": 2}, "without 1 of its memberships"),
                          ({"SOCKET_PACKET.nmc": 0}, "membership without a packet socket"),
                          ({"SOCKET_PACKET_MC.count": 0}, "bad packet membership"),
                          ({"SOCKET_PACKET_MC.type": 9}, "bad packet membership"),
                          ({"SOCKET_PACKET_MC.alen": 33}, "bad packet membership"),
                          ({"SOCKET.type": 10}, "packet socket of type 10")):
        with pytest.raises(ImageError, match=match):
            ckptimage.parse(ckptimage.tamper(data + tail(data), fields=fields))
    unbound = record("SOCKET_PACKET", b"eth0", 0x0608, 2, 0x1, 0, 0, 0, 1, 0, 0, 0)
    data = header() + body() + packet_socket_records(packet=unbound)
    with pytest.raises(ImageError, match="bad packet options"):
        ckptimage.parse(data + tail(data))
    data = header() + body() + packet_socket_records(packet=b"", mcs=b"")
    with pytest.raises(ImageError, match="without its SOCKET_PACKET"):
        ckptimage.parse(data + tail(data))


def sysctl(name: str, value: str) -> bytes:
    return record("NET_SYSCTL", len(name), len(value), 0, payload=name.encode() + value.encode())


def test_a_tree_s_own_network_namespace_follows_the_tree() -> None:
    sysctls = sysctl("net/core/somaxconn", "321\n") + sysctl("net/ipv4/ip_local_port_range", "40000\t40999\n")
    net = record("NET_NS", 0x7, 65536, 2, b"") + sysctls
    img = ckptimage.parse(uts_image(ckptimage.TREE_NETNS, net))
    f = img.all("NET_NS")[0].fields
    assert (f["flags"], f["nr_sysctl"]) == (7, 2)
    assert ckptimage.net_sysctls(img) == {"net/core/somaxconn": "321\n",
                                          "net/ipv4/ip_local_port_range": "40000\t40999\n"}
    assert "net/core/somaxconn='321\\n'" in img.all("NET_SYSCTL")[0].describe()
    both = record("UTS_NS", b"box42", b"", b"") + net
    assert len(ckptimage.parse(uts_image(ckptimage.TREE_NS, both + ipc_ns_records())).all("NET_NS")) == 1
    with pytest.raises(ImageError, match="0 NET_NS records for a tree with a network namespace"):
        ckptimage.parse(uts_image(ckptimage.TREE_NETNS, b""))
    with pytest.raises(ImageError, match="1 NET_NS records for a tree without"):
        ckptimage.parse(uts_image(0, net))
    with pytest.raises(ImageError, match="NET_NS: bad lo state or number of sysctls"):
        ckptimage.parse(uts_image(ckptimage.TREE_NETNS, record("NET_NS", 0x8, 65536, 0, b"")))
    with pytest.raises(ImageError, match="NET_NS: bad lo state or number of sysctls"):
        ckptimage.parse(uts_image(ckptimage.TREE_NETNS, record("NET_NS", 0, 65536, 4097, b"")))
    with pytest.raises(ImageError, match="1 NET_SYSCTL records, NET_NS says 2"):
        ckptimage.parse(uts_image(ckptimage.TREE_NETNS, record("NET_NS", 0x7, 65536, 2, b"") + sysctl("a", "1")))
    with pytest.raises(ImageError, match="NET_SYSCTL: bad lengths"):
        ckptimage.parse(uts_image(ckptimage.TREE_NETNS, record("NET_NS", 0x7, 65536, 1, b"")
                                  + record("NET_SYSCTL", 5, 1, 0, payload=b"a1")))
    with pytest.raises(ImageError, match="NET_SYSCTL: bad lengths"):
        ckptimage.parse(uts_image(ckptimage.TREE_NETNS, record("NET_NS", 0x7, 65536, 1, b"")
                                  + sysctl("a\0b", "1")))


def test_tamper_rewrites_a_sysctl_record_of_another_length() -> None:
    net = (record("NET_NS", 0x7, 65536, 3, b"") + sysctl("net/core/somaxconn", "321\n")
           + sysctl("net/unix/max_dgram_qlen", "77\n") + sysctl("net/x", "1\n"))
    data = uts_image(ckptimage.TREE_NETNS, net)
    out = ckptimage.tamper(data, sysctls={"net/unix/max_dgram_qlen": {"name": "net/unix/nosuch_long_name",
                                                                      "value": "a longer value\n"},
                                          "net/core/somaxconn": {"value": "1\n"}})
    img = ckptimage.parse(out)  # the checksum was fixed up
    assert ckptimage.net_sysctls(img) == {"net/core/somaxconn": "1\n", "net/unix/nosuch_long_name": "a longer value\n",
                                          "net/x": "1\n"}
    with pytest.raises(ImageError, match="no NET_SYSCTL record of 'net/nope'"):
        ckptimage.tamper(data, sysctls={"net/nope": {"value": "1"}})


def ipc_ns_records(*, msgs: tuple[tuple[int, bytes], ...] = ((3, b"abc"), (1, b"")),
                   sems: tuple[int, ...] = (5, 0, 7), undos: tuple[tuple[int, tuple[int, ...]], ...] = ()) -> bytes:
    """IPC_NS with a queue of ``msgs`` and a set of ``sems`` with the adjustments ``undos`` (pid, semadj),
    as ipc_ns.c writes them."""
    ns = record("IPC_NS", 1 << 40, 1 << 30, 4096, 0, 12000, 20000, 32000, 250, 32000, 32, 200, 1, 1,
                0, 0, 1, 2, 0, 3, -1, 0, 0)
    cbytes = sum(len(m) for _, m in msgs)
    msq = record("IPC_MSQ", 0x4D534731, 32768, 0o640, 1234, 4321, 0, 0, 10, 0, len(msgs), 19000, cbytes,
                 1700000001, 1700000002, 1700000003)
    body_ = b"".join(record("IPC_MSG", t, len(m), payload=m) for t, m in msgs)
    vals = b"".join(ckptimage.IPC_SEM_VAL.pack(v, 10, 1700000004) for v in sems)
    sem = record("IPC_SEM", 0x53454D31, 0, 0o660, 0, 0, 0, 0, len(sems), 1700000005, len(undos), 0, payload=vals)
    for pid, adj in undos:
        sem += record("IPC_SEM_UNDO", pid, len(adj), payload=struct.pack(f"<{len(adj)}h", *adj))
    return ns + msq + body_ + sem


def test_a_tree_s_own_ipc_namespace_has_its_queues_and_sets_after_the_tree() -> None:
    img = ckptimage.parse(uts_image(ckptimage.TREE_IPCNS, ipc_ns_records()))
    assert ckptimage.tree_tasks(img.all("TREE")[0])[0].flags == ckptimage.TREE_IPCNS
    assert not img.all("NET_NS") and not img.all("UTS_NS")
    n, q = img.all("IPC_NS")[0].fields, img.all("IPC_MSQ")[0].fields
    assert (n["msgmax"], n["semmni"], n["nr_msq"], n["nr_sem"]) == (12000, 200, 1, 1)
    assert (q["id"], q["qnum"], q["cbytes"], q["lspid"]) == (32768, 2, 3, 10)
    assert [m.payload for m in img.all("IPC_MSG")] == [b"abc", b""]
    assert img.all("IPC_SEM")[0].fields["nsems"] == 3
    with pytest.raises(ImageError, match="0 IPC_NS records for a tree with an IPC namespace"):
        ckptimage.parse(uts_image(ckptimage.TREE_IPCNS, b""))
    with pytest.raises(ImageError, match="1 IPC_NS records for a tree without"):
        ckptimage.parse(uts_image(0, ipc_ns_records()))
    good = uts_image(ckptimage.TREE_IPCNS, ipc_ns_records())
    for fields, match in (({"IPC_MSG.len": 4}, "4 bytes in a record of 27"),
                          ({"IPC_MSG#1.mtype": 0}, "message of type 0"),
                          ({"IPC_MSQ.cbytes": 4}, "messages of 3 bytes, not 4"),
                          ({"IPC_MSQ.qbytes": 2}, "bad SysV message queue"),
                          ({"IPC_NS.nr_msq": 2}, "IPC_NS: 2 queues"),
                          ({"IPC_SEM.nsems": 0}, "bad SysV semaphore set"),
                          ({"IPC_SEM.nsems": 300}, "bad SysV semaphore set"),
                          ({"IPC_SEM.sems[1].semval": 32768}, "semaphore 1 value 32768")):
        with pytest.raises(ImageError, match=match):
            ckptimage.parse(ckptimage.tamper(good, fields=fields))


def test_a_set_s_undo_adjustments_follow_it_each_of_a_live_process_of_the_tree() -> None:
    """IPC_SEM_UNDO (414): a process's semop(SEM_UNDO) adjustments of a set, right after the set's IPC_SEM."""
    good = uts_image(ckptimage.TREE_IPCNS, ipc_ns_records(undos=((10, (3, 0, -2)),)))
    img = ckptimage.parse(good)
    assert img.all("IPC_SEM")[0].fields["nr_undo"] == 1
    u = img.first("IPC_SEM_UNDO")
    assert u.length == 16 + 6 and u.fields["pid"] == 10
    assert struct.unpack("<3h", u.payload) == (3, 0, -2)
    for fields, match in (({"IPC_SEM_UNDO.pid": 11}, "bad adjustments of pid 11"),
                          ({"IPC_SEM_UNDO.nsems": 2}, "bad adjustments of pid 10"),
                          ({"IPC_SEM.nr_undo": 0}, "1 IPC_SEM_UNDO records for 0 adjustments")):
        with pytest.raises(ImageError, match=match):
            ckptimage.parse(ckptimage.tamper(good, fields=fields))
    with pytest.raises(ImageError, match="bad adjustments of pid 10"):
        ckptimage.parse(uts_image(ckptimage.TREE_IPCNS, ipc_ns_records(undos=((10, (1, 1, 1)), (10, (1, 1, 1))))))


def test_a_datagram_from_outside_is_decoded_and_tampered_by_name() -> None:
    """SOCKET_DGRAM (516, 80 bytes): the addresses of a UDP datagram from outside the checkpoint."""
    mapped = bytes(10) + b"\xff\xff" + bytes([10, 77, 0, 2])
    dst = bytes(10) + b"\xff\xff" + bytes([10, 77, 0, 1])
    dgram = record("SOCKET_DGRAM", 0, mapped, dst, socket.htons(40000), socket.htons(53),
                   64, 0, 1, 0, 0x01004D0A, 0, b"net0")
    data = header() + body() + socket_records() + dgram
    img = ckptimage.parse(data + tail(data))
    d = img.first("SOCKET_DGRAM")
    assert d.length == 80  # struct ckpt_hdr_socket_dgram
    assert d.fields["ttl"] == 64 and d.fields["ifname"].rstrip(b"\0") == b"net0"
    other = ckptimage.tamper(data + tail(data), fields={"SOCKET_DGRAM.ifname": "nosuch0"})
    assert ckptimage.parse(other).first("SOCKET_DGRAM").fields["ifname"].rstrip(b"\0") == b"nosuch0"
