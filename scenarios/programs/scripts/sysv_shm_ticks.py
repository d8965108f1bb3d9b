"""SysV shm ticks: a segment of 256 KiB made with libc's shmget() through ctypes, attached twice
(read-write and SHM_RDONLY, as an X client's MIT-SHM buffer is by client and server) and
IPC_RMID'd at once, so that it goes with the process; written every tick through the first view,
read back through the second, with a running checksum. Writes "tick N sum S alias ok" lines, the
segment's IPC_STAT size and attach count, and "done" to OUT.
"""

import ctypes
import sys
import time
import zlib

IPC_PRIVATE, IPC_RMID, IPC_STAT, SHM_RDONLY = 0, 0, 2, 0o10000
SIZE = 256 << 10

libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]


def check(ret: int, what: str) -> int:
    if ret == -1 or ret is None or ret == ctypes.c_void_p(-1).value:
        raise OSError(ctypes.get_errno(), what)
    return ret


out = open(sys.argv[1], "w", buffering=1)
shmid = check(libc.shmget(IPC_PRIVATE, SIZE, 0o600), "shmget")
rw = check(libc.shmat(shmid, None, 0), "shmat")
ro = check(libc.shmat(shmid, None, SHM_RDONLY), "shmat SHM_RDONLY")
check(libc.shmctl(shmid, IPC_RMID, None), "IPC_RMID")
view = (ctypes.c_ubyte * SIZE).from_address(rw)
mirror = (ctypes.c_ubyte * SIZE).from_address(ro)
for tick in range(1, 61):
    block = bytes((tick * 31 + i) & 0xFF for i in range(4096))
    at = (tick % 64) * 4096
    ctypes.memmove(rw + at, block, 4096)
    alias = bytes(mirror[at:at + 4096]) == block
    crc = zlib.crc32(bytes(mirror))
    out.write(f"tick {tick} sum {crc:08x} alias {'ok' if alias else 'BROKEN'}\n")
    time.sleep(0.1)
ds = ctypes.create_string_buffer(256)  # struct shmid_ds: shm_segsz at 48, shm_nattch at 88 (x86-64)
check(libc.shmctl(shmid, IPC_STAT, ds), "IPC_STAT")
out.write(f"size {int.from_bytes(ds.raw[48:56], 'little')} nattch {int.from_bytes(ds.raw[88:96], 'little')}\n")
out.write("done\n")
