"""`make bench`: the Functions Invoker benchmarks, each against a baseline in the same run.

Phases (all servers on 127.0.0.1, every load bounded in time, every answer checked):
  1. invoke overhead: the app's invoke POST under gunicorn (gunicorn.conf.py) vs (a) the same call
     straight to the stub with requests and (b) the thinnest Flask forwarder, same gunicorn
     settings; plus the worker classes (sync / gthread / gevent) and two app variants; rounds are
     round-robin (rep → concurrency → target) so drift of the machine spreads over all targets.
  2. slow gateway: the stub answering after 1 s, 64 concurrent users, per worker class.
  3. functions page with 2,000 extra functions in the sandbox.
  4. memory: worker RSS idle and over 10,000 invocations (worker recycling off, so growth shows).
  5. session store: sign-in + invocations over 1,000 sessions, filesystem vs Redis; bytes stored.
  6. refresh under load: 50 users whose tokens expire during the run.
  7. in-process breakdown of the invoke path (bench/breakdown.py).
BENCH_QUICK=1 runs every phase shorter (~2-3 min) and writes bench/out/RESULTS-quick.md;
a full run (~13 min) updates the generated part of bench/RESULTS.md.
"""

import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from importlib import metadata

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import lib  # noqa: E402
from bench import report  # noqa: E402

# Everything below runs a copy of the code taken now, so edits to the tree during the run
# cannot mix two versions of the app in one measurement.
WORKDIR = tempfile.mkdtemp(prefix="invoker-bench-")
SNAPSHOT, CODE_DIGEST = lib.snapshot(WORKDIR)
sys.path.insert(0, SNAPSHOT)

import redis  # noqa: E402
import requests  # noqa: E402

from app.store import JSONFileCache  # noqa: E402
from sandbox.functions import DEMO  # noqa: E402
from sandbox.functions import ECHO  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
PLAN = {
    False: {
        "reps": 3,
        "seconds": 4,
        "warm": 2,
        "sessions": 100,
        "slow_seconds": 20,
        "slow_warm": 3,
        "fn_sessions": 40,
        "fn_seconds": 6,
        "mem_invocations": 10_000,
        "mem_chunk": 4,
        "store_sessions": 1_000,
        "store_reps": 2,
        "store_seconds": 5,
        "token_lifetime": 20,
        "refresh_backends": ("filesystem", "redis", "filesystem, gevent 2"),
        "breakdown_n": 1000,
    },
    True: {
        "reps": 1,
        "seconds": 2,
        "warm": 1,
        "sessions": 64,
        "slow_seconds": 5,
        "slow_warm": 0,
        "fn_sessions": 5,
        "fn_seconds": 2,
        "mem_invocations": 600,
        "mem_chunk": 2,
        "store_sessions": 50,
        "store_reps": 1,
        "store_seconds": 2,
        "token_lifetime": 10,
        "refresh_backends": ("filesystem",),
        "breakdown_n": 150,
    },
}[QUICK]
CONCURRENCY = (1, 8, 32)
NOISY = 25.0  # % of the machine that other processes + steal took: the run counts as disturbed
SLOW_USERS = 64
SLOW_DELAY = 1.0
REFRESH_USERS = 50
EXTRA_FUNCTIONS = 2000
FIRST_FILLER = "Filler 00001"  # a generated function's name, on the page (first page if paged)
INVOKE_PATH = f"/functions/{ECHO}"
STUB_PATH = f"/api/account/12345678/lambdas/{ECHO}/invoke"
GUNICORN = os.path.join(lib.BIN, "gunicorn")
USERS = ("agent", "admin")
CONF = lib.gunicorn_settings(SNAPSHOT)


def describe(worker_class, workers, threads):
    if worker_class == "gthread":
        return f"gthread {workers}×{threads}"
    return f"{worker_class} {workers}"


# The app as gunicorn.conf.py runs it, and the worker classes it is compared with (same
# settings file, only -k/--threads overridden; never two rows for the same configuration).
APP = f"app, {describe(CONF['worker_class'], CONF['workers'], CONF['threads'])} (gunicorn.conf.py)"
FWD = "thin forwarder (b)"
DIRECT = "requests → stub (a)"
WORKER_VARIANTS = [  # label, gunicorn arguments, environment
    (f"app, sync {CONF['workers']}", ("-k", "sync", "--threads", "1"), {}),
    (f"app, gthread {CONF['workers']}×16", ("-k", "gthread", "--threads", "16"), {}),
    (f"app, gthread {CONF['workers']}×64", ("-k", "gthread", "--threads", "64"), {}),
    (f"app, gevent {CONF['workers']}", ("-k", "gevent"), {}),
]
WORKER_VARIANTS = [v for v in WORKER_VARIANTS if v[0] not in APP]
TARGETS = {  # name: (concurrencies, gunicorn arguments, extra environment)
    FWD: (CONCURRENCY, (), {}),
    APP: (CONCURRENCY, (), {}),
    **{label: ((8,) if QUICK else CONCURRENCY, args, env) for label, args, env in WORKER_VARIANTS},
    "app, LOG_LEVEL=WARNING (gunicorn.conf.py)": (
        (8,) if not QUICK else (),
        (),
        {"LOG_LEVEL": "WARNING"},
    ),
}


# The slow gateway per worker configuration; sync last (it leaves a queue of 1 s calls behind).
SLOW_CONFIGS = [(APP, "slow conf", (), {})] + sorted(
    ((label, f"slow {label}", args, env) for label, args, env in WORKER_VARIANTS),
    key=lambda config: "sync" in config[0],
)


