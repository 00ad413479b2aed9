"""The history write alone: how SQLite's one-writer lock behaves with many threads.

Run by bench/run.py: 2 processes (like 2 gunicorn workers) × 1, 16 or 64 threads each call the
app's own `SQLiteUserData.add_invocation` on one database for BENCH_SQLITE_SECONDS, with an
entry the size of a real invocation's. Prints BENCH{...json...}: writes/s, latency percentiles
and the errors ("database is locked" after the app's 5 s busy timeout) per thread count.
"""

import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app.history.userdata import SQLiteUserData  # noqa: E402

ENTRY = {
    "kind": "function",
    "target": "5290e51d-6fde-46f6-bea4-07b65e0f2f28",
    "name": "Echo",
    "payload": json.dumps({"message": "ping", "count": 1}, indent=2),
    "response": "x" * 1200,
    "headers": [],
    "skill_id": "",
    "event_source": "",
    "logs": [],
    "rows": [],
    "error": None,
    "outcome": "success",
    "status": 200,
}


def rss_mb():
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def worker(path, threads, seconds, queue):
    store = SQLiteUserData(path)
    rss_before = rss_mb()
    latencies, errors = [], []
    deadline = time.monotonic() + seconds

    def loop(i):
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                store.add_invocation(str(4000001 + i % 2), {**ENTRY, "at": time.time()})
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors.append(type(exc).__name__ + ": " + str(exc))
            latencies.append(time.perf_counter() - started)

    pool = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(seconds + 30)
    queue.put((latencies, errors, rss_mb() - rss_before))


def main():
    seconds = float(os.environ.get("BENCH_SQLITE_SECONDS", "4"))
    found = {}
    ctx = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory() as tmp:
        for threads in (1, 16, 64):
            path = os.path.join(tmp, f"userdata-{threads}.sqlite3")
            SQLiteUserData(path)  # create the schema once
            queue = ctx.Queue()
            procs = [ctx.Process(target=worker, args=(path, threads, seconds, queue))]
            procs.append(ctx.Process(target=worker, args=(path, threads, seconds, queue)))
            for proc in procs:
                proc.start()
            parts = [queue.get(timeout=seconds + 120) for _ in procs]
            for proc in procs:
                proc.join(30)
            latencies = sorted(x for p in parts for x in p[0])
            errors = [e for p in parts for e in p[1]]

            def pct(p, latencies=latencies):
                return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000

            found[str(threads)] = {
                "writers": 2 * threads,
                "writes_per_s": len(latencies) / seconds,
                "p50_ms": pct(0.5),
                "p99_ms": pct(0.99),
                "max_ms": latencies[-1] * 1000,
                "errors": len(errors),
                "first_error": errors[0] if errors else "",
                # Each thread keeps its own connection (and page cache): memory per process.
                "rss_growth_mb": max(p[2] for p in parts),
            }
    print("BENCH" + json.dumps(found), flush=True)


if __name__ == "__main__":
    main()
