"""The speed a calendar-driven Numba M/M/1 reaches without the model's generality.

Not a test.  ``python experiments/benchmarks/minimal_kernel.py`` prints customers per CPU
second of a minimal event loop: a binary-heap calendar keyed (time, priority, sequence) as the
kernel's, a FIFO queue, one server, and the same five per-customer trace writes, but no staff
tables, priorities, patience, shifts, breakdowns or complaint policies.  It bounds what the
real kernel (``queue_sim.kernels``) could reach on M/M/1 on the same machine (README,
Performance).
"""

import statistics
import time

import numpy as np
from numba import njit


@njit(cache=False, boundscheck=False)
def run(  # noqa: PLR0912, PLR0915
        arr, svc, arrived, left, queued, started, ended):
    n = arr.shape[0]
    cap = 64
    ct = np.empty(cap); ck = np.empty(cap, np.int64); ca = np.empty(cap, np.int64)
    size = 0; seq = 0
    q = np.empty(n, np.int64); qh = 0; qt = 0
    busy = -1
    # push arrival 0
    ct[0] = arr[0]; ck[0] = 4 << 40; ca[0] = 0; size = 1
    nleft = 0
    now = 0.0
    while size > 0:
        # pop
        t = ct[0]; key = ck[0]; a = ca[0]
        size -= 1
        if size > 0:
            tt = ct[size]; kk = ck[size]; aa = ca[size]
            j = 0
            while True:
                c = 2 * j + 1
                if c >= size: break
                if c + 1 < size and (ct[c+1] < ct[c] or (ct[c+1] == ct[c] and ck[c+1] < ck[c])): c += 1
                if tt < ct[c] or (tt == ct[c] and kk < ck[c]): break
                ct[j] = ct[c]; ck[j] = ck[c]; ca[j] = ca[c]; j = c
            ct[j] = tt; ck[j] = kk; ca[j] = aa
        now = t
        kind = key >> 40
        if kind == 4:  # arrival of a
            arrived[a] = now; queued[a] = now
            q[qt] = a; qt += 1
            if a + 1 < n:
                # push arrival
                seq += 1; tn = arr[a + 1]; kn = (4 << 40) + seq
                j = size; size += 1
                while j > 0:
                    p = (j - 1) >> 1
                    if ct[p] < tn or (ct[p] == tn and ck[p] < kn): break
                    ct[j] = ct[p]; ck[j] = ck[p]; ca[j] = ca[p]; j = p
                ct[j] = tn; ck[j] = kn; ca[j] = a + 1
        else:  # end of service of a
            ended[a] = now; left[a] = now; busy = -1; nleft += 1
        if busy < 0 and qh < qt:
            v = q[qh]; qh += 1; busy = v; started[v] = now
            seq += 1; tn = now + svc[v]; kn = seq
            j = size; size += 1
            while j > 0:
                p = (j - 1) >> 1
                if ct[p] < tn or (ct[p] == tn and ck[p] < kn): break
                ct[j] = ct[p]; ck[j] = ck[p]; ca[j] = ca[p]; j = p
            ct[j] = tn; ck[j] = kn; ca[j] = v
    return nleft

def main() -> None:
    n = 1_000_000
    g = np.random.default_rng(1)
    arr = np.cumsum(g.exponential(1/0.9, n)); svc = g.exponential(1.0, n)
    outs = lambda: [np.full(n, np.nan) for _ in range(5)]
    run(arr, svc, *outs())
    ts = []
    for _ in range(7):
        o = outs(); s = time.thread_time(); run(arr, svc, *o); ts.append(time.thread_time() - s)
    print(f"minimal calendar M/M/1: {n / statistics.median(ts) / 1e6:.1f} M customers/s (CPU time)")


if __name__ == "__main__":
    main()
