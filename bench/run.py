"""`make bench`: the app's whole invocation against the thinnest Flask forwarder, in one run.

On 127.0.0.1 it starts the gateway stand-in (bench/stub.py), the sandbox (sign-in and the
function list), the app and the forwarder (bench/forwarder.py), both under gunicorn with the
project's gunicorn.conf.py; signs USERS users in through the real sign-in flow; then measures
with wrk (bench/load.lua, every answer checked): c=1/8/32, the app with script (one request,
as htmx sends it) and without (POST → 303 → GET), the floor and the forwarder interleaved, REPS
reps; a py-spy profile of each path at c=8 (a run of its own); the slow gateway (1 s per call,
64 users); worker RSS over a long run with worker recycling off. Writes bench/RESULTS.md
(BENCH_QUICK=1: bench/out/RESULTS-quick.md) and raw data and profiles to bench/out/.
Every process is started here and stopped by its pid; every load is bounded in time.
"""

import contextlib
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from urllib.parse import urlencode
from urllib.parse import urljoin
from urllib.parse import urlsplit

import psutil
import report
import requests
from requests.cookies import get_cookie_header

LIVE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(LIVE, "bench", "out")
BIN = os.path.dirname(sys.executable)
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
PLAN = {  # seconds, except reps
    False: {"reps": 3, "run": 10, "warm": 3, "profile": 10, "slow": 20, "mem_warm": 10, "mem": 90},
    True: {"reps": 2, "run": 3, "warm": 2, "profile": 6, "slow": 6, "mem_warm": 3, "mem": 15},
}[QUICK]
CONCURRENCY = (1, 8, 32)
USERS = 64  # signed-in sessions; every concurrency used divides it (no two connections share one)
SLOW_USERS, SLOW_DELAY = 64, 1.0
CODE = ("app", "liveperson_functions", "sandbox", "templates", "static")
CODE += ("wsgi.py", "gunicorn.conf.py", "bench")
GATEWAY_PATH = "/api/account/12345678/lambdas/{}/invoke"
# A good answer of the app: a 200 page with this and the stand-in's invocation id on it.
APP_MARKER = "badge-success"
# Settings the harness sets itself; inherited ones would change what is measured.
SCRUBBED = ("LP_", "SANDBOX_", "SESSION_", "REDIS_", "SECRET_KEY", "INSTANCE_PATH", "BIND")
SCRUBBED += ("WEB_CONCURRENCY", "THREADS", "GUNICORN_CMD_ARGS", "TRUSTED_HOSTS", "LOG_LEVEL")
SCRUBBED += ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
HTTP = requests.Session()
HTTP.trust_env = False


def say(text):
    print(text, flush=True)


def snapshot(workdir):
    """Copy the code under test: a worker that gunicorn restarts (max_requests) while someone
    edits the tree must load the same code as the others."""
    root = os.path.join(workdir, "code")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "out", "node_modules")
    os.makedirs(root)
    for name in CODE:
        source = os.path.join(LIVE, name)
        if os.path.isdir(source):
            shutil.copytree(source, os.path.join(root, name), ignore=ignore)
        elif os.path.isfile(source):
            shutil.copy2(source, os.path.join(root, name))
    return root


def gunicorn_settings(root):
    """workers, worker class, threads and max_requests as gunicorn.conf.py sets them."""
    path, namespace = os.path.join(root, "gunicorn.conf.py"), {"__name__": "gunicorn_conf"}
    saved = {k: os.environ.pop(k) for k in ("WEB_CONCURRENCY", "THREADS") if k in os.environ}
    try:
        with open(path) as file:
            exec(compile(file.read(), path, "exec"), namespace)
    finally:
        os.environ.update(saved)
    names = ("workers", "worker_class", "threads", "max_requests", "max_requests_jitter")
    return {name: namespace.get(name) for name in names}


def free_port(taken=set()):  # noqa: B006 - remembers the ports handed out in this run
    """A free port below the ephemeral range, so no outgoing connection takes it meanwhile."""
    while True:
        port = random.randrange(20000, 32000)
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.bind(("127.0.0.1", port))
            if port not in taken:
                taken.add(port)
                return port


def base_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
    env.update(PYTHONUNBUFFERED="1", NO_PROXY="*")
    return env | {k: str(v) for k, v in extra.items()}


