"""Benchmark plumbing: processes started and stopped by pid, wrk runs, CPU and memory from /proc,
and signing users in through the sandbox with `requests` (the flow `tests/support.py` uses).

Every server listens on 127.0.0.1; every load loop is bounded in count and in time.
"""

import hashlib
import html
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

import requests

LIVE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = LIVE  # where servers run from: a snapshot of the tree once snapshot() was called
BENCH = os.path.join(ROOT, "bench")
BIN = os.path.dirname(sys.executable)
LUA = os.path.join(BENCH, "load.lua")
CODE = ("app", "templates", "static", "wsgi.py", "gunicorn.conf.py")
CLK_TCK = os.sysconf("SC_CLK_TCK")
FORM = re.compile(r'<form method="post" action="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# Settings the harness sets itself; inherited values would change what is measured.
SCRUBBED = (
    "LP_",
    "SANDBOX_",
    "SESSION_",
    "REDIS_",
    "SECRET_KEY",
    "INSTANCE_PATH",
    "BIND",
    "WEB_CONCURRENCY",
    "THREADS",
    "GUNICORN_CMD_ARGS",
    "TRUSTED_HOSTS",
    "LOG_LEVEL",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
)


_given = set()


def snapshot(workdir):
    """Copy the code under test into `workdir` and run everything from there.

    Other people may edit the tree while the benchmark runs (a template from a newer commit
    rendered by older workers fails); a copy taken once keeps a run consistent. Returns the
    copy's root and a digest of its code.
    """
    global ROOT, BENCH, LUA
    target = os.path.join(workdir, "code")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", "out")
    for name in (*CODE, "bench"):
        source = os.path.join(LIVE, name)
        if os.path.isdir(source):
            shutil.copytree(source, os.path.join(target, name), ignore=ignore)
        elif os.path.exists(source):
            os.makedirs(target, exist_ok=True)
            shutil.copy2(source, os.path.join(target, name))
    digest = hashlib.sha256()
    for name in CODE:
        base = os.path.join(target, name)
        paths = (
            [base]
            if os.path.isfile(base)
            else sorted(os.path.join(d, f) for d, _, files in os.walk(base) for f in files)
        )
        for path in paths:
            digest.update(os.path.relpath(path, target).encode())
            with open(path, "rb") as file:
                digest.update(file.read())
    ROOT, BENCH = target, os.path.join(target, "bench")
    LUA = os.path.join(BENCH, "load.lua")
    return target, digest.hexdigest()[:12]


def gunicorn_settings(root):
    """Read workers, worker class and threads from a gunicorn.conf.py (with its defaults)."""
    path = os.path.join(root, "gunicorn.conf.py")
    saved = {k: os.environ.pop(k) for k in ("WEB_CONCURRENCY", "THREADS") if k in os.environ}
    try:
        namespace = {"__file__": path, "__name__": "gunicorn_conf"}
        with open(path) as file:
            exec(compile(file.read(), path, "exec"), namespace)
    finally:
        os.environ.update(saved)
    return {
        "workers": int(namespace.get("workers", 1)),
        "worker_class": str(namespace.get("worker_class", "sync")),
        "threads": int(namespace.get("threads", 1)),
        "max_requests": int(namespace.get("max_requests", 0)),
    }


def free_port():
    """A free port below the kernel's ephemeral range (32768+), so that no outgoing
    connection of the load can take it between now and the server's start."""
    for _ in range(1000):
        port = random.randrange(20000, 32000)
        if port in _given:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise RuntimeError("no free port between 20000 and 32000")


def base_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
    env.update(PYTHONUNBUFFERED="1", NO_PROXY="*")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def wait_http(url, deadline_s, proc=None):
    """Wait until `url` answers anything over HTTP; fail if the process died or time ran out."""
    deadline = time.monotonic() + deadline_s
    with requests.Session() as http:
        http.trust_env = False
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{url}: the server exited with {proc.returncode}")
            try:
                http.get(url, timeout=2, allow_redirects=False)
                return
            except requests.RequestException:
                time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {deadline_s} s")


# --- /proc -------------------------------------------------------------------------------------


def proc_stat(pid):
    """Return (ppid, utime+stime, cutime+cstime) in clock ticks, or None if the pid is gone."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            rest = file.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return int(rest[1]), int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14])


def children(pid):
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = proc_stat(int(name))
            if stat and stat[0] == pid:
                found.append(int(name))
    return sorted(found)


def memory(pid):
    """Return RSS, PSS and USS (private) of a process in MB (10^6 bytes), or None."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as file:
            text = file.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    kb = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+):\s+(\d+) kB", text, re.M)}
    try:
        threads = len(os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        threads = 0
    return {
        "rss": kb.get("Rss", 0) * 1024 / 1e6,
        "pss": kb.get("Pss", 0) * 1024 / 1e6,
        "uss": (kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)) * 1024 / 1e6,
        "threads": threads,
    }


