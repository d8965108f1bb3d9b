"""ET_CKPT files (issue 14): a checkpoint image as an ELF file that ``execve()`` restores.

``convert`` is ``lab ckpt2elf`` (the guest tool ``ckpt2elf`` does the same): it keeps the task's
records, its memory areas and their pages, leaves to the exec caller what any program gets from
it (credentials, rlimits, scheduling, root, cwd, umask, fds 0-2 on /dev/null) and refuses by name
what the ELF form cannot carry (any other open file). ``parse`` checks an ET_CKPT file as the
kernel's loader (kernel/checkpoint/etckpt.c) does and returns its records. The layout is in
kernel/README.md, "ET_CKPT".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from . import ckptimage

ET_CKPT = 5
EM_X86_64 = 62
PT_LOOS = 0x60000000
PT_CKPT_OFFSET = 0x01010101
PT_CKPT_VMA = PT_LOOS + PT_CKPT_OFFSET + 1
PT_CKPT_CORE = PT_LOOS + PT_CKPT_OFFSET + 2
PT_CKPT_PAGES = PT_LOOS + PT_CKPT_OFFSET + 3
PT_NAMES = {PT_CKPT_VMA: "PT_CKPT_VMA", PT_CKPT_CORE: "PT_CKPT_CORE", PT_CKPT_PAGES: "PT_CKPT_PAGES"}
PF_X, PF_W, PF_R = 1, 2, 4
EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
IDENT = b"\x7fELF\x02\x01\x01" + bytes(9)  # ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_NONE
MAX_PHNUM = 0xFFFE  # e_phnum is 16 bits, PN_XNUM (0xffff) is not used
TAIL_SIZE = 32
FD_MIN, FD_MAX = 3, (1 << 31) - 1  # descriptors of mapped files passed by the exec caller (p_paddr - 1)
CORE_RECORDS = ("TASK", "THREAD", "CPU", "FPU", "SIGHAND", "SIGPENDING", "ITIMERS", "RESTART_BLOCK", "AUXV")
FROM_CALLER = ("CRED", "SIGNAL", "SCHED", "FS")  # and the STRINGs after FS: root, cwd
FILE_KINDS = {1: "regular file", 2: "character device", 3: "directory", 4: "O_PATH descriptor", 5: "pipe",
              6: "deleted file", 7: "memfd", 312: "FIFO", 320: "eventfd", 321: "epoll", 323: "signalfd",
              324: "timerfd", 325: "inotify", 340: "pty", 500: "socket"}


class ConvertError(Exception):
    """The image holds state an ET_CKPT file cannot carry (named), or is not a good image."""


@dataclass(frozen=True)
class Phdr:
    type: int
    flags: int
    offset: int
    vaddr: int
    paddr: int
    filesz: int
    memsz: int
    align: int

    def describe(self) -> str:
        perm = "".join(c if self.flags & b else "-" for c, b in (("r", PF_R), ("w", PF_W), ("x", PF_X)))
        return (f"{PT_NAMES.get(self.type, hex(self.type)):<14} offset={self.offset:#x} filesz={self.filesz:#x} "
                f"vaddr={self.vaddr:#x} memsz={self.memsz:#x} {perm}")


@dataclass
class ElfFile:
    entry: int
    phdrs: list[Phdr]
    image: ckptimage.Image  # the records of the segments and the tail, offsets from the file's start
    notes: list[str] = field(default_factory=list)


def _pflags(vm_flags: int) -> int:
    return (PF_R if vm_flags & 1 else 0) | (PF_W if vm_flags & 2 else 0) | (PF_X if vm_flags & 4 else 0)


def is_elf(data: bytes) -> bool:
    return data[:4] == b"\x7fELF"


def _records(img: ckptimage.Image, data: bytes) -> list[tuple[ckptimage.Record, bytes]]:
    """Each record with its raw bytes, padding included."""
    out = []
    for r in img.records:
        end = r.offset + (r.length + ckptimage.ALIGN - 1) // ckptimage.ALIGN * ckptimage.ALIGN
        out.append((r, data[r.offset:end]))
    return out


def convert(data: bytes, drop_fd: int = -1, by_fd: bool = False) -> tuple[bytes, list[str]]:
    """The ET_CKPT file of checkpoint image ``data``, and the notes ckpt2elf prints.

    ``drop_fd``: a descriptor to leave out, a regular file without locks (the one a self-checkpointing
    task wrote its image to; ``ckpt2elf -D FD``). ``by_fd``: the mapped files are passed by the exec
    caller as descriptors 3, 4, ... (one per path, ``p_paddr`` = fd + 1; ``ckpt2elf -f``), the seed's
    way, instead of being opened by path."""
    try:
        img = ckptimage.parse(data)
    except ckptimage.ImageError as exc:
        raise ConvertError(f"bad image: {exc}") from exc
    if img.error is not None:
        raise ConvertError(f"image of a failed checkpoint: {img.error}")
    if img.header.fields["rev"] != ckptimage.CURRENT_VERSION:
        raise ConvertError(f"image version {img.header.fields['rev']}, this tool converts "
                           f"{ckptimage.CURRENT_VERSION}")
    recs = _records(img, data)
    segs: list[tuple[int, int, int, int, bytes, int]] = []  # type, vaddr, memsz, flags, content, paddr
    fds: dict[str, int] = {}
    core = bytearray()
    notes: list[str] = []
    i = 0
    files: list[tuple[ckptimage.Record, str]] = []
    while i < len(recs):
        r, raw = recs[i]
        name = r.name
        if name == "SIGNAL" and r.fields["stop_flags"]:  # the rest of SIGNAL is the caller's
            state = "stopped" if r.fields["stop_flags"] & 1 else "continued"
            raise ConvertError(f"a process {state} by job control: an ET_CKPT file cannot carry it "
                               "(restart the image instead)")
        if name in FROM_CALLER:
            i += 3 if name == "FS" else 1  # FS is followed by the root and cwd strings
            continue
        if name == "SECCOMP":
            if r.fields["mode"]:
                raise ConvertError(f"seccomp mode {r.fields['mode']}: an ET_CKPT file cannot carry seccomp")
            i += 1
            continue
        if name == "TREE":  # the hierarchy (format 5): an ET_CKPT file holds one task, the loader no TREE
            if r.fields["nr_tasks"] != 1:
                raise ConvertError(f"a tree of {r.fields['nr_tasks']} tasks: an ET_CKPT file holds one task")
            if ckptimage.tree_tasks(r)[0].flags & ckptimage.TREE_UTSNS:
                raise ConvertError("a UTS namespace of its own: an ET_CKPT file cannot carry it "
                                   "(restart the image instead)")
            if ckptimage.tree_tasks(r)[0].flags & ckptimage.TREE_NETNS:
                raise ConvertError("a network namespace of its own: an ET_CKPT file cannot carry it "
                                   "(restart the image instead)")
            if ckptimage.tree_tasks(r)[0].flags & ckptimage.TREE_IPCNS:
                raise ConvertError("an IPC namespace of its own: an ET_CKPT file cannot carry it "
                                   "(restart the image instead)")
            i += 1
            continue
        if name == "THREADS":
            if r.fields["nr_threads"] != 1:
                raise ConvertError(f"a process of {r.fields['nr_threads']} threads: an ET_CKPT file carries one thread")
            i += 1
            continue
        if name == "FILE_TABLE":
            i = _files(recs, i, files, drop_fd, notes)
            continue
        if name == "MM":
            break
        if name == "POSIX_TIMERS":  # the loader reads none: an image with timers is restarted instead
            if r.fields["nr"]:
                raise ConvertError(f"{r.fields['nr']} POSIX timers: an ET_CKPT file cannot carry them "
                                   "(restart the image instead)")
            i += 1
            continue
        if name == "SIGPENDING" and r.fields["nr"]:
            notes.append(f"{r.fields['nr']} pending signals carried")
        core += raw
        i += 1
    else:
        raise ConvertError("no MM record")
    mm, raw = recs[i]
    core += raw + recs[i + 1][1]  # MM and the executable's path
    segs.append((PT_CKPT_CORE, 0, 0, 0, bytes(core), 0))
    i += 2
    for _ in range(mm.fields["map_count"]):
        v, raw = recs[i]
        start, end, kind = v.fields["vm_start"], v.fields["vm_end"], v.fields["vma_type"]
        fl = _pflags(v.fields["vm_flags"])
        if kind == 6:
            raise ConvertError(f"mapping {start:#x}-{end:#x}: an ET_CKPT file cannot carry shared memory "
                               "(restart the image instead)")
        if kind == 8:
            raise ConvertError(f"mapping {start:#x}-{end:#x}: an ET_CKPT file cannot carry an aio context "
                               "(restart the image instead)")
        body = bytearray(raw)
        paddr = 0
        i += 1
        if kind in (2, 5):  # a file: its path
            body += recs[i][1]
            if by_fd:
                path = recs[i][0].payload.split(b"\0", 1)[0].decode(errors="replace")
                if path not in fds:
                    fds[path] = 3 + len(fds)
                    notes.append(f"fd {fds[path]}: {path} (passed by the exec caller)")
                paddr = fds[path] + 1
            i += 1
        segs.append((PT_CKPT_VMA, start, end - start, fl, bytes(body), paddr))
        if kind in (1, 2):  # private: its pages
            pages = bytearray()
            while True:
                p, raw = recs[i]
                pages += raw
                i += 1
                if p.fields["nr_pages"] == 0:
                    break
                pages += recs[i][1] + recs[i + 1][1]
                i += 2
            segs.append((PT_CKPT_PAGES, start, end - start, fl, bytes(pages), 0))
    notes.append("the exec caller's, not the image's: credentials, rlimits, scheduling, root, cwd, umask, fds 0-2")
    entry = img.first("CPU").fields["ip"]
    return build(entry, segs), notes


def _files(recs: list[tuple[ckptimage.Record, bytes]], i: int, seen: list[tuple[ckptimage.Record, str]],
           drop_fd: int, notes: list[str]) -> int:
    """Skip the descriptor table, refusing any descriptor but 0-2 on /dev/null (and ``drop_fd``);
    the index after it."""
    table = recs[i][0]
    i += 1
    null_ref = 0
    for _ in range(table.fields["nfds"]):
        r = recs[i][0]
        if r.name == "FILE":
            path = recs[i + 1][0].payload.split(b"\0", 1)[0].decode(errors="replace")
            j = i + 2
            while recs[j][0].name != "FILE_DESC":
                j += 1
            fd = recs[j][0].fields["fd"]
            if fd == drop_fd and r.fields["f_type"] == 1 and not r.fields["nlocks"] and j == i + 2:
                notes.append(f"fd {fd} ({path}) left out (-D)")
                i = j + 1
                continue
            if r.fields["f_type"] != 2 or path != "/dev/null" or fd > 2:
                kind = FILE_KINDS.get(r.fields["f_type"], "file")
                raise ConvertError(f"fd {fd}: {kind} {path}: an ET_CKPT file cannot carry open files "
                                   "(only fds 0-2 on /dev/null, which the exec caller provides)")
            null_ref = r.fields["objref"]
            seen.append((r, path))
            i = j
        d = recs[i][0]
        if d.fields["fd"] > 2 or d.fields["objref"] != null_ref:
            raise ConvertError(f"fd {d.fields['fd']}: an ET_CKPT file cannot carry open files "
                               "(only fds 0-2 on /dev/null)")
        i += 1
    return i


def build(entry: int, segs: list[tuple[int, int, int, int, bytes, int]]) -> bytes:
    """An ET_CKPT file of these segments (type, vaddr, memsz, flags, content, paddr), in this order."""
    off = EHDR.size + PHDR.size * len(segs)
    phdrs = bytearray()
    for kind, vaddr, memsz, flags, content, paddr in segs:
        phdrs += PHDR.pack(kind, flags, off, vaddr, paddr, len(content), memsz, 8)
        off += len(content)
    body = b"".join(s[4] for s in segs)
    s, s2 = ckptimage.checksum(body, ckptimage.CURRENT_VERSION)  # as the kernel's loader sums it
    tail = struct.pack("<IIQQQ", 9001, TAIL_SIZE, ckptimage.MAGIC_TAIL, s, s2)
    ehdr = EHDR.pack(IDENT, ET_CKPT, EM_X86_64, 1, entry, EHDR.size, 0, 0, EHDR.size, PHDR.size, len(segs),
                     0, 0, 0)
    return ehdr + bytes(phdrs) + body + tail


def parse(data: bytes) -> ElfFile:
    """Check an ET_CKPT file as the kernel's loader does; raise :class:`ckptimage.ImageError`."""
    err = ckptimage.ImageError
    if len(data) < EHDR.size:
        raise err("ELF file shorter than its header")
    (ident, etype, machine, version, entry, phoff, shoff, flags, ehsize, phentsize, phnum,
     shentsize, shnum, shstrndx) = EHDR.unpack_from(data)
    if etype != ET_CKPT:
        raise err(f"ELF file of type {etype}, not ET_CKPT ({ET_CKPT})")
    if ident != IDENT or machine != EM_X86_64 or version != 1:
        raise err("not a 64-bit little-endian x86-64 ELF file of the current version")
    if ehsize != EHDR.size or phoff != EHDR.size or phentsize != PHDR.size or not 1 <= phnum <= MAX_PHNUM:
        raise err(f"bad ELF header: ehsize {ehsize}, phoff {phoff}, phentsize {phentsize}, phnum {phnum}")
    if flags or shoff or shentsize or shnum or shstrndx:
        raise err("an ET_CKPT file has no section headers and no flags")
    if len(data) < EHDR.size + PHDR.size * phnum:
        raise err("file too short for its program headers")
    phdrs = [Phdr(*PHDR.unpack_from(data, EHDR.size + k * PHDR.size)) for k in range(phnum)]
    nxt = EHDR.size + PHDR.size * phnum
    prev_end = 0
    for k, p in enumerate(phdrs):
        where = f"program header {k} ({PT_NAMES.get(p.type, hex(p.type))})"
        if k == 0:
            ok = p.type == PT_CKPT_CORE
        else:
            ok = p.type == PT_CKPT_VMA or (p.type == PT_CKPT_PAGES and phdrs[k - 1].type == PT_CKPT_VMA)
        if not ok:
            raise err(f"{where}: out of place")
        if p.offset != nxt or p.filesz % 8 or not p.filesz or p.offset + p.filesz > len(data) or p.align != 8 \
                or (p.paddr and (p.type != PT_CKPT_VMA or not FD_MIN + 1 <= p.paddr <= FD_MAX + 1)):
            raise err(f"{where}: bad segment (offset {p.offset}, size {p.filesz})")
        nxt = p.offset + p.filesz
        if p.type == PT_CKPT_CORE and (p.vaddr or p.memsz or p.flags):
            raise err(f"{where}: bad fields")
        if p.type == PT_CKPT_PAGES:
            q = phdrs[k - 1]
            if (p.vaddr, p.memsz, p.flags) != (q.vaddr, q.memsz, q.flags):
                raise err(f"{where}: pages of another range")
        if p.type == PT_CKPT_VMA:
            if not p.memsz or p.vaddr % ckptimage.PAGE_SIZE or p.memsz % ckptimage.PAGE_SIZE \
                    or p.vaddr < prev_end or p.flags & ~(PF_R | PF_W | PF_X):
                raise err(f"{where}: bad memory area {p.vaddr:#x}+{p.memsz:#x}")
            prev_end = p.vaddr + p.memsz
    if nxt + TAIL_SIZE != len(data):
        raise err(f"file of {len(data)} bytes, segments and tail end at {nxt + TAIL_SIZE}")
    start = phdrs[0].offset
    img = ckptimage.parse(data[start:], rev=ckptimage.CURRENT_VERSION)
    for r in img.records:
        r.offset += start
    img.size = len(data)
    _check_segments(img, phdrs, entry)
    return ElfFile(entry, phdrs, img)


