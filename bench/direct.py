"""Baseline (a): the gateway call made straight to the stub with `requests`, no web app around it.

`python bench/direct.py URL CONCURRENCY SECONDS` runs CONCURRENCY callers for SECONDS, split
like the app's workers: one process at concurrency 1, else 2 processes × CONCURRENCY/2 threads,
each process with one `liveperson_functions.transport.make_session()` pool. Every caller
sends what the thin forwarder sends and decodes the JSON. Prints one line: BENCH{...} with the
counts,
latency percentiles in µs and the callers' CPU per call.
"""

import json
import multiprocessing
import os
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from liveperson_functions.transport import CONNECT_TIMEOUT  # noqa: E402
from liveperson_functions.transport import INVOKE_READ_TIMEOUT  # noqa: E402
from liveperson_functions.transport import make_session  # noqa: E402

PARAMS = [("v", "1"), ("externalSystem", "FunctionsInvoker")]


def caller(http, url, deadline, latencies, errors):
    while time.monotonic() < deadline:
        body = {"timestamp": int(time.time() * 1000), "headers": [], "payload": {"n": 1}}
        started = time.perf_counter()
        try:
            response = http.post(
                url,
                params=PARAMS,
                data=json.dumps(body).encode(),
                headers={
                    "X-Request-ID": str(uuid.uuid4()),
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                    "Authorization": "Bearer bench-token",
                },
                timeout=(CONNECT_TIMEOUT, INVOKE_READ_TIMEOUT),
                allow_redirects=False,
            )
            response.json()
            ok = response.status_code == 200
        except Exception:  # noqa: BLE001 - counted, never hidden
            ok = False
        latencies.append(time.perf_counter() - started)
        if not ok:
            errors.append(1)


def process(url, threads, seconds, queue):
    http = make_session()
    latencies, errors = [], []
    cpu = time.process_time()
    deadline = time.monotonic() + seconds
    workers = [
        threading.Thread(target=caller, args=(http, url, deadline, latencies, errors))
        for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(seconds + 60)
    queue.put((latencies, len(errors), time.process_time() - cpu))


def main():
    url, concurrency, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    processes = 1 if concurrency == 1 else 2
    queue = multiprocessing.get_context("fork").Queue()
    ctx = multiprocessing.get_context("fork")
    children = [
        ctx.Process(target=process, args=(url, concurrency // processes, seconds, queue))
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    results = [queue.get(timeout=seconds + 120) for _ in children]
    for child in children:
        child.join(30)
    latencies = sorted(x for r in results for x in r[0])
    errors = sum(r[1] for r in results)
    cpu = sum(r[2] for r in results)

    def pct(p):
        return int(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1e6)

    print(
        "BENCH"
        + json.dumps(
            {
                "requests": len(latencies),
                "duration_us": int(seconds * 1e6),
                "good": len(latencies) - errors,
                "bad": errors,
                "p50": pct(0.50),
                "p90": pct(0.90),
                "p99": pct(0.99),
                "max": int(latencies[-1] * 1e6),
                "client_cpu_ms_per_call": cpu * 1000 / max(1, len(latencies)),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