class Procs:
    """The processes this run started; each is stopped by its own pid, with its children."""

    def __init__(self, workdir, root):
        self.workdir, self.root, self.running = workdir, root, []

    def start(self, name, argv, env=None):
        log = open(os.path.join(self.workdir, name + ".log"), "ab")  # noqa: SIM115
        streams = {"stdout": log, "stderr": subprocess.STDOUT, "stdin": subprocess.DEVNULL}
        env = env or base_env()
        proc = subprocess.Popen(argv, cwd=self.root, env=env, start_new_session=True, **streams)
        proc.name, proc.log = name, log
        self.running.append(proc)
        return proc

    def stop(self, proc):
        if proc not in self.running:
            return
        self.running.remove(proc)
        children = []
        with contextlib.suppress(psutil.NoSuchProcess):
            children = psutil.Process(proc.pid).children(recursive=True)
        if proc.poll() is None:
            # gunicorn's quick shutdown is SIGINT (SIGTERM waits for slow requests).
            proc.send_signal(signal.SIGINT if "gunicorn" in proc.args[0] else signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        for child in children:  # a worker that outlived its master (psutil checks the pid)
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        proc.log.close()

    def stop_all(self):
        for proc in reversed(list(self.running)):
            self.stop(proc)


def wait_http(url, proc, seconds=60):
    """Wait until `url` answers anything over HTTP; fail if the process exits or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.returncode}; see {proc.log.name}")
        try:
            HTTP.get(url, timeout=2, allow_redirects=False)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{proc.name} did not answer at {url} within {seconds} s")


class Server:
    """A gunicorn master started here: its address, and its workers' CPU and RSS (psutil)."""

    def __init__(self, name, proc, url):
        self.name, self.proc, self.url = name, proc, url

    def workers(self):
        with contextlib.suppress(psutil.NoSuchProcess):
            return psutil.Process(self.proc.pid).children()
        return []

    def cpu_s(self):
        """CPU seconds of the master, its live workers and the workers it has reaped."""
        try:
            t = psutil.Process(self.proc.pid).cpu_times()
        except psutil.NoSuchProcess:
            return 0.0
        total = t.user + t.system + t.children_user + t.children_system
        for worker in self.workers():
            with contextlib.suppress(psutil.NoSuchProcess):
                total += sum(worker.cpu_times()[:2])
        return total

    def rss_mb(self):
        found = {}
        for worker in self.workers():
            with contextlib.suppress(psutil.NoSuchProcess):
                found[worker.pid] = worker.memory_info().rss / 1e6
        return found


class Watch(threading.Thread):
    """Every 0.5 s, each watched server's largest worker RSS: its peak, and a timeline."""

    def __init__(self):
        super().__init__(daemon=True)
        self.servers, self.peak, self.timeline = [], {}, {}

    def run(self):
        while True:
            time.sleep(0.5)
            for server in list(self.servers):
                rss = max(server.rss_mb().values(), default=0.0)
                self.peak[server.name] = max(self.peak.get(server.name, 0.0), rss)
                self.timeline.setdefault(server.name, []).append((time.monotonic(), rss))


class Forms(HTMLParser):
    """The forms of a page as a browser would send them: action and (name, value) pairs."""

    def __init__(self, page):
        super().__init__()
        self.forms, self.open, self.textarea = [], False, None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append((a.get("action") or "", []))
            self.open = True
        elif not self.open or not a.get("name"):
            return
        elif tag == "input" and a.get("type", "text") not in ("submit", "button", "file"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.forms[-1][1].append((a["name"], a.get("value") or ""))
        elif tag == "textarea":
            self.textarea = [a["name"], ""]

    def handle_data(self, data):
        if self.textarea:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.open = False
        elif tag == "textarea" and self.textarea:
            name, text = self.textarea
            text = text.removeprefix("\n").replace("\r\n", "\n").replace("\n", "\r\n")
            self.forms[-1][1].append((name, text))
            self.textarea = None


def form_with(page, field, url):
    for action, fields in Forms(page.text).forms:
        if any(name == field for name, _ in fields):
            return urljoin(page.url, action), fields
    raise RuntimeError(f"no form with {field!r} at {url} (HTTP {page.status_code}, {page.url})")


def sign_in(app_url, user, function):
    """Sign in through the sandbox like a person, open the function's page, and return the
    invoke form as the browser would send it: (path, Cookie header, body)."""
    with requests.Session() as http:
        http.trust_env = False
        page = http.get(app_url + "/login", timeout=30)
        action, fields = form_with(page, "username", app_url + "/login")
        fields = [(k, v) for k, v in fields if k not in ("username", "password")]
        fields += [("username", user), ("password", user), ("signin", "1")]
        http.post(action, data=fields, timeout=30)
        url = f"{app_url}/functions/{function}"
        action, fields = form_with(http.get(url, timeout=60), "payload", url)
        cookie = get_cookie_header(http.cookies, requests.Request("POST", action).prepare())
        return urlsplit(action).path, cookie or "", urlencode(fields)


def wrk(url, c, seconds, lines, markers, timeout=10, mode="page"):
    """One wrk run, c users each on its own connection; returns invocations/s, latency, errors.
    mode "script": the invoke POSTs as htmx sends them (one request per invocation)."""
    lua = os.path.join(os.path.dirname(os.path.abspath(__file__)), "load.lua")
    argv = ["wrk", f"-t{c}", f"-c{c}", f"-d{seconds}s", "--timeout", f"{timeout}s", "-s", lua]
    argv += [url, "--", lines, markers, str(c), mode]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + timeout + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH{")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {done.stdout[-400:]} {done.stderr[-400:]}")
    raw = json.loads(line[5:])
    found = {k: raw[k] for k in ("good", "redirected", "first_bad")}
    found |= {"p50": raw["p50_us"] / 1000, "p99": raw["p99_us"] / 1000, "c": c}
    found["errors"] = raw["bad"] + raw["socket_errors"] + raw["timeouts"]
    return found | {"rate": raw["good"] / (raw["duration_us"] / 1e6)}


class Bench:
    def __init__(self):
        self.workdir = tempfile.mkdtemp(prefix="invoker-bench-")
        self.root = snapshot(self.workdir)
        sys.path.insert(0, self.root)
        self.procs, self.watch = Procs(self.workdir, self.root), Watch()
        self.conf = gunicorn_settings(self.root)
        self.ports = {name: free_port() for name in ("app", "forwarder", "memory")}
        self.instance = os.path.join(self.workdir, "instance")
        self.data = {"quick": QUICK, "plan": PLAN, "conf": self.conf, "runs": []}

    def file(self, name, lines):
        path = os.path.join(self.workdir, name)
        with open(path, "w") as file:
            file.write("\n".join(lines) + "\n")
        return path

    def start_stub(self):
        port = free_port()
        argv = [sys.executable, os.path.join(self.root, "bench", "stub.py"), str(port)]
        proc = self.procs.start("stub", argv)
        self.stub = f"http://127.0.0.1:{port}"
        wait_http(self.stub + "/_count", proc)

    def start_sandbox(self):
        port = free_port()
        callbacks = ",".join(f"http://127.0.0.1:{p}/callback" for p in self.ports.values())
        argv = [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(port)]
        proc = self.procs.start("sandbox", argv, base_env(SANDBOX_REDIRECT_URIS=callbacks))
        self.sandbox = f"http://127.0.0.1:{port}"
        wait_http(self.sandbox + "/", proc)

    def start_server(self, name, module, *args):
        port = self.ports[name]
        # LP_DEMO_MODE=0: the production path (the walk-through pauses are a demo feature).
        env = base_env(SANDBOX_URL=self.sandbox, LP_DEMO_MODE="0", INSTANCE_PATH=self.instance)
        env |= {"LP_REDIRECT_URI": f"http://127.0.0.1:{port}/callback"}
        env |= {"BIND": f"127.0.0.1:{port}", "LP_DOMAINS": "faasGW=" + self.stub.split("//")[1]}
        env["BENCH_GATEWAY_URL"] = self.stub + GATEWAY_PATH.format(self.function)
        argv = [os.path.join(BIN, "gunicorn"), "-c", "gunicorn.conf.py", "--no-control-socket"]
        proc = self.procs.start(name, [*argv, *args, module], env)
        server = Server(name, proc, f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        while len(server.workers()) < self.conf["workers"] and time.monotonic() < deadline:
            time.sleep(0.1)
        wait_http(server.url + "/", server.proc)
        time.sleep(1.0)  # the last worker to fork is still importing the app
        self.watch.servers.append(server)
        return server

    def measure(self, server, c, seconds, lines, markers, timeout=10, **labels):
        cpu, mode = server.cpu_s(), "script" if labels.get("target") == "script" else "page"
        result = wrk(server.url, c, seconds, lines, markers, timeout, mode)
        result["cpu_ms"] = (server.cpu_s() - cpu) * 1000 / max(1, result["good"])
        result.update(labels, server=labels.get("target", server.name))
        self.data["runs"].append(result)
        say(
            f"  {labels.get('phase', ''):8} {result['server']:9} c={c:<3} "
            f"{result['rate']:8.1f}/s  "
            f"p50 {result['p50']:7.2f} ms  p99 {result['p99']:7.2f} ms  "
            f"CPU {result['cpu_ms']:5.2f} ms/inv  errors {result['errors']}"
            + (f"  first: {result['first_bad'][:160]}" if result["errors"] else "")
        )
        return result

    def setup(self):
        from bench.stub import INVOCATION_ID
        from sandbox.functions import ECHO

        self.function, self.answer = ECHO, INVOCATION_ID
        self.markers = {"app": f"{APP_MARKER}|{INVOCATION_ID}"}
        self.markers["script"] = self.markers["app"]
        self.markers |= {"forwarder": INVOCATION_ID, "floor": INVOCATION_ID}
        self.start_stub()
        self.start_sandbox()
        self.app = self.start_server("app", "wsgi:app")
        self.forwarder = self.start_server("forwarder", "bench.forwarder:app")
        self.watch.start()
        started = time.monotonic()
        users = ("agent", "admin")  # the sandbox's users who may invoke
        with ThreadPoolExecutor(8) as pool:
            signed = list(
                pool.map(lambda i: sign_in(self.app.url, users[i % 2], ECHO), range(USERS))
            )
        say(f"  signed {USERS} users in through the sandbox in {time.monotonic() - started:.1f} s")
        self.lines = {
            "app": self.file("app.txt", ["\t".join(s) for s in signed]),
            "script": os.path.join(self.workdir, "app.txt"),
            "forwarder": self.file("forwarder.txt", [f"/forward\t{c}\t{b}" for _, c, b in signed]),
            "floor": self.file("floor.txt", [f"/forward/split\t{c}\t{b}" for _, c, b in signed]),
        }
        body = json.dumps({"timestamp": 0, "headers": [], "payload": {"message": "ping"}})
        path = GATEWAY_PATH.format(ECHO)
        self.lines["stub"] = self.file("stub.txt", [f"{path}\t\t{body}"] * SLOW_USERS)

    def compare(self):
        say(f"\n== Whole invocation vs the forwarder and the floor: c={CONCURRENCY} ==")
        servers = {"script": self.app, "app": self.app}
        servers |= {"forwarder": self.forwarder, "floor": self.forwarder}

        def run(name, c, seconds, **labels):
            lines, markers = self.lines[name], self.markers[name]
            self.measure(servers[name], c, seconds, lines, markers, target=name, **labels)

        for name in servers:
            run(name, 8, PLAN["warm"], phase="warm")
        calls = HTTP.get(self.stub + "/_count", timeout=10).json()["invocations"]
        for rep in range(PLAN["reps"]):
            order = list(servers)[rep % 4 :] + list(servers)[: rep % 4]
            for c in CONCURRENCY:
                for name in order:
                    run(name, c, PLAN["run"], phase="compare", rep=rep)
                    time.sleep(0.5)
        time.sleep(1.0)
        calls = HTTP.get(self.stub + "/_count", timeout=10).json()["invocations"] - calls
        self.data["gateway_calls"] = calls

    def profile(self):
        say(f"\n== py-spy profile at c=8, {PLAN['profile']} s each (runs of their own) ==")
        self.data["profile"] = {}
        for name in ("app", "script", "forwarder"):
            server = self.forwarder if name == "forwarder" else self.app
            raw = os.path.join(OUT, f"profile-{name}.txt")
            with contextlib.suppress(FileNotFoundError):
                os.remove(raw)
            argv = [os.path.join(BIN, "py-spy"), "record", "--pid", str(server.proc.pid)]
            argv += ["--subprocesses", "--gil", "--rate", "100", "--full-filenames"]
            argv += ["--duration", str(PLAN["profile"] + 2)]
            argv += ["--format", "raw", "--output", raw]
            spy = self.procs.start(f"py-spy-{name}", argv)
            time.sleep(1.0)  # attached to the master and its workers
            lines, markers = self.lines[name], self.markers[name]
            result = self.measure(
                server, 8, PLAN["profile"], lines, markers, phase="profile", target=name
            )
            with contextlib.suppress(subprocess.TimeoutExpired):
                spy.wait(PLAN["profile"] + 30)
            self.procs.stop(spy)
            if not os.path.exists(raw):
                with open(spy.log.name, errors="replace") as file:
                    self.data["profile"][name] = {"error": file.read()[-600:]}
                say(f"  py-spy failed on {name}: {self.data['profile'][name]['error'][-200:]}")
                continue
            found = report.areas(raw)
            found["cpu_ms"] = result["cpu_ms"]
            self.data["profile"][name] = found
            say(f"  {name}: {found['samples']} samples; {report.area_line(found)}")

    def slow(self):
        say(f"\n== Slow gateway: {SLOW_DELAY:g} s per call, {SLOW_USERS} users ==")
        HTTP.get(f"{self.stub}/_delay/{SLOW_DELAY}", timeout=10)
        alone = wrk(self.stub, SLOW_USERS, PLAN["slow"], self.lines["stub"], self.answer, 30)
        say(f"  the stand-in alone, same wrk run: {alone['rate']:.1f}/s")
        time.sleep(SLOW_DELAY + 0.5)
        lines, markers = self.lines["app"], self.markers["app"]
        if not QUICK:
            self.measure(self.app, SLOW_USERS, 3, lines, markers, 30, phase="warm")
            time.sleep(SLOW_DELAY + 0.5)
        found = self.measure(self.app, SLOW_USERS, PLAN["slow"], lines, markers, 30, phase="slow")
        HTTP.get(f"{self.stub}/_delay/0", timeout=10)
        time.sleep(SLOW_DELAY + 0.5)
        self.data["slow"] = {"app": found, "alone": alone, "ideal": SLOW_USERS / SLOW_DELAY}

    def memory(self):
        say(f"\n== Worker RSS: {PLAN['mem']} s at c=32, worker recycling off ==")
        for server in (self.app, self.forwarder):
            self.procs.stop(server.proc)
            self.watch.servers.remove(server)
        server = self.start_server("memory", "wsgi:app", "--max-requests", "0")
        boot = max(server.rss_mb().values())
        lines, markers = self.lines["app"], self.markers["app"]
        warm = self.measure(server, 32, PLAN["mem_warm"], lines, markers, phase="warm")
        time.sleep(1.0)
        after_warm, started = max(server.rss_mb().values()), time.monotonic()
        found = self.measure(server, 32, PLAN["mem"], lines, markers, phase="memory")
        time.sleep(1.0)
        timeline = [(t - started, rss) for t, rss in self.watch.timeline["memory"]]
        half = next(rss for t, rss in timeline if t >= PLAN["mem"] / 2)
        self.data["memory"] = {
            "boot": boot,
            "after_warm": after_warm,
            "half": half,
            "end": max(server.rss_mb().values()),
            "invocations": warm["good"] + found["good"],
            "peak": self.watch.peak["memory"],
        }
        self.procs.stop(server.proc)

    def check_logs(self):
        found = {}
        for name in ("app", "forwarder", "memory", "stub", "sandbox"):
            path = os.path.join(self.workdir, name + ".log")
            with contextlib.suppress(FileNotFoundError), open(path, errors="replace") as file:
                text = file.read()
                found[name] = text.count("Traceback (most recent call last)")
        self.data["tracebacks"] = found

    def main(self):
        started = time.time()
        os.makedirs(OUT, exist_ok=True)
        self.data["machine"] = machine(self.conf)
        say(f"Work directory (logs): {self.workdir}")
        try:
            self.setup()
            self.compare()
            self.profile()
            self.slow()
            self.memory()
        finally:
            self.procs.stop_all()
        self.check_logs()
        self.data["peak"] = dict(self.watch.peak)
        self.data["elapsed_s"] = time.time() - started
        self.data["load_end"] = psutil.getloadavg()
        from bench.forwarder import FLOOR
        from bench.forwarder import SENTENCE

        self.data["forwarder"], self.data["floor"] = SENTENCE, FLOOR
        name = "results-quick" if QUICK else "results"
        with open(os.path.join(OUT, name + ".json"), "w") as file:
            json.dump(self.data, file, indent=1)
        text = report.render(self.data)
        where = (OUT, "RESULTS-quick.md") if QUICK else (LIVE, "bench", "RESULTS.md")
        target = os.path.join(*where)
        with open(target, "w") as file:
            file.write(text)
        say("\n" + text + f"\nWritten to {target}; raw data and profiles in {OUT}")


def machine(conf):
    cpu = platform.processor()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as file:
        cpu = next((x.split(":", 1)[1].strip() for x in file if x.startswith("model name")), cpu)

    def command(*argv):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (done.stdout + done.stderr).strip()
        return ""

    head = command("git", "-C", LIVE, "rev-parse", "--short", "HEAD")
    dirty = command("git", "-C", LIVE, "status", "--porcelain", "--untracked-files=no")
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cores": psutil.cpu_count(),
        "physical": psutil.cpu_count(logical=False),
        "cpu": cpu or "unknown",
        "ram_gb": psutil.virtual_memory().total / 1e9,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load": psutil.getloadavg(),
        "git": head + (" (uncommitted changes)" if dirty else ""),
        "wrk": command("wrk", "-v").split(" Copyright")[0],
        "conf": conf,
    }


if __name__ == "__main__":
    bench = Bench()
    signal.signal(signal.SIGTERM, lambda signum, _: sys.exit(128 + signum))
    bench.main()
