"""Where the invoke POST's time goes: the app in-process (Flask test client, one thread), each
stage timed by a wrapper, against the same gateway stub; the thin forwarder and a bare Flask
endpoint measured the same way for comparison.

Run by bench/run.py with the app's environment and BENCH_COOKIE / BENCH_CSRF of a signed-in
session; prints BENCH{...json...}. A stage whose function no longer exists is skipped, so a
refactor of the app never breaks the benchmark, it only drops that row.
"""

import collections
import functools
import json
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import flask  # noqa: E402
import redis  # noqa: E402

import app as invoker  # noqa: E402
from sandbox.functions import ECHO  # noqa: E402

N = int(os.environ.get("BENCH_BREAKDOWN_N", "1500"))
WARM = 200
PAYLOAD = json.dumps({"message": "ping", "count": 1}, indent=2).replace("\n", "\r\n")
totals = collections.Counter()
counts = collections.Counter()
active = [False]


def timed(name, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not active[0]:
            return fn(*args, **kwargs)
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[name] += time.perf_counter() - started
            counts[name] += 1

    return wrapper


def patch(owner, attribute, name):
    """Wrap owner.attribute with a timer; skip silently if the app no longer has it."""
    if owner is None or not hasattr(owner, attribute):
        return
    setattr(owner, attribute, timed(name, getattr(owner, attribute)))


def module(dotted):
    try:
        __import__(dotted)
        return sys.modules[dotted]
    except ImportError:
        return None


def instrument(flask_app):
    console, forms_mod = module("app.console.views"), module("app.console.forms")
    snippets, tokens = module("app.console.snippets"), module("app.auth.tokens")
    client_mod = module("liveperson_functions.client")
    from flask_wtf import csrf

    interface = flask_app.session_interface
    patch(interface, "open_session", "session: open (load)")
    patch(interface, "save_session", "session: save")
    for hooks, label in (
        (flask_app.before_request_funcs, "before_request"),
        (flask_app.after_request_funcs, "after_request"),
    ):
        for key, funcs in hooks.items():
            hooks[key] = [
                timed(f"{label}: {getattr(f, '__name__', 'hook')}", f)
                if getattr(f, "__name__", "") != "csrf_protect"
                else f
                for f in funcs
            ]
    patch(csrf.CSRFProtect, "protect", "before_request: CSRF check")
    patch(console, "find_function", "view: find the function (cached list)")
    patch(forms_mod, "read_invoke_form", "view: read and check the form")
    if client_mod:
        patch(client_mod.FunctionsClient, "invoke", "view: gateway call (client.invoke)")
        patch(client_mod.FunctionsClient, "_exchange", "  of which HTTP request + read")
    patch(tokens, "current", "  of which token record (tokens.current)")
    userdata = flask_app.extensions.get("userdata")
    patch(type(userdata), "add_invocation", "view: history write")
    patch(console, "shown", "view: pretty-print the result (json indent=2)")
    patch(console, "page_for", "view: result page (page_for)")
    patch(type(userdata), "payloads", "  of which saved payloads query")
    patch(snippets, "curl", "  of which copy-as curl")
    patch(snippets, "python", "  of which copy-as Python")
    patch(console, "render_template", "  of which Jinja render")
    store = flask_app.extensions.get("store")
    for op in ("get", "set", "delete"):
        patch(type(store), op, f"(store.{op} calls)")
    patch(redis.Redis, "execute_command", "(redis commands)")
    patch(redis.client.Pipeline, "execute", "(redis pipelines)")


def measure(client, method, path, check, n=N, **kwargs):
    for _ in range(WARM):
        response = getattr(client, method)(path, **kwargs)
        if not check(response):
            raise SystemExit(f"unexpected answer {response.status_code}: {response.data[:300]}")
    totals.clear()
    counts.clear()
    active[0] = True
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        getattr(client, method)(path, **kwargs)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    active[0] = False
    return {"wall_ms": wall * 1000 / n, "cpu_ms": cpu * 1000 / n}


def interleaved(variants, n=N, rounds=10):
    """Measure variants in alternating batches, so a busy moment of the machine hits them all."""
    sums = {name: [0.0, 0.0] for name in variants}
    for client, method, path, check, kwargs, before in variants.values():
        before()
        measure(client, method, path, check, n=1, **kwargs)  # warm-up and check
    batch = max(1, n // rounds)
    for _ in range(rounds):
        for name, (client, method, path, _, kwargs, before) in variants.items():
            before()
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(batch):
                getattr(client, method)(path, **kwargs)
            sums[name][0] += time.perf_counter() - wall
            sums[name][1] += time.process_time() - cpu
    total = batch * rounds
    return {
        name: {"wall_ms": w * 1000 / total, "cpu_ms": c * 1000 / total}
        for name, (w, c) in sums.items()
    }


def app_client(overrides=None):
    flask_app = invoker.create_app(overrides)
    client = flask_app.test_client()
    client.set_cookie("invoker_session", os.environ["BENCH_COOKIE"], domain="localhost")
    return flask_app, client


def invoke_form():
    return {
        "csrf_token": os.environ["BENCH_CSRF"],
        "payload": PAYLOAD,
        "header_name": ["", ""],
        "header_value": ["", ""],
        "skill_id": "",
        "event_source": "",
        "kind": "function",
        "target": ECHO,
        "name": "",
    }


def main():
    logging.disable(logging.NOTSET)
    out = {}
    path = f"/functions/{ECHO}"

    def success(response):
        return response.status_code == 200 and b"badge-success" in response.data

    # Uninstrumented and interleaved: the app as configured, the app with LOG_LEVEL=WARNING
    # (no per-request log lines), the thin forwarder and a bare Flask endpoint.
    os.environ.setdefault("BENCH_GATEWAY_URL", "")
    from bench import forwarder

    bare = flask.Flask("bare")
    bare.add_url_rule("/", "bare", lambda: flask.jsonify(status="ok"))
    form = invoke_form()

    # Both apps log through the one "app" logger: set its level before each batch.
    def level(name):
        return lambda: logging.getLogger("app").setLevel(name)

    def same():
        return None

    variants = {
        "app_plain": (app_client()[1], "post", path, success, {"data": form}, level("INFO")),
        "app_log_warning": (
            app_client({"LOG_LEVEL": "WARNING"})[1],
            "post",
            path,
            success,
            {"data": form},
            level("WARNING"),
        ),
        "forwarder": (
            forwarder.app.test_client(),
            "post",
            "/forward",
            lambda r: r.status_code == 200,
            {"data": form},
            same,
        ),
        "bare_flask": (bare.test_client(), "get", "/", lambda r: r.status_code == 200, {}, same),
    }
    out.update(interleaved(variants))
    # The app as configured, every stage timed (the wrappers add a little).
    flask_app, client = app_client()
    logging.getLogger("app").setLevel("INFO")
    instrument(flask_app)
    out["app"] = measure(client, "post", path, success, data=form)
    out["stages"] = {
        name: {"ms": totals[name] * 1000 / N, "per_request": counts[name] / N} for name in totals
    }
    print("BENCH" + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
