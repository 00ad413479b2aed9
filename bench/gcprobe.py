"""Why the functions page has a long tail: what each session's cached function list costs in
memory, and how long Python's full garbage collections take once several lists are cached.

Run by bench/run.py against the 2,000-function sandbox with the app's environment and
BENCH_SIDS (signed-in session ids, comma-separated). In-process (Flask test client, one thread):
renders /functions for each session once (fetching and caching its list), then 30 more times
round-robin with a gc callback timing every collection. Prints BENCH{...json...}.
"""

import gc
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import app as invoker  # noqa: E402


def rss_mb():
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def main():
    sids = [s for s in os.environ["BENCH_SIDS"].split(",") if s]
    flask_app = invoker.create_app({"LOG_LEVEL": "WARNING"})
    clients = []
    gc.collect()
    before = rss_mb()
    first = []
    for sid in sids:
        client = flask_app.test_client()
        client.set_cookie("invoker_session", sid, domain="localhost")
        started = time.perf_counter()
        page = client.get("/functions")
        first.append((time.perf_counter() - started) * 1000)
        if page.status_code != 200:
            raise SystemExit(f"/functions answered {page.status_code}")
        clients.append(client)
    gc.collect()
    after = rss_mb()
    pauses = []

    def timer(phase, info):
        if phase == "start":
            timer.started = time.perf_counter()
        else:
            pauses.append((info["generation"], (time.perf_counter() - timer.started) * 1000))

    gc.callbacks.append(timer)
    renders = []
    for i in range(30):
        started = time.perf_counter()
        clients[i % len(clients)].get("/functions")
        renders.append((time.perf_counter() - started) * 1000)
    gc.callbacks.remove(timer)
    full = [ms for generation, ms in pauses if generation == 2]
    renders.sort()
    print(
        "BENCH"
        + json.dumps(
            {
                "sessions": len(sids),
                "rss_before_mb": before,
                "rss_after_mb": after,
                "mb_per_cached_list": (after - before) / max(1, len(sids)),
                "renders": len(renders),
                "render_p50_ms": renders[len(renders) // 2],
                "render_max_ms": renders[-1],
                "full_collections": len(full),
                "full_collection_ms_mean": sum(full) / len(full) if full else 0.0,
                "gc_ms_total": sum(ms for _, ms in pauses),
                "render_ms_total": sum(renders),
                "objects_tracked": len(gc.get_objects()),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