def settle(stub, quiet_s=0.3, limit_s=10):
    """Wait until the stub's count stops moving (requests left over from the last run are done)
    and return it."""
    deadline = time.monotonic() + limit_s
    count = lib.get_json(stub + "/_count")["invocations"]
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = lib.get_json(stub + "/_count")["invocations"]
        if now == count:
            return count
        count = now
    return count


def server_times(log_path, offset, path):
    """Server time (ms) of each request to `path` logged after `offset`: the app's request
    log line (ms=12.3), else gunicorn's access log (12ms)."""
    with open(log_path, errors="replace") as file:
        file.seek(offset)
        text = file.read()
    app_lines = re.findall(rf"path={re.escape(path)} status=200 ms=([\d.]+)", text)
    if app_lines:
        return [float(x) for x in app_lines]
    return [float(x) for x in re.findall(rf'"GET {re.escape(path)}" 200 \d+ (\d+)ms', text)]


def sqlite_mb(instance):
    """Size of the history database and its write-ahead log, in MB."""
    total = 0
    for suffix in ("", "-wal"):
        path = os.path.join(instance, "userdata.sqlite3" + suffix)
        total += os.path.getsize(path) if os.path.exists(path) else 0
    return total / 1e6


def read(path):
    with open(path, errors="replace") as file:
        return file.read()


def say(text):
    print(text, flush=True)


