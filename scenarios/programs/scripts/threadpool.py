"""A thread pool at work: 4 worker threads (concurrent.futures.ThreadPoolExecutor) hash chains of
sha256 for N jobs; the main thread writes each job's result, in job order, to OUT as it comes.
The output depends only on N, so a checkpointed and restarted run must write what an
uninterrupted one does. Usage: threadpool.py N ROUNDS OUT"""

import hashlib
import sys
from concurrent.futures import ThreadPoolExecutor


def job(i: int, rounds: int) -> str:
    h = str(i).encode()
    for _ in range(rounds):
        h = hashlib.sha256(h).digest()
    return h.hex()


def main() -> int:
    n, rounds, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    with open(out, "w") as f, ThreadPoolExecutor(max_workers=4) as ex:
        for i, r in enumerate(ex.map(job, range(n), [rounds] * n)):
            f.write(f"{i} {r}\n")
            f.flush()
        f.write("done\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