def _check_segments(img: ckptimage.Image, phdrs: list[Phdr], entry: int) -> None:
    """The records of each segment are what its program header says."""
    err = ckptimage.ImageError
    names = [r.name for r in img.records]
    if any(n in names for n in FROM_CALLER + ("FILE_TABLE", "FILE", "FILE_DESC", "SECCOMP")):
        raise err("records an ET_CKPT file does not carry (credentials, rlimits, files ...)")
    mm = img.first("MM")
    vmas = img.all("VMA")
    if mm.fields["map_count"] != len(vmas) or len(vmas) != sum(p.type == PT_CKPT_VMA for p in phdrs):
        raise err(f"MM record of {mm.fields['map_count']} vmas, {len(vmas)} VMA records")
    if img.first("CPU").fields["ip"] != entry:
        raise err(f"entry {entry:#x} is not the CPU record's ip")
    core_end = phdrs[0].offset + phdrs[0].filesz
    exe = img.records[img.records.index(mm) + 1]
    if exe.offset + (exe.length + 7) // 8 * 8 != core_end:
        raise err("core segment does not end after the MM record and its path")
    by_offset = {r.offset: r for r in vmas}
    for p in phdrs:
        if p.type != PT_CKPT_VMA:
            continue
        v = by_offset.get(p.offset)
        if v is None or (v.fields["vm_start"], v.fields["vm_end"] - v.fields["vm_start"]) != (p.vaddr, p.memsz) \
                or _pflags(v.fields["vm_flags"]) != p.flags:
            raise err(f"PT_CKPT_VMA at {p.offset:#x}: not the VMA record of {p.vaddr:#x}+{p.memsz:#x}")


def describe(elf: ElfFile) -> list[str]:
    lines = [f"ET_CKPT entry={elf.entry:#x} phnum={len(elf.phdrs)}"]
    lines += [p.describe() for p in elf.phdrs]
    return lines