class Bench:
    def __init__(self):
        self.workdir = WORKDIR
        self.procs = lib.Processes(self.workdir)
        self.results = {
            "plan": dict(PLAN),
            "quick": QUICK,
            "runs": [],
            "app_label": APP,
            "gunicorn_conf": CONF,
            "code_digest": CODE_DIGEST,
        }
        self.ports = {}
        self.redirects = []
        self.gate = lib.QuietGate(per_run_s=3 if QUICK else 10, total_s=30 if QUICK else 150)
        self.retries = 5 if QUICK else 12

    # --- infrastructure ------------------------------------------------------------------------

    def port(self, name):
        if name not in self.ports:
            self.ports[name] = lib.free_port()
            self.redirects.append(f"http://127.0.0.1:{self.ports[name]}/callback")
        return self.ports[name]

    def start_sandbox(self, name, **settings):
        port = lib.free_port()
        env = lib.base_env(SANDBOX_REDIRECT_URIS=",".join(self.redirects), **settings)
        argv = [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(port)]
        url = f"http://127.0.0.1:{port}"
        proc = self.procs.start(name, argv, env, ready_url=url + "/_sandbox/calls")
        return proc, url

    def start_stub(self, name, delay=0.0):
        port = lib.free_port()
        argv = [sys.executable, os.path.join(lib.BENCH, "stub.py"), str(port), str(delay)]
        url = f"http://127.0.0.1:{port}"
        self.procs.start(name, argv, lib.base_env(), ready_url=url + "/_count")
        return url

    def start_redis(self):
        binary = shutil.which("redis-server")
        if binary is None:
            return None
        port = lib.free_port()
        argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--loglevel", "warning"]
        proc = self.procs.start("redis", argv, lib.base_env())
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                client.ping()
                return {"url": f"redis://127.0.0.1:{port}/0", "client": client, "proc": proc}
            except redis.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def start_app(
        self,
        name,
        sandbox_url,
        instance,
        gateway=None,
        args=(),
        env=None,
        module="wsgi:app",
        workers=2,
    ):
        port = self.port(name)
        environ = lib.base_env(
            SANDBOX_URL=sandbox_url,
            LP_REDIRECT_URI=f"http://127.0.0.1:{port}/callback",
            INSTANCE_PATH=instance,
            BIND=f"127.0.0.1:{port}",
            # The production path: the sandbox's walk-through pauses are a demo feature.
            LP_DEMO_MODE="0",
            **(env or {}),
        )
        if gateway:
            environ["LP_DOMAINS"] = f"faasGW={gateway.split('//', 1)[1]}"
            environ["BENCH_GATEWAY_URL"] = gateway + STUB_PATH
        argv = [GUNICORN, "-c", "gunicorn.conf.py", "--no-control-socket", *args, module]
        proc = self.procs.start(name.replace(" ", "_").replace("/", "_"), argv, environ)
        server = lib.Server(name, proc, port, workers)
        server.spec = (argv, environ, name.replace(" ", "_").replace("/", "_"))
        server.wait_workers()
        return server

    def revive(self, server):
        """Start a server again after something outside the benchmark stopped it."""
        argv, environ, logname = server.spec
        self.results.setdefault("incidents", []).append(
            f"{time.strftime('%H:%M:%S')}: {server.name} (pid {server.proc.pid}) was stopped "
            f"by a signal the benchmark did not send; restarted"
        )
        say(f"  !! {server.name} was stopped from outside the benchmark; restarting it")
        self.procs.stop(server.proc)
        server.proc = self.procs.start(logname, argv, environ)
        server.wait_workers()

    def warm(self, server, *args):
        """An unmeasured run (warm-up); a server stopped from outside is restarted first."""
        for attempt in range(3):
            if server.proc.poll() is not None:
                self.revive(server)
            try:
                return lib.wrk(server.url, *args)
            except lib.ServerGone:
                if attempt == 2:
                    raise

    def stop(self, server):
        self.procs.stop(server.proc)

    # --- one measured run ----------------------------------------------------------------------

    def run(
        self,
        phase,
        target,
        server,
        connections,
        seconds,
        sessions,
        *,
        path=INVOKE_PATH,
        method="POST",
        kind="invoke",
        expect="badge-success",
        timeout_s=10,
        rep=0,
        stub=None,
        sandbox=None,
        extra=None,
        retry=True,
    ):
        """One wrk run against a server, with CPU, gateway calls and faasUI lists counted.

        A run disturbed by other processes or hypervisor steal (> NOISY % of the machine) is
        kept but marked, and run again while the retry budget lasts."""
        while True:
            result = self._run_alive(
                phase,
                target,
                server,
                connections,
                seconds,
                sessions,
                path=path,
                method=method,
                kind=kind,
                expect=expect,
                timeout_s=timeout_s,
                rep=rep,
                stub=stub,
                sandbox=sandbox,
                extra=extra,
            )
            if not retry or not self.noisy(result):
                return result

    def noisy(self, result):
        """Mark a disturbed run and say whether to run it again (bounded by the budget)."""
        if result["others_pct"] + result["steal_pct"] <= NOISY or self.retries <= 0:
            return False
        result["noisy"] = True
        self.retries -= 1
        say(f"    (disturbed: {result['others_pct'] + result['steal_pct']:.0f} % taken; again)")
        return True

    def _run_alive(
        self,
        phase,
        target,
        server,
        connections,
        seconds,
        sessions,
        *,
        path,
        method,
        kind,
        expect,
        timeout_s,
        rep,
        stub,
        sandbox,
        extra,
    ):
        for attempt in range(3):
            if server is not None and server.proc.poll() is not None:
                self.revive(server)
            try:
                return self._run(
                    phase,
                    target,
                    server,
                    connections,
                    seconds,
                    sessions,
                    path=path,
                    method=method,
                    kind=kind,
                    expect=expect,
                    timeout_s=timeout_s,
                    rep=rep,
                    stub=stub,
                    sandbox=sandbox,
                    extra=extra,
                )
            except lib.ServerGone:
                if server is None or attempt == 2:
                    raise

    def _run(
        self,
        phase,
        target,
        server,
        connections,
        seconds,
        sessions,
        *,
        path,
        method,
        kind,
        expect,
        timeout_s,
        rep,
        stub,
        sandbox,
        extra,
    ):
        stub_before = settle(stub) if stub else 0
        self.gate.wait()
        ticks = server.cpu_ticks() if server else 0
        per_worker = {pid: lib.pid_cpu_ticks(pid) for pid in server.workers()} if server else {}
        noise = lib.Noise()
        lists_before = lib.get_json(sandbox + "/_sandbox/calls") if sandbox else {}
        url = server.url if server else stub
        result = lib.wrk(
            url, connections, seconds, sessions, method, path, kind, expect, timeout_s
        )
        result.update(noise.done())
        if server and server.proc.poll() is not None:
            raise lib.ServerGone(server.name)
        if server:
            self.procs.remember_workers(server.proc)
            result["cpu_ms"] = (
                (server.cpu_ticks() - ticks) * 1000 / lib.CLK_TCK / max(1, result["good"])
            )
            # How the load spread over the workers: each one's share of the workers' CPU.
            spent = [max(0, lib.pid_cpu_ticks(p) - before) for p, before in per_worker.items()]
            if len(spent) > 1 and sum(spent) > 0:
                result["worker_shares"] = sorted((x / sum(spent) for x in spent), reverse=True)
        if stub:
            result["gateway_calls"] = settle(stub) - stub_before
        if sandbox:
            after = lib.get_json(sandbox + "/_sandbox/calls")
            lists = after.get("list_functions", 0) - lists_before.get("list_functions", 0)
            result["faasui_lists"] = lists
            result["lists_per_invocation"] = lists / max(1, result["good"])
        result.update(phase=phase, target=target, c=connections, rep=rep, **(extra or {}))
        self.results["runs"].append(result)
        flag = (
            "" if result["errors"] == 0 else f"  ERRORS {result['errors']} {result['first_bad']}"
        )
        say(
            f"  {phase:9} {target[:44]:44} c={connections:<3} {result['rps']:9.1f}/s "
            f"p50 {result['p50']:8.2f} ms  p99 {result['p99']:8.2f} ms"
            + (f"  cpu {result['cpu_ms']:.2f} ms/req" if "cpu_ms" in result else "")
            + (f"  [others {result['others_pct']:.0f} %]" if result["others_pct"] >= 5 else "")
            + (f"  [steal {result['steal_pct']:.0f} %]" if result["steal_pct"] >= 5 else "")
            + flag
        )
        return result

    def run_direct(self, stub, connections, seconds, rep):
        while True:
            settle(stub)
            self.gate.wait()
            noise = lib.Noise()
            result = lib.direct(stub + STUB_PATH, connections, seconds)
            result.update(noise.done())
            result.update(phase="overhead", target=DIRECT, c=connections, rep=rep)
            if not self.noisy(result):
                break
            self.results["runs"].append(result)
        self.results["runs"].append(result)
        say(
            f"  overhead  {DIRECT:44} c={connections:<3} {result['rps']:9.1f}/s "
            f"p50 {result['p50']:8.2f} ms  p99 {result['p99']:8.2f} ms  "
            f"client cpu {result['client_cpu_ms']:.2f} ms/call"
            + ("" if result["errors"] == 0 else f"  ERRORS {result['errors']}")
        )
        return result

    # --- phases --------------------------------------------------------------------------------

    def setup(self):
        say(f"Work directory {self.workdir}")
        self.redis = self.start_redis()
        self.stub = self.start_stub("stub")
        self.slow_stub = self.start_stub("stub-slow", SLOW_DELAY)
        names = [f"overhead {t}" for t in TARGETS] + [name for _, name, _, _ in SLOW_CONFIGS]
        names += [
            "functions page",
            "memory",
            "store filesystem",
            "store redis",
            *(f"refresh {label}" for label in PLAN["refresh_backends"]),
        ]
        for name in names:
            self.port(name)
        _, self.sandbox = self.start_sandbox("sandbox")
        self.instance = os.path.join(self.workdir, "instance-main")

    def phase_overhead(self):
        say("\n== 1. Invoke overhead (and worker classes), fast stub ==")
        servers = {}
        for target, (concurrencies, args, env) in TARGETS.items():
            if not concurrencies:
                continue
            module = "bench.forwarder:app" if target == FWD else "wsgi:app"
            try:
                servers[target] = self.start_app(
                    f"overhead {target}",
                    self.sandbox,
                    self.instance,
                    self.stub,
                    args,
                    env,
                    module,
                )
            except RuntimeError as exc:
                if target in (APP, FWD):
                    raise
                say(f"  {target}: could not start ({exc}); left out")
                self.results.setdefault("left_out", []).append(f"{target}: {exc}")
        self.ensure_sessions(servers[APP])
        for c in CONCURRENCY:
            self.run(
                "limit",
                "stub itself (wrk)",
                None,
                c,
                PLAN["seconds"],
                "-",
                path=STUB_PATH,
                kind="json",
                expect="invocation_id",
                stub=self.stub,
            )
        for target, server in servers.items():
            fwd = target == FWD
            self.warm(
                server,
                8,
                PLAN["warm"],
                self.sessions_file,
                "POST",
                "/forward" if fwd else INVOKE_PATH,
                "invoke",
                "invocation_id" if fwd else "badge-success",
            )
        for rep in range(PLAN["reps"]):
            for c in CONCURRENCY:
                self.run_direct(self.stub, c, PLAN["seconds"], rep)
                for target, (concurrencies, _, _) in TARGETS.items():
                    if c not in concurrencies:
                        continue
                    fwd = target == FWD
                    self.run(
                        "overhead",
                        target,
                        servers[target],
                        c,
                        PLAN["seconds"],
                        self.sessions_file,
                        path="/forward" if fwd else INVOKE_PATH,
                        expect="invocation_id" if fwd else "badge-success",
                        rep=rep,
                        stub=self.stub,
                        sandbox=None if fwd else self.sandbox,
                    )
                    time.sleep(0.3)
        recycled = {
            t: len(self.procs.seen_workers.get(s.proc.pid, ())) for t, s in servers.items()
        }
        self.results["recycled_workers"] = recycled
        self.results["overhead_rss"] = {
            t: list(s.worker_memory().values()) for t, s in servers.items()
        }
        for server in servers.values():
            self.scan_log(server)
            self.stop(server)

    def ensure_sessions(self, server):
        """Sign the main sessions in once (through any server on the main instance)."""
        if getattr(self, "sessions_file", None):
            return
        signed = lib.sign_in_many(server.url, PLAN["sessions"], ECHO, USERS)
        self.sessions_file = lib.write_lines(
            os.path.join(self.workdir, "sessions.txt"), signed["lines"]
        )
        say(f"  signed in {PLAN['sessions']} sessions in {signed['elapsed']:.1f} s")

    def phase_slow(self):
        say(f"\n== 2. Slow gateway: stub answers after {SLOW_DELAY:g} s, {SLOW_USERS} users ==")
        self.run(
            "slow",
            "stub itself (wrk)",
            None,
            SLOW_USERS,
            PLAN["slow_seconds"],
            "-",
            path=STUB_PATH,
            kind="json",
            expect="invocation_id",
            timeout_s=40,
            stub=self.slow_stub,
        )
        for target, name, args, env in SLOW_CONFIGS:
            try:
                server = self.start_app(
                    name, self.sandbox, self.instance, self.slow_stub, args, env
                )
            except RuntimeError as exc:
                say(f"  {target}: could not start ({exc}); left out")
                self.results.setdefault("left_out", []).append(f"slow {target}: {exc}")
                continue
            self.ensure_sessions(server)
            lines = read(self.sessions_file).split("\n")[:SLOW_USERS]
            slow_sessions = lib.write_lines(os.path.join(self.workdir, "sessions-64.txt"), lines)
            # A sync warm-up would leave a 30 s queue of slow calls behind.
            if "sync" not in target and PLAN["slow_warm"]:
                self.warm(
                    server,
                    SLOW_USERS,
                    PLAN["slow_warm"],
                    slow_sessions,
                    "POST",
                    INVOKE_PATH,
                    "invoke",
                    "badge-success",
                    40,
                )
                time.sleep(3)
            self.run(
                "slow",
                target,
                server,
                SLOW_USERS,
                PLAN["slow_seconds"],
                slow_sessions,
                timeout_s=40,
                stub=self.slow_stub,
                sandbox=self.sandbox,
            )
            self.scan_log(server)
            self.stop(server)
            time.sleep(1)

    def phase_functions_page(self):
        say(f"\n== 3. Functions page, {EXTRA_FUNCTIONS} extra functions in the sandbox ==")
        proc, sandbox = self.start_sandbox(
            "sandbox-2000", SANDBOX_EXTRA_FUNCTIONS=str(EXTRA_FUNCTIONS)
        )
        instance = os.path.join(self.workdir, "instance-functions")
        server = self.start_app("functions page", sandbox, instance, self.stub)
        total = len(DEMO) + EXTRA_FUNCTIONS
        signed = lib.sign_in_many(server.url, PLAN["fn_sessions"], ECHO, USERS, csrf=False)
        cold, size = [], 0
        rss_before = [m["rss"] for m in server.worker_memory().values()]
        with requests.Session() as http:
            http.trust_env = False
            for sid in signed["sids"]:
                started = time.perf_counter()
                page = http.get(
                    server.url + "/functions", cookies={"invoker_session": sid}, timeout=60
                )
                cold.append((time.perf_counter() - started) * 1000)
                size = len(page.content)
                if page.status_code != 200 or FIRST_FILLER not in page.text:
                    raise RuntimeError(f"functions page: HTTP {page.status_code}")
            # The upstream part of a first view: faasUI's list itself, with a user's token.
            store = JSONFileCache(os.path.join(instance, "store"), threshold=0)
            key = store.get("session:" + signed["sids"][0])["token_key"]
            bearer = store.get("token:" + key)["access_token"]
            listing, listing_bytes = [], 0
            for _ in range(10):
                started = time.perf_counter()
                answer = http.get(
                    f"{sandbox}/api/account/12345678/lambdas",
                    params={"v": "1"},
                    headers={"Authorization": f"Bearer {bearer}"},
                    timeout=60,
                )
                listing.append((time.perf_counter() - started) * 1000)
                listing_bytes = len(answer.content)
        rss_after = [m["rss"] for m in server.worker_memory().values()]
        lines = [f"invoker_session={sid}" for sid in signed["sids"]]
        cookies = lib.write_lines(os.path.join(self.workdir, "sessions-fn.txt"), lines)
        expect = FIRST_FILLER
        self.warm(
            server,
            1,
            max(3, PLAN["fn_sessions"] // 10),
            cookies,
            "GET",
            "/functions",
            "none",
            expect,
            30,
        )
        log_from = os.path.getsize(server.proc.log_path)
        warm1 = self.run(
            "functions",
            "functions page, warm list, c=1",
            server,
            1,
            PLAN["fn_seconds"],
            cookies,
            path="/functions",
            method="GET",
            kind="none",
            expect=expect,
            timeout_s=30,
        )
        server_ms = server_times(server.proc.log_path, log_from, "/functions")
        warm8 = self.run(
            "functions",
            "functions page, warm list, c=8",
            server,
            8,
            PLAN["fn_seconds"],
            cookies,
            path="/functions",
            method="GET",
            kind="none",
            expect=expect,
            timeout_s=30,
        )
        self.results["functions_page"] = {
            "functions": total,
            "page_bytes": size,
            "cold_ms": cold,
            "cold_p50": lib.percentile(cold, 0.5),
            "cold_p99": lib.percentile(cold, 0.99),
            "listing_ms_p50": lib.percentile(listing, 0.5),
            "listing_bytes": listing_bytes,
            "warm1": warm1,
            "warm8": warm8,
            "rss_before": rss_before,
            "rss_after_cold": rss_after,
            "rss_end": [m["rss"] for m in server.worker_memory().values()],
            "server_ms": server_ms,
            "server_p50": lib.percentile(server_ms, 0.5) if server_ms else None,
            "server_p99": lib.percentile(server_ms, 0.99) if server_ms else None,
            "gc": self.gc_probe(sandbox, instance, signed["sids"][:10]),
        }
        say(
            f"  first view (list fetched): p50 {lib.percentile(cold, 0.5):.1f} ms, "
            f"p99 {lib.percentile(cold, 0.99):.1f} ms over {len(cold)}; faasUI list alone "
            f"p50 {lib.percentile(listing, 0.5):.1f} ms ({listing_bytes} bytes); page "
            f"{size} bytes"
        )
        self.scan_log(server)
        self.stop(server)
        self.procs.stop(proc)

    def gc_probe(self, sandbox, instance, sids):
        environ = lib.base_env(
            SANDBOX_URL=sandbox,
            LP_REDIRECT_URI=f"http://127.0.0.1:{self.ports['functions page']}/callback",
            INSTANCE_PATH=instance,
            LP_DEMO_MODE="0",
            BENCH_SIDS=",".join(sids),
        )
        found = self.helper("gcprobe.py", environ, "gcprobe")
        if found is None:
            return None
        say(
            f"  in-process: {found['mb_per_cached_list']:.1f} MB per cached list; "
            f"{found['full_collections']} full GCs in {found['renders']} renders, "
            f"{found['full_collection_ms_mean']:.0f} ms each"
        )
        return found

    def phase_sqlite(self):
        say("\n== 8. The history write alone: SQLite's one writer, 2 processes × N threads ==")
        seconds = 1 if QUICK else 4
        found = self.helper(
            "sqliteprobe.py", lib.base_env(BENCH_SQLITE_SECONDS=seconds), "sqliteprobe"
        )
        if found:
            self.results["sqlite"] = found
            for threads, row in found.items():
                say(
                    f"  2 × {threads:>2} threads: {row['writes_per_s']:6.0f} writes/s, p50 "
                    f"{row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms, max {row['max_ms']:.0f}"
                    f" ms, errors {row['errors']}"
                )

    def helper(self, script, environ, name, timeout_s=600):
        """Run an in-process helper; its log lines go to a file, as gunicorn's go to its log."""
        log_path = os.path.join(self.workdir, f"{name}.log")
        with open(log_path, "w") as log:
            done = subprocess.run(
                [sys.executable, os.path.join(lib.BENCH, script)],
                cwd=lib.ROOT,
                env=environ,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH{")), None)
        if line is None:
            say(f"  {name} failed: {read(log_path)[-1500:]}")
            return None
        return json.loads(line[5:])

    def phase_memory(self):
        target = PLAN["mem_invocations"]
        say(f"\n== 4. Memory: worker RSS over {target} invocations (recycling off) ==")
        server = self.start_app(
            "memory", self.sandbox, self.instance, self.stub, ("--max-requests", "0")
        )
        self.ensure_sessions(server)
        samples = [{"invocations": 0, "label": "idle after boot", "workers": self.rss(server)}]
        done = 0
        for _ in range(10):  # warm-up: the first 1,000 invocations
            done += self.run(
                "memory", "warm-up", server, 32, 2, self.sessions_file, stub=self.stub, retry=False
            )["good"]
            if done >= 1000:
                break
        time.sleep(1)
        samples.append(
            {"invocations": done, "label": "after warm-up", "workers": self.rss(server)}
        )
        deadline = time.monotonic() + (60 if QUICK else 150)  # bounded in time as well
        for _ in range(60):
            if done >= target + samples[1]["invocations"] or time.monotonic() > deadline:
                break
            done += self.run(
                "memory",
                "load",
                server,
                32,
                PLAN["mem_chunk"],
                self.sessions_file,
                stub=self.stub,
                retry=False,
            )["good"]
            samples.append(
                {
                    "invocations": done,
                    "label": "",
                    "workers": self.rss(server),
                    "sqlite_mb": sqlite_mb(self.instance),
                }
            )
        time.sleep(2)
        samples.append(
            {"invocations": done, "label": "idle after the run", "workers": self.rss(server)}
        )
        self.results["memory"] = {"samples": samples, "pids": server.workers()}
        for sample in samples:
            rss = ", ".join(f"{w['rss']:.1f}" for w in sample["workers"].values())
            say(f"  {sample['invocations']:6d} invocations: RSS {rss} MB  {sample['label']}")
        self.scan_log(server)
        self.stop(server)

    def rss(self, server):
        return {str(pid): mem for pid, mem in server.worker_memory().items()}

    def phase_store(self):
        if self.redis is None:
            say("\n== 5. Session store: skipped, redis-server is not installed ==")
            return
        n = PLAN["store_sessions"]
        say(f"\n== 5. Session store: sign-in + invocations over {n} sessions, files vs Redis ==")
        backends = {}
        for backend in ("filesystem", "redis"):
            instance = os.path.join(self.workdir, f"instance-{backend}")
            env = {"SESSION_BACKEND": backend}
            if backend == "redis":
                env["REDIS_URL"] = self.redis["url"]
            server = self.start_app(f"store {backend}", self.sandbox, instance, self.stub, env=env)
            signed = lib.sign_in_many(server.url, n, ECHO, USERS)
            path = lib.write_lines(
                os.path.join(self.workdir, f"sessions-{backend}.txt"), signed["lines"]
            )
            backends[backend] = (server, path, signed, instance)
            say(
                f"  {backend}: {n} sign-ins in {signed['elapsed']:.1f} s "
                f"({n / signed['elapsed']:.0f}/s, p50 {signed['p50_ms']:.0f} ms, "
                f"p99 {signed['p99_ms']:.0f} ms per sign-in at concurrency 16)"
            )
        self.results["storage"] = {
            "filesystem": self.bytes_on_files(backends["filesystem"]),
            "redis": self.bytes_in_redis(backends["redis"]),
        }
        for server, path, _, _ in backends.values():
            self.warm(
                server,
                32,
                PLAN["warm"] * 2,
                path,
                "POST",
                INVOKE_PATH,
                "invoke",
                "badge-success",
            )
        for rep in range(PLAN["store_reps"]):
            for c in (8, 32):
                for backend, (server, path, _, _) in backends.items():
                    redis_ticks = lib.pid_cpu_ticks(self.redis["proc"].pid)
                    result = self.run(
                        "store",
                        backend,
                        server,
                        c,
                        PLAN["store_seconds"],
                        path,
                        rep=rep,
                        stub=self.stub,
                        sandbox=self.sandbox,
                    )
                    result["redis_cpu_ms"] = (
                        (lib.pid_cpu_ticks(self.redis["proc"].pid) - redis_ticks)
                        * 1000
                        / lib.CLK_TCK
                        / max(1, result["good"])
                    )
        self.results["signin"] = {
            b: {k: v for k, v in s.items() if k in ("elapsed", "p50_ms", "p99_ms")}
            for b, (_, _, s, _) in backends.items()
        }
        self.results["store_files"] = self.count_files(backends["filesystem"][3])
        self.store_sessions = {b: (p, i) for b, (_, p, _, i) in backends.items()}
        for server, *_ in backends.values():
            self.scan_log(server)
            self.stop(server)

    def bytes_on_files(self, backend):
        _, _, signed, instance = backend
        store = os.path.join(instance, "store")
        cache = JSONFileCache(store, threshold=0)
        # Everything the store holds (sessions, token records and whatever else the app keeps
        # per sign-in), divided by the sessions; the history lives in SQLite, per user.
        files = [os.path.join(store, f) for f in os.listdir(store)]
        stats = [os.stat(f) for f in files if os.path.isfile(f)]
        everything = {
            "all_entries_per_session": len(stats) / len(signed["sids"]),
            "all_bytes_per_session": sum(s.st_size for s in stats) / len(signed["sids"]),
            "all_disk_per_session": sum(s.st_blocks * 512 for s in stats) / len(signed["sids"]),
        }
        sizes = {"session": [], "token": [], "session_disk": [], "token_disk": []}
        for sid in signed["sids"]:
            for kind, key in (("session", "session:" + sid), ("token", None)):
                if kind == "token":
                    key = "token:" + cache.get("session:" + sid)["token_key"]
                stat = os.stat(cache._get_filename(key))
                sizes[kind].append(stat.st_size)
                sizes[kind + "_disk"].append(stat.st_blocks * 512)
        return {**{k: sum(v) / len(v) for k, v in sizes.items()}, **everything}

    def bytes_in_redis(self, backend):
        _, _, signed, _ = backend
        client = self.redis["client"]
        sizes = {"session": [], "token": [], "session_value": [], "token_value": []}
        for sid in signed["sids"]:
            key = "session:" + sid
            token = "token:" + json.loads(client.get(key))["token_key"]
            sizes["session"].append(client.memory_usage(key, samples=0))
            sizes["token"].append(client.memory_usage(token, samples=0))
            sizes["session_value"].append(client.strlen(key))
            sizes["token_value"].append(client.strlen(token))
        # Every key, by prefix: what the app keeps per sign-in besides session and token.
        prefixes = {}
        for key in client.scan_iter(count=1000):
            prefix = key.split(b":", 1)[0].decode(errors="replace")
            entry = prefixes.setdefault(prefix, [0, 0])
            entry[0] += 1
            entry[1] += client.memory_usage(key, samples=0) or 0
        n = len(signed["sids"])
        per_user = ("history", "payloads")
        return {
            **{k: sum(v) / len(v) for k, v in sizes.items()},
            "prefixes": {p: {"keys": k, "bytes": b} for p, (k, b) in prefixes.items()},
            "all_bytes_per_session": sum(b for p, (_, b) in prefixes.items() if p not in per_user)
            / n,
        }

    @staticmethod
    def count_files(instance):
        store = os.path.join(instance, "store")
        files = [f for f in os.listdir(store) if os.path.isfile(os.path.join(store, f))]
        locks = (
            os.listdir(os.path.join(store, "locks"))
            if os.path.isdir(os.path.join(store, "locks"))
            else []
        )
        return {"entries": len(files), "lock_files": len(locks)}

    def phase_refresh(self):
        lifetime = PLAN["token_lifetime"]
        say(f"\n== 6. Refresh under load: {REFRESH_USERS} users, tokens live {lifetime} s ==")
        proc, sandbox = self.start_sandbox(
            "sandbox-refresh", SANDBOX_TOKEN_LIFETIME=str(lifetime), SANDBOX_RATE_LIMIT="1000000"
        )
        self.results["refresh"] = {}
        for label in PLAN["refresh_backends"]:
            backend = label.split(",")[0]
            args = ("-k", "gevent") if "gevent" in label else ()
            if backend == "redis" and self.redis is None:
                continue
            instance = os.path.join(self.workdir, f"instance-refresh-{label.replace(' ', '_')}")
            env = {"SESSION_BACKEND": backend}
            if backend == "redis":
                env["REDIS_URL"] = self.redis["url"].replace("/0", "/1")
            # The gateway is the sandbox's own: it checks every token's expiry for real.
            server = self.start_app(
                f"refresh {label}", sandbox, instance, None, args=args, env=env
            )
            signed = lib.sign_in_many(server.url, REFRESH_USERS, ECHO, USERS)
            path = lib.write_lines(
                os.path.join(self.workdir, f"sessions-r-{backend}.txt"), signed["lines"]
            )
            # Each token is refreshed once it is within lifetime/10 of expiry: run until every
            # one has passed that point, and stop before the first could come round again.
            due = lifetime - min(60, lifetime / 10)
            end = max(signed["signed_at"]) + due + 2.0
            second = min(signed["signed_at"]) - 1.0 + 2 * due
            seconds = max(3, int(end - time.time() + 0.999))
            before = lib.get_json(sandbox + "/_sandbox/calls")
            result = self.run(
                "refresh",
                label,
                server,
                REFRESH_USERS,
                seconds,
                path,
                timeout_s=20,
                sandbox=sandbox,
            )
            after = lib.get_json(sandbox + "/_sandbox/calls")
            records = self.token_records(backend, instance, signed["sids"], env)
            self.results["refresh"][label] = {
                "users": REFRESH_USERS,
                "seconds": seconds,
                "window_ok": time.time() < second,
                "refresh_calls": after.get("token", 0) - before.get("token", 0),
                "gateway_calls": after.get("invoke", 0) - before.get("invoke", 0),
                "invocations": result["good"],
                "errors": result["errors"],
                "first_bad": result["first_bad"],
                "records_refreshed_once": sum(1 for r in records if r.get("refreshes") == 1),
                "records": len(records),
            }
            say(
                f"  {label}: refresh calls {self.results['refresh'][label]['refresh_calls']}"
                f" for {REFRESH_USERS} users, token records refreshed once "
                f"{self.results['refresh'][label]['records_refreshed_once']}, errors "
                f"{result['errors']}"
            )
            self.scan_log(server)
            self.stop(server)
        self.procs.stop(proc)

    def token_records(self, backend, instance, sids, env):
        if backend == "redis":
            client = redis.Redis.from_url(env["REDIS_URL"])
            found = []
            for sid in sids:
                raw = client.get("session:" + sid)
                key = json.loads(raw)["token_key"] if raw else None
                record = client.get("token:" + key) if key else None
                found.append(json.loads(record) if record else {})
            return found
        cache = JSONFileCache(os.path.join(instance, "store"), threshold=0)
        found = []
        for sid in sids:
            session = cache.get("session:" + sid) or {}
            found.append(cache.get("token:" + session.get("token_key", "")) or {})
        return found

    def phase_breakdown(self):
        say("\n== 7. Where the time goes: the invoke path in-process ==")
        self.results["breakdown"] = {}
        variants = []
        if getattr(self, "sessions_file", None):
            variants.append(("filesystem", self.sessions_file, self.instance, {}))
        if getattr(self, "store_sessions", None):
            path, instance = self.store_sessions["redis"]
            variants.append(
                (
                    "redis",
                    path,
                    instance,
                    {"SESSION_BACKEND": "redis", "REDIS_URL": self.redis["url"]},
                )
            )
        for backend, path, instance, env in variants:
            cookie, csrf = read(path).split("\n", 1)[0].split("\t")
            environ = lib.base_env(
                SANDBOX_URL=self.sandbox,
                LP_REDIRECT_URI=f"http://127.0.0.1:{self.ports['memory']}/callback",
                INSTANCE_PATH=instance,
                LP_DEMO_MODE="0",
                LP_DOMAINS=f"faasGW={self.stub.split('//', 1)[1]}",
                BENCH_GATEWAY_URL=self.stub + STUB_PATH,
                BENCH_COOKIE=cookie.split("=", 1)[1],
                BENCH_CSRF=csrf,
                BENCH_BREAKDOWN_N=PLAN["breakdown_n"],
                **env,
            )
            found = self.helper("breakdown.py", environ, f"breakdown-{backend}")
            if found is None:
                continue
            self.results["breakdown"][backend] = found
            data = self.results["breakdown"][backend]
            say(
                f"  {backend}: app {data['app_plain']['cpu_ms']:.2f} ms CPU/request in-process,"
                f" forwarder {data['forwarder']['cpu_ms']:.2f}, bare Flask "
                f"{data['bare_flask']['cpu_ms']:.2f}"
            )

    # --- logs ----------------------------------------------------------------------------------

    def scan_log(self, server):
        """Count what went wrong in a server's log: tracebacks, errors, 5xx, worker timeouts."""
        text = read(server.proc.log_path)
        access = re.findall(r'^\S+ "(\w+) (\S+)" (\d{3}) ', text, re.M)
        statuses = {}
        for _, _, status in access:
            statuses[status] = statuses.get(status, 0) + 1
        found = {
            "tracebacks": text.count("Traceback (most recent call last)"),
            "error_lines": len(re.findall(r"\[ERROR\]| ERROR ", text)),
            "worker_timeouts": text.count("WORKER TIMEOUT"),
            "status_5xx": sum(n for s, n in statuses.items() if s.startswith("5")),
            "status_4xx": sum(n for s, n in statuses.items() if s.startswith("4")),
            "requests_logged": len(access),
            "warnings": len(re.findall(r" WARNING |\[WARNING\]", text)),
        }
        self.results.setdefault("logs", {})[server.name] = found
        if any(found[k] for k in ("tracebacks", "error_lines", "worker_timeouts", "status_5xx")):
            say(f"  log of {server.name}: {found}")

    # --- main ----------------------------------------------------------------------------------

    def main(self):
        started = time.time()
        self.results["machine"] = machine()
        phases = [
            self.setup,
            self.phase_overhead,
            self.phase_slow,
            self.phase_functions_page,
            self.phase_memory,
            self.phase_store,
            self.phase_refresh,
            self.phase_breakdown,
            self.phase_sqlite,
        ]
        try:
            for phase in phases:
                try:
                    phase()
                except Exception:  # noqa: BLE001 - one broken phase must not lose the others
                    if phase == self.setup:
                        raise
                    self.results.setdefault("failed_phases", []).append(
                        f"{phase.__name__}: {traceback.format_exc(limit=3)}"
                    )
                    say(f"  PHASE FAILED: {phase.__name__}\n{traceback.format_exc()}")
        finally:
            self.procs.stop_all()
        self.results["elapsed_s"] = time.time() - started
        self.results["quiet_gate"] = {
            "waited_s": self.gate.waited,
            "gave_up": self.gate.gave_up,
            "threshold_pct": self.gate.threshold,
            "noisy_pct": NOISY,
            "reruns": sum(1 for r in self.results["runs"] if r.get("noisy")),
        }
        out = os.path.join(lib.LIVE, "bench", "out")
        os.makedirs(out, exist_ok=True)
        name = "results-quick" if QUICK else "results"
        with open(os.path.join(out, name + ".json"), "w") as file:
            json.dump(self.results, file, indent=1, default=str)
        text = report.render(self.results)
        if QUICK:
            target = os.path.join(out, "RESULTS-quick.md")
            with open(target, "w") as file:
                file.write(text)
        else:
            target = os.path.join(lib.LIVE, "bench", "RESULTS.md")
            report.update_results_md(target, text)
        say("\n" + text)
        say(f"Written to {target} (raw data in {out}/{name}.json; logs in {self.workdir})")
        return 1 if self.results.get("failed_phases") else 0


def machine():
    def version(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    def command(argv):
        try:
            return subprocess.run(
                argv, capture_output=True, text=True, timeout=10, check=False
            ).stdout.strip()
        except OSError:
            return "not installed"

    cpu = "unknown"
    with open("/proc/cpuinfo") as file:
        for line in file:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as file:
        mem_kb = int(file.readline().split()[1])
    debian = read("/etc/debian_version").strip() if os.path.exists("/etc/debian_version") else "?"
    packages = [
        "Flask",
        "Werkzeug",
        "Jinja2",
        "Flask-Session",
        "Flask-WTF",
        "cachelib",
        "msgspec",
        "redis",
        "requests",
        "urllib3",
        "Authlib",
        "gunicorn",
        "gevent",
        "greenlet",
        "packaging",
    ]
    head = command(["git", "-C", lib.LIVE, "rev-parse", "--short", "HEAD"])
    dirty = command(["git", "-C", lib.LIVE, "diff", "--stat", "HEAD", "--", *lib.CODE])
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "debian": debian,
        "python": platform.python_version(),
        "openssl": __import__("ssl").OPENSSL_VERSION,
        "packages": {p: version(p) for p in packages},
        "wrk": command(["dpkg-query", "-W", "-f", "${Version}", "wrk"]),
        "redis_server": command(["dpkg-query", "-W", "-f", "${Version}", "redis-server"]),
        "git": head + (" + uncommitted changes to the code under test" if dirty else ""),
        "code_digest": CODE_DIGEST,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


if __name__ == "__main__":
    bench = Bench()

    def interrupted(signum, _frame):
        bench.procs.stop_all()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, interrupted)
    sys.exit(bench.main())
