"""Benchmark: fork of a task with 262,144 present private pages (1 GiB), 1% of them pinned, per era.

Prints wall time of the fork itself and the peak memory of the process for
each era (target: under 2 s and under 500 MB on a 2-core machine).  Each era
runs in its own process so the peaks do not mix.

    .venv/bin/python bench/bench_fork.py [--pages N] [--pinned-every K]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from cowviz.eras import ERA_IDS, get_era  # noqa: E402
from cowviz.mm import Kernel, check_invariants  # noqa: E402


def one_era(era: str, pages: int, pinned_every: int, check: bool, q) -> None:
    k = Kernel(get_era(era))
    t0 = time.perf_counter()
    k.mmap("P", "buf", pages)
    for i in range(pages):
        k.access("P", "buf", i, True, "A")
    pinned = 0
    for i in range(0, pages, pinned_every):
        k.gup("P", "buf", i, "rdma", write=True, pin=True, longterm=True)
        pinned += 1
    k.take_events()
    setup = time.perf_counter() - t0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t1 = time.perf_counter()
    out = k.fork("P", "C")
    fork_s = time.perf_counter() - t1
    events = len(k.take_events())
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    copied = sum(1 for p in k.tasks["C"].mm.mmap["buf"].ptes if p is not None and p.pfn > pages) \
        if out.error is None else 0
    ok = "skipped"
    if check:
        ok = "ok" if not check_invariants(k) else "BROKEN"
    q.put((era, setup, fork_s, rss_before / 1024, rss_peak / 1024, pinned, copied, events, out.result, ok))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=262144)
    ap.add_argument("--pinned-every", type=int, default=100, help="pin one page in K (default 100: 1%%)")
    ap.add_argument("--check", action="store_true", help="also check the invariants after the fork")
    args = ap.parse_args()
    print(f"fork of {args.pages} present private pages ({args.pages * 4 // 1024} MiB), "
          f"one in {args.pinned_every} pinned (FOLL_PIN|FOLL_WRITE|FOLL_LONGTERM)")
    print(f"{'era':<8}{'setup s':>9}{'fork s':>9}{'RSS before MB':>15}{'peak RSS MB':>13}"
          f"{'pinned':>8}{'copied':>8}{'events':>8}  result  invariants")
    ctx = mp.get_context("fork")
    for era in ERA_IDS:
        q = ctx.Queue()
        p = ctx.Process(target=one_era, args=(era, args.pages, args.pinned_every, args.check, q))
        p.start()
        r = q.get()
        p.join()
        print(f"{r[0]:<8}{r[1]:>9.2f}{r[2]:>9.3f}{r[3]:>15.0f}{r[4]:>13.0f}{r[5]:>8}{r[6]:>8}{r[7]:>8}"
              f"  {r[8]:<7} {r[9]}")


if __name__ == "__main__":
    main()
