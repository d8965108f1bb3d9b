"""Shared memory ticks: a MAP_SHARED anonymous region (mmap.mmap(-1, ...)) and a memfd mapped
MAP_SHARED, written every tick and read back through the other view (the memfd descriptor),
with a running checksum of both. Writes "tick N sum S alias ok" lines and "done" to OUT.
"""

import mmap
import os
import sys
import time
import zlib

out = open(sys.argv[1], "w", buffering=1)
anon = mmap.mmap(-1, 1 << 20)  # MAP_SHARED | MAP_ANONYMOUS
fd = os.memfd_create("ticks")
os.ftruncate(fd, 1 << 16)
mfd = mmap.mmap(fd, 1 << 16)  # MAP_SHARED of the memfd
for tick in range(1, 61):
    block = bytes((tick * 31 + i) & 0xFF for i in range(4096))
    anon[(tick % 256) * 4096:(tick % 256 + 1) * 4096] = block
    mfd[(tick % 16) * 4096:(tick % 16 + 1) * 4096] = block
    alias = os.pread(fd, 4096, (tick % 16) * 4096) == block
    os.pwrite(fd, tick.to_bytes(4, "little"), 0)
    alias = alias and mfd[0:4] == tick.to_bytes(4, "little")
    crc = zlib.crc32(anon[:]) ^ zlib.crc32(mfd[:])
    out.write(f"tick {tick} sum {crc:08x} alias {'ok' if alias else 'BROKEN'}\n")
    time.sleep(0.1)
out.write("done\n")