# --- processes ---------------------------------------------------------------------------------


class Processes:
    """Every process the harness starts, each stopped by its own pid (and its recorded workers)."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.running = []
        self.seen_workers = {}

    def start(self, name, argv, env, ready_url=None, ready_s=60):
        log_path = os.path.join(self.workdir, f"{name}.log")
        log = open(log_path, "ab")  # noqa: SIM115 - closed when the process is stopped
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        proc.bench_name, proc.bench_log, proc.log_path = name, log, log_path
        proc.bench_gunicorn = os.path.basename(argv[0]) == "gunicorn"
        self.running.append(proc)
        if ready_url:
            wait_http(ready_url, ready_s, proc)
        return proc

    def remember_workers(self, proc):
        self.seen_workers.setdefault(proc.pid, set()).update(children(proc.pid))

    def stop(self, proc, grace_s=15):
        if proc not in self.running:
            return
        self.remember_workers(proc)
        if proc.poll() is None:
            # gunicorn: SIGINT is its quick shutdown (SIGTERM would wait for slow requests);
            # the others get SIGTERM, which they handle even when SIGINT was inherited ignored.
            proc.send_signal(signal.SIGINT if proc.bench_gunicorn else signal.SIGTERM)
            try:
                proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        for pid in self.seen_workers.pop(proc.pid, set()):
            self._kill_leftover(pid)
        proc.bench_log.close()
        self.running.remove(proc)

    @staticmethod
    def _kill_leftover(pid):
        """Kill a worker of ours that outlived its master, checking it is still a gunicorn."""
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                if b"gunicorn" not in file.read():
                    return
            os.kill(pid, signal.SIGKILL)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass

    def stop_all(self):
        for proc in list(reversed(self.running)):
            try:
                self.stop(proc, grace_s=10)
            except Exception as exc:  # noqa: BLE001 - keep stopping the others
                print(f"  could not stop {proc.bench_name} ({proc.pid}): {exc}", file=sys.stderr)


class Server:
    """A gunicorn master we started: address, CPU and memory of its workers."""

    def __init__(self, name, proc, port, workers):
        self.name, self.proc, self.port, self.workers_expected = name, proc, port, workers
        self.url = f"http://127.0.0.1:{port}"

    def workers(self):
        return children(self.proc.pid)

    def cpu_ticks(self):
        """CPU of the master, its live workers, and its workers that have exited (reaped)."""
        master = proc_stat(self.proc.pid)
        if master is None:
            return 0
        total = master[1] + master[2]
        for pid in self.workers():
            stat = proc_stat(pid)
            total += stat[1] if stat else 0
        return total

    def worker_memory(self):
        return {pid: memory(pid) for pid in self.workers() if memory(pid)}

    def wait_workers(self, deadline_s=60):
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited, see {self.proc.log_path}")
            if len(self.workers()) >= self.workers_expected:
                # The master forks first; give the workers a moment to load the app.
                wait_http(self.url + "/healthz", 30, self.proc)
                time.sleep(1.0)
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name}: workers did not start")


def machine_ticks():
    """Whole-machine CPU ticks from /proc/stat: busy (processes), steal (hypervisor), total."""
    with open("/proc/stat") as file:
        v = [int(x) for x in file.readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = v
    return {"busy": user + nice + system + irq + softirq, "steal": steal, "total": sum(v)}


def tree_ticks(root):
    """CPU ticks of `root` and every descendant (live ones, plus those they have reaped)."""
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = proc_stat(int(name))
            if stat:
                parents[int(name)] = stat
    total, todo, seen = 0, [root], set()
    kids = {}
    for pid, stat in parents.items():
        kids.setdefault(stat[0], []).append(pid)
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in parents:
            continue
        seen.add(pid)
        total += parents[pid][1] + parents[pid][2]
        todo.extend(kids.get(pid, ()))
    return total


class Noise:
    """How much of the machine other processes (not started by this harness) used meanwhile."""

    def __init__(self):
        self.machine, self.ours = machine_ticks(), tree_ticks(os.getpid())

    def done(self):
        machine, ours = machine_ticks(), tree_ticks(os.getpid())
        total = max(1, machine["total"] - self.machine["total"])
        others = machine["busy"] - self.machine["busy"] - (ours - self.ours)
        return {
            "others_pct": max(0.0, others * 100 / total),
            "steal_pct": (machine["steal"] - self.machine["steal"]) * 100 / total,
        }


def others_busy_pct(window_s=0.5):
    """Share of the machine that other processes, and the hypervisor (steal), take right now."""
    noise = Noise()
    time.sleep(window_s)
    found = noise.done()
    return found["others_pct"] + found["steal_pct"]


class QuietGate:
    """Before a measured run, wait (bounded) until other processes leave the cores alone.

    The machine may be shared (other people's test suites); a run that starts while they use
    half the CPU measures them as much as us. Waits at most `per_run_s` per run and `total_s`
    over the whole benchmark, so `make bench` stays bounded in time.
    """

    def __init__(self, threshold_pct=20.0, per_run_s=10.0, total_s=150.0):
        self.threshold, self.per_run, self.budget = threshold_pct, per_run_s, total_s
        self.waited = 0.0
        self.gave_up = 0

    def wait(self):
        started = time.monotonic()
        while True:
            busy = others_busy_pct()
            spent = time.monotonic() - started
            if busy <= self.threshold:
                break
            if spent >= self.per_run or self.waited + spent >= self.budget:
                self.gave_up += 1
                break
        self.waited += time.monotonic() - started
        return busy


def pid_cpu_ticks(pid):
    stat = proc_stat(pid)
    return (stat[1] + stat[2]) if stat else 0


# --- load --------------------------------------------------------------------------------------


class ServerGone(Exception):
    """The server under load stopped during the run (wrk could not connect, or it exited)."""


def wrk(
    url,
    connections,
    seconds,
    sessions="-",
    method="POST",
    path="/",
    kind="none",
    expect="",
    timeout_s=10,
):
    """Run wrk (one thread, closed loop) and return its counts and latencies (ms)."""
    argv = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        f"{timeout_s}s",
        "-s",
        LUA,
        url,
        "--",
        sessions,
        method,
        path,
        kind,
        expect,
    ]
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=seconds + timeout_s + 60, check=False
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH{")), None)
    if line is None:
        if "unable to connect" in done.stdout + done.stderr:
            raise ServerGone(url)
        raise RuntimeError(f"wrk failed: {done.stdout[-500:]} {done.stderr[-500:]}")
    return shape(json.loads(line[5:]))


def shape(raw):
    seconds = raw["duration_us"] / 1e6
    socket_errors = sum(raw.get(k, 0) for k in ("connect", "read", "write", "timeout"))
    return {
        "requests": raw["requests"],
        "seconds": seconds,
        "rps": raw["good"] / seconds if seconds else 0.0,
        "p50": raw["p50"] / 1000,
        "p90": raw["p90"] / 1000,
        "p99": raw["p99"] / 1000,
        "max": raw["max"] / 1000,
        "mean": raw.get("mean", 0) / 1000,
        "good": raw["good"],
        "bad": raw["bad"],
        "socket_errors": socket_errors,
        "errors": raw["bad"] + socket_errors,
        "first_bad": raw.get("first_bad", ""),
        "client_cpu_ms": raw.get("client_cpu_ms_per_call"),
    }


def direct(url, concurrency, seconds):
    """Baseline (a): requests straight to the stub (bench/direct.py)."""
    done = subprocess.run(
        [sys.executable, os.path.join(BENCH, "direct.py"), url, str(concurrency), str(seconds)],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=False,
        cwd=ROOT,
        env=base_env(),
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH{")), None)
    if line is None:
        raise RuntimeError(f"direct.py failed: {done.stdout[-500:]} {done.stderr[-800:]}")
    return shape(json.loads(line[5:]))


def get_json(url):
    with requests.Session() as http:
        http.trust_env = False
        return http.get(url, timeout=10).json()


# --- signing in --------------------------------------------------------------------------------


class Browser(requests.Session):
    """A cookie-keeping client that signs in through the sandbox like a person would."""

    def __init__(self):
        super().__init__()
        self.trust_env = False

    def sign_in(self, app_url, user="agent"):
        page = self.get(f"{app_url}/login", timeout=30)
        if 'name="username"' not in page.text:
            raise RuntimeError(f"no sign-in form at the sandbox: HTTP {page.status_code}")
        action = html.unescape(FORM.search(page.text).group(1))
        fields = {"username": user, "password": user, "signin": "1"}
        fields["csrf_token"] = CSRF.search(page.text).group(1)
        landed = self.post(urljoin(page.url, action), data=fields, timeout=30)
        if landed.status_code != 200 or not self.cookies.get("invoker_session"):
            raise RuntimeError(f"sign-in failed: HTTP {landed.status_code} at {landed.url}")
        return landed

    def session_line(self, app_url, function_uuid):
        """Return "invoker_session=…<TAB>csrf" for wrk, read from the function's page."""
        page = self.get(f"{app_url}/functions/{function_uuid}", timeout=60)
        token = CSRF.search(page.text)
        if page.status_code != 200 or token is None:
            raise RuntimeError(f"function page: HTTP {page.status_code}")
        sid = self.cookies.get("invoker_session", domain="127.0.0.1")
        return f"invoker_session={sid}\t{token.group(1)}"


def sign_in_many(app_url, count, function_uuid, users=("agent",), concurrency=16, csrf=True):
    """Sign `count` browsers in (bounded: `count` flows); return lines, sign-in times and spans."""
    lock = threading.Lock()
    results = []

    def one(i):
        browser = Browser()
        started = time.perf_counter()
        browser.sign_in(app_url, users[i % len(users)])
        signed = time.perf_counter()
        line = browser.session_line(app_url, function_uuid) if csrf else None
        sid = browser.cookies.get("invoker_session", domain="127.0.0.1")
        with lock:
            results.append((i, line, sid, signed - started, time.time()))
        browser.close()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(one, i) for i in range(count)]:
            future.result(timeout=300)
    elapsed = time.perf_counter() - t0
    results.sort()
    times = sorted(r[3] for r in results)
    return {
        "lines": [r[1] for r in results],
        "sids": [r[2] for r in results],
        "signed_at": [r[4] for r in results],
        "elapsed": elapsed,
        "p50_ms": percentile(times, 0.50) * 1000,
        "p99_ms": percentile(times, 0.99) * 1000,
    }


def write_lines(path, lines):
    with open(path, "w") as file:
        file.write("\n".join(lines) + "\n")
    return path


# --- statistics --------------------------------------------------------------------------------


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")
