"""ET_CKPT files (lab ckpt2elf, lab ckptinfo): the ELF layout of a converted image, built here record by
record, and the refusals of the converter and of the reader (the kernel loader's checks)."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

from lab import ckptimage, etckpt
from lab.ckptimage import MAGIC_HEAD, ImageError

from .test_ckptimage import record, string, tree_record

PAGE = bytes(range(256)) * 16
IP = 0x401234


def current_header() -> bytes:
    rev = ckptimage.CURRENT_VERSION
    return (record("HEADER", MAGIC_HEAD, 2, 6, 1, 192, rev, 16, 65, 65, 65, 4096, 0, 1700000000, 1)
            + string("6.1.0-lab") + string("#1 SMP") + string("x86_64")
            + record("HEADER_ARCH", 576 + 256, 8192, 0x7, 0)
            + tree_record((42, -1, 0, 0, 0, 0)))


def tail(data: bytes) -> bytes:
    """The TAIL of a current image: words mixed with their index."""
    s, s2 = ckptimage.checksum(data, ckptimage.CURRENT_VERSION)
    return record("TAIL", ckptimage.MAGIC_TAIL, s, s2)


def fd_table(extra: bytes = b"") -> bytes:
    null = (record("FILE", 1, 2, 0o2, 3, 0, 0, 0o20000, 0x103, 0, 0, 0, 0) + string("/dev/null"))
    descs = b"".join(record("FILE_DESC", fd, 1, 0, 0) for fd in (1, 2))
    n = 3 + (1 if extra else 0)
    return record("FILE_TABLE", n, 0) + null + record("FILE_DESC", 0, 1, 0, 0) + descs + extra


def current_image(files: bytes | None = None, timers: bytes = b"", stop: tuple[int, int, int] = (0, 0, 0)) -> bytes:
    cpu = [0] * 30
    cpu[16], cpu[17], cpu[19], cpu[20] = IP, 0x33, 0x7ffd0000, 0x2b  # ip, cs, sp, ss
    body = (
        current_header()
        + record("TASK", 42, 0, 17, 0, 0, 0x33, 0, 0, b"etworkload", 50000, 50000, 0, 1)
        + record("CRED", *([0] * 10), *([0] * 5))
        + record("THREAD", 1 << 11, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0)
        + record("CPU", *cpu)
        + record("FPU", 832, 0, 0x3, payload=bytes(832))
        + record("SIGHAND", 64, 0, payload=bytes(64 * 32))
        + record("SIGNAL", 16, *stop, 0, *([~0 & ckptimage.MASK64] * 32))
        + record("SIGPENDING", 0, 0, 0, 0)
        + record("ITIMERS", 0, 0, 0, 0, 0, 0)
        + timers
        + record("RESTART_BLOCK", 0, 0, 0, 0, 0, 0, 0, 0, 0)
        + record("AUXV", 2, 0, payload=bytes(16))
        + record("SCHED", 0, 0, 0, 0, 0, 0, *([0] * 16))
        + record("SECCOMP", 0, 0)
        + record("FS", 0o22, 0) + string("/") + string("/tmp")
        + (fd_table() if files is None else files)
        + record("MM", 4, 0, 0, 0x400000, 0x401000, 0, 0, 0x600000, 0x600000, 0x7ffd0000, 0, 0, 0, 0,
                 0x7fff1000, 0, 0)
        + string("/usr/local/bin/etworkload")
        + record("VMA", 1, 0, 0x10000, 0x12000, 0x3, 0, 0)
        + record("PGARR", 1) + record("BUFFER", payload=struct.pack("<Q", 0x11000)) + record("BUFFER", payload=PAGE)
        + record("PGARR", 0)
        + record("VMA", 2, 0, 0x400000, 0x401000, 0x5, 0, 8192) + string("/usr/local/bin/etworkload")
        + record("PGARR", 0)
        + record("VMA", 4, 0, 0x7fff0000, 0x7fff1000, 0x1, 0, 0)
        + record("VMA", 3, 0, 0x7fff1000, 0x7fff3000, 0x5, 0, 0)
    )
    return body + tail(body)


def test_the_image_built_here_is_a_good_current_image() -> None:
    img = ckptimage.parse(current_image())
    assert img.header.fields["rev"] == ckptimage.CURRENT_VERSION
    assert img.summary()["vmas"] == 4 and img.summary()["pages"] == 1


def test_elf_header_and_program_headers() -> None:
    data, notes = etckpt.convert(current_image())
    ident, etype, machine, version, entry, phoff, shoff, flags, ehsize, phentsize, phnum, *rest = \
        etckpt.EHDR.unpack_from(data)
    assert ident == b"\x7fELF\x02\x01\x01" + bytes(9)
    assert (etype, machine, version, entry) == (5, 62, 1, IP)
    assert (phoff, ehsize, phentsize, shoff, flags, rest) == (64, 64, 56, 0, 0, [0, 0, 0])
    phdrs = [etckpt.Phdr(*etckpt.PHDR.unpack_from(data, 64 + 56 * k)) for k in range(phnum)]
    assert [p.type for p in phdrs] == [etckpt.PT_CKPT_CORE, etckpt.PT_CKPT_VMA, etckpt.PT_CKPT_PAGES,
                                       etckpt.PT_CKPT_VMA, etckpt.PT_CKPT_PAGES, etckpt.PT_CKPT_VMA,
                                       etckpt.PT_CKPT_VMA]
    assert [hex(p.type) for p in phdrs[:3]] == ["0x61010103", "0x61010102", "0x61010104"]
    # segments back to back after the headers, then the 32-byte tail ends the file
    off = 64 + 56 * phnum
    for p in phdrs:
        assert p.offset == off and p.filesz % 8 == 0 and p.align == 8 and p.paddr == 0
        off += p.filesz
    assert off + 32 == len(data)
    assert (phdrs[1].vaddr, phdrs[1].memsz, phdrs[1].flags) == (0x10000, 0x2000, etckpt.PF_R | etckpt.PF_W)
    assert (phdrs[3].vaddr, phdrs[3].memsz, phdrs[3].flags) == (0x400000, 0x1000, etckpt.PF_R | etckpt.PF_X)
    assert phdrs[2].vaddr == phdrs[1].vaddr and phdrs[4].memsz == phdrs[3].memsz
    assert phdrs[2].filesz == 16 + 16 + 4104 + 16  # PGARR, BUFFER(address), BUFFER(page), PGARR(0)
    assert phdrs[4].filesz == 16  # a file mapping with no private page: PGARR(0)
    assert phdrs[3].filesz == 56 + 8 + 32  # VMA and the path's STRING
    assert any("credentials" in n for n in notes)


def test_core_segment_keeps_the_task_and_leaves_the_caller_its_own() -> None:
    data, _ = etckpt.convert(current_image())
    elf = etckpt.parse(data)
    names = [r.name for r in elf.image.records]
    assert names[:9] == ["HEADER", "STRING", "STRING", "STRING", "HEADER_ARCH", "TASK", "THREAD", "CPU", "FPU"]
    for gone in ("CRED", "SIGNAL", "SCHED", "FS", "FILE_TABLE", "FILE", "FILE_DESC"):
        assert gone not in names
    assert names[-1] == "TAIL"
    core = elf.phdrs[0]
    mm = elf.image.first("MM")
    assert core.offset < mm.offset < core.offset + core.filesz
    assert elf.image.summary()["comm"] == "etworkload"


def test_checksum_of_the_segments() -> None:
    data, _ = etckpt.convert(current_image())
    start = etckpt.Phdr(*etckpt.PHDR.unpack_from(data, 64)).offset
    s, s2 = ckptimage.checksum(data[start:-32], ckptimage.CURRENT_VERSION)
    assert struct.unpack_from("<IIQQQ", data, len(data) - 32) == (9001, 32, ckptimage.MAGIC_TAIL, s, s2)


def test_an_open_file_is_refused_by_name() -> None:
    reg = record("FILE", 2, 1, 0o2, 3, 17, 100, 0o100000, 0, 0, 0, 0, 0) + string("/tmp/ct.data") \
        + record("FILE_DESC", 3, 2, 0, 0)
    with pytest.raises(etckpt.ConvertError, match="fd 3: regular file /tmp/ct.data: an ET_CKPT file cannot"):
        etckpt.convert(current_image(fd_table(reg)))


def test_posix_timers_and_a_pty_are_refused_by_name() -> None:
    timer = ckptimage.PTIMER.pack(0, 1, 0, 34, 0, 0x2, 0, 1000, 0, -1, 0, 0, 0)
    empty = record("POSIX_TIMERS", 0, 0)
    etckpt.convert(current_image(timers=empty))  # an empty record is left out
    with pytest.raises(etckpt.ConvertError, match="1 POSIX timers: an ET_CKPT file cannot carry them"):
        etckpt.convert(current_image(timers=record("POSIX_TIMERS", 1, 1, payload=timer)))
    pty = record("FILE", 2, 340, 0o2, 3, 0, 0, 0o20000, 0x502, 0, 0, 0, 0) + string("/dev/ptmx") \
        + record("FILE_DESC", 3, 2, 0, 0)
    with pytest.raises(etckpt.ConvertError, match="fd 3: pty /dev/ptmx: an ET_CKPT file cannot"):
        etckpt.convert(current_image(fd_table(pty), timers=empty))


def test_a_process_stopped_or_continued_by_job_control_is_refused() -> None:
    with pytest.raises(etckpt.ConvertError, match="a process stopped by job control: an ET_CKPT file cannot"):
        etckpt.convert(current_image(stop=(1, 19, 19)))
    with pytest.raises(etckpt.ConvertError, match="a process continued by job control"):
        etckpt.convert(current_image(stop=(2, 0, 0)))


def test_stdout_on_a_file_is_refused() -> None:
    files = (record("FILE_TABLE", 1, 0) + record("FILE", 1, 1, 0o1, 2, 0, 0, 0o100000, 0, 0, 0, 0, 0)
             + string("/tmp/log") + record("FILE_DESC", 1, 1, 0, 0))
    with pytest.raises(etckpt.ConvertError, match="fd 1: regular file /tmp/log"):
        etckpt.convert(current_image(files))


def test_a_failed_or_old_image_is_refused() -> None:
    with pytest.raises(etckpt.ConvertError, match="bad image"):
        etckpt.convert(current_image()[:-40])
    old = bytearray(current_image())
    struct.pack_into("<H", old, 8 + 16, 3)  # HEADER.rev
    s, s2 = ckptimage.checksum(bytes(old[:-32]))
    struct.pack_into("<QQ", old, len(old) - 16, s, s2)
    with pytest.raises(etckpt.ConvertError, match="version 3"):
        etckpt.convert(bytes(old))


def _mutated(offset: int, fmt: str, value: int) -> bytes:
    data = bytearray(etckpt.convert(current_image())[0])
    struct.pack_into(fmt, data, offset, value)
    return bytes(data)


@pytest.mark.parametrize(("offset", "fmt", "value", "what"), [
    (16, "<H", 2, "not ET_CKPT"),                          # e_type ET_EXEC
    (18, "<H", 3, "x86-64"),                                 # e_machine EM_386
    (56, "<H", 8, "program header|segment|file of"),         # e_phnum
    (64, "<I", 1, "out of place"),                           # phdr 0 p_type PT_LOAD
    (64 + 56 + 16, "<Q", 0x400001, "bad memory area"),       # VMA p_vaddr unaligned
    (64 + 56 + 48, "<Q", 16, "bad segment"),                 # VMA p_align
    (24, "<Q", 0x1000, "entry"),                             # e_entry not the ip
])
def test_reader_refuses_what_the_loader_refuses(offset: int, fmt: str, value: int, what: str) -> None:
    with pytest.raises(ImageError, match=what):
        etckpt.parse(_mutated(offset, fmt, value))


def test_a_flipped_page_byte_breaks_the_checksum() -> None:
    data = bytearray(etckpt.convert(current_image())[0])
    start = etckpt.Phdr(*etckpt.PHDR.unpack_from(data, 64 + 2 * 56)).offset  # the anon vma's pages
    data[start + 16 + 16 + 8 + 100] ^= 1
    with pytest.raises(ImageError, match="checksum"):
        etckpt.parse(bytes(data))


def test_lab_ckpt2elf_and_ckptinfo(tmp_path: Path) -> None:
    src, out = tmp_path / "w.img", tmp_path / "w.elf"
    src.write_bytes(current_image())
    cli = [sys.executable, "-c", "import sys; from lab.cli import main; sys.exit(main())"]
    res = subprocess.run([*cli, "ckpt2elf", str(src), str(out)], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert out.stat().st_mode & 0o111 and out.read_bytes() == etckpt.convert(current_image())[0]
    info = subprocess.run([*cli, "ckptinfo", str(out)], capture_output=True, text=True, check=False)
    assert info.returncode == 0, info.stderr
    assert "ET_CKPT entry=0x401234 phnum=7" in info.stdout and "PT_CKPT_PAGES" in info.stdout
    assert "comm=etworkload" in info.stdout
    (tmp_path / "bad.img").write_bytes(current_image(fd_table(record("FILE", 2, 5, 0, 1, 0, 0, 0o10000, 0, 0, 0, 0, 0)
                                                         + string("pipe:[7]") + record("FILE_DESC", 4, 2, 0, 0))))
    res = subprocess.run([*cli, "ckpt2elf", str(tmp_path / "bad.img"), str(tmp_path / "bad.elf")],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 1 and "fd 4: pipe pipe:[7]" in res.stderr and not (tmp_path / "bad.elf").exists()


def test_drop_fd_leaves_out_the_image_descriptor() -> None:
    reg = record("FILE", 2, 1, 0o1, 2, 0, 0, 0o100000, 0, 0, 0, 0, 0) + string("/tmp/self.img") \
        + record("FILE_DESC", 3, 2, 0, 0)
    with pytest.raises(etckpt.ConvertError, match="fd 3"):
        etckpt.convert(current_image(fd_table(reg)))
    data, notes = etckpt.convert(current_image(fd_table(reg)), drop_fd=3)
    assert "fd 3 (/tmp/self.img) left out (-D)" in notes
    assert data == etckpt.convert(current_image())[0]


def test_by_fd_names_the_mapped_file_by_descriptor() -> None:
    data, notes = etckpt.convert(current_image(), by_fd=True)
    elf = etckpt.parse(data)
    vmas = [p for p in elf.phdrs if p.type == etckpt.PT_CKPT_VMA]
    assert [p.paddr for p in vmas] == [0, 4, 0, 0]  # the file mapping: fd 3 (+ 1)
    assert "fd 3: /usr/local/bin/etworkload (passed by the exec caller)" in notes
    assert data[:64 + 56 * 4] != etckpt.convert(current_image())[0][:64 + 56 * 4]
    with pytest.raises(ImageError, match="bad segment"):
        etckpt.parse(_mutated(64 + 24, "<Q", 4))  # p_paddr on the core


def test_an_aio_context_is_refused_by_name() -> None:
    from .test_ckptimage import aio_records

    body = current_image()[:-32]  # without its TAIL
    first_vma = record("VMA", 1, 0, 0x10000, 0x12000, 0x3, 0, 0)
    at = body.index(first_vma)
    body = body[:at] + aio_records() + body[at:]
    with pytest.raises(etckpt.ConvertError, match="mapping 0x7f0000000000-0x7f0000001000: an ET_CKPT file cannot "
                                                  "carry an aio context"):
        etckpt.convert(body + tail(body))


def test_a_tree_is_refused_and_one_task_has_no_tree_in_the_core() -> None:
    one = current_image()
    data, _ = etckpt.convert(one)
    assert "TREE" not in [r.name for r in etckpt.parse(data).image.records]
    two = one.replace(tree_record((42, -1, 0, 0, 0, 0)),
                      tree_record((42, -1, 0, 0, 0, 0), (43, 0, 0, 0, 1, 0)))  # and a zombie child
    two = two[:-32] + tail(two[:-32])
    with pytest.raises(etckpt.ConvertError, match="a tree of 2 tasks"):
        etckpt.convert(two)
    uts = one.replace(tree_record((42, -1, 0, 0, 0, 0)),
                      tree_record((42, -1, 0, 0, ckptimage.TREE_UTSNS, 0)) + record("UTS_NS", b"box", b"", b""))
    uts = uts[:-32] + tail(uts[:-32])
    with pytest.raises(etckpt.ConvertError, match="a UTS namespace of its own: an ET_CKPT file cannot carry it"):
        etckpt.convert(uts)
