"""The report of `make bench` (markdown), and the per-area breakdown of a py-spy profile."""

import collections
import operator
import re
import statistics

# Where a py-spy sample belongs: the innermost frame ("function (file:line)") holding one of an
# area's texts. Frames of gunicorn, Flask and Werkzeug count for an area around them (url_for
# in a template is render, set_cookie under the session interface is the session), else for
# themselves; a frame of the project's own code inside none is "other". Frames of no area
# (the store, json, hmac, uuid) count for their caller: a store read under tokens.py is the
# token record. Form parsing is the framework's, whoever asks for the form first.
FRAMEWORK = "gunicorn, Flask, Werkzeug"
AREAS = (
    ("logging", ("logging/", "app/logs.py", "glogging.py", "flask/logging.py")),
    ("CSRF", ("flask_wtf/", "wtforms/")),
    ("token record", ("tokens.py", "load_user (", "authlib/")),
    ("session load/save", ("flask_session/", "app/sessions.py", "msgspec")),
    ("history write", ("userdata.py", "sqlite3")),
    ("render", ("jinja2/", "markupsafe/", "templates/", "flask/templating.py", "snippets.py")),
    (
        "gateway call",
        ("requests/", "urllib3/", "http/client.py", "liveperson_functions/", "gateway.py"),
    ),
    (FRAMEWORK, ("gunicorn/", "flask/", "werkzeug/", "concurrent/futures/")),
)
OTHER = "other: the views' own code (forms, JSON, uuid, …)"
ORDER = [name for name, _ in AREAS] + [OTHER]
# The code under test, copied to <work directory>/code/ (py-spy --full-filenames).
PROJECT = ("/code/app/", "/code/bench/", "/code/wsgi.py")
TARGETS = ("script", "app", "floor", "forwarder")
SHORT = re.compile(r"\(\S*/(site-packages|code|python3\.\d+)/")  # a file's path, from its package


def area_of(frames):
    framework = False
    for frame in reversed(frames):
        if "formparser.py" in frame:
            return FRAMEWORK
        name = next((name for name, texts in AREAS if any(t in frame for t in texts)), None)
        if name == FRAMEWORK:
            framework = True
        elif name:
            return name
        elif not framework and any(p in frame[frame.rfind("(") :] for p in PROJECT):
            return OTHER
    return FRAMEWORK if framework else OTHER


def areas(path):
    """Read py-spy's raw output (one "root;…;leaf count" line per stack): each area's share of
    the samples, and the functions with the most samples of their own."""
    found, own, bare = collections.Counter(), collections.Counter(), 0
    with open(path) as file:
        for line in file:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            frames = [f for f in stack.split(";") if f and not f.startswith("process ")]
            if not count.isdigit() or not frames:  # a thread with no Python frame (yet)
                bare += int(count) if count.isdigit() else 0
                continue
            found[area_of(frames)] += int(count)
            leaf = SHORT.sub("(", frames[-1])
            own[leaf.split(":")[0] + ")" if ":" in leaf else leaf] += int(count)
    total = sum(found.values()) or 1
    return {
        "samples": sum(found.values()),
        "bare": bare,
        "areas": {name: found[name] / total for name in ORDER},
        "top": [(name, n / total) for name, n in own.most_common(8)],
    }


def area_line(found):
    shares = sorted(found["areas"].items(), key=lambda item: -item[1])
    return ", ".join(f"{name} {share:.0%}" for name, share in shares if share >= 0.01)


def median(values):
    return statistics.median(values) if values else float("nan")


def spread(values, fmt):
    if not values:
        return "–"
    text = fmt.format(median(values))
    if len(values) == 1:
        return text
    return f"{text} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def mark(ok):
    return "✓" if ok else "✗"


def render(data):
    m = data["machine"]
    conf = m["conf"]
    runs = [r for r in data["runs"] if r.get("phase") == "compare"]
    cell = collections.defaultdict(dict)
    for r in runs:
        cell[(r["target"], r["c"])][r["rep"]] = r
    reps = sorted({r["rep"] for r in runs})

    def values(target, c, key):
        return [cell[(target, c)][rep][key] for rep in reps if rep in cell[(target, c)]]

    def paired(c, key, how, mine, base):
        app, fwd = cell[(mine, c)], cell[(base, c)]
        return [how(app[r][key], fwd[r][key]) for r in reps if r in app and r in fwd]

    # The script path against the forwarder; the path without script against the floor.
    bases = {"script": "forwarder", "app": "floor"}

    def added(mine):
        return paired(1, "p50", operator.sub, mine, bases[mine])

    def ratio(c, mine, key="rate"):
        return paired(c, key, operator.truediv, mine, bases[mine])

    every = data["runs"]
    groups = {"script": ("script",), "app": ("app", "memory")}
    groups |= {"floor": ("floor",), "forwarder": ("forwarder",)}
    errors = {}
    for name, servers in groups.items():
        rs = [r for r in every if r["server"] in servers]
        errors[name] = (sum(r["errors"] for r in rs), sum(r["good"] for r in rs))
    mem = data.get("memory", {})
    slow = data.get("slow")
    peak = max(data.get("peak", {}).get("app", 0), mem.get("peak", 0))
    kind = "quick (BENCH_QUICK=1)" if data["quick"] else "full"
    end = data["load_end"]  # other work that started during the run shows here

    def posts(path):  # 303s seen, and POSTs sent
        rs = [r for r in every if r["server"] in groups[path]]
        return sum(r["redirected"] for r in rs), sum(r["good"] + r["errors"] for r in rs)

    plan = data["plan"]

    def four(c, key, fmt, unit=""):
        return " | ".join(f"{spread(values(t, c, key), fmt)}{unit}" for t in TARGETS)

    lines = [
        "# Benchmark: whole invocation vs the thin forwarder",
        "",
        f"{kind} run, {m['date']}, {data['elapsed_s'] / 60:.1f} min, code at {m['git']}. "
        f"Machine: {m['cores']} logical cores ({m['physical']} physical), {m['cpu']}, "
        f"{m['ram_gb']:.0f} GB RAM, {m['system']}, Python {m['python']}; load average at the "
        f"start {m['load'][0]:.2f}, at the end {end[0]:.2f} (1 min) / {end[1]:.2f} (5 min). "
        "Everything (wrk, stand-in, sandbox, both servers) shares these cores on 127.0.0.1.",
        "",
        f"- Both servers: gunicorn with gunicorn.conf.py ({conf['worker_class']}, "
        f"{conf['workers']} workers × {conf['threads']} threads, max_requests "
        f"{conf['max_requests']}), in front of the same fast gateway stand-in (bench/stub.py).",
        f"- Baseline: {data['forwarder']}",
        f"- {data.get('floor', '')}",
        f"- Load: {m['wrk']}, one connection per signed-in user (closed loop), targets "
        f"interleaved, {len(reps)} reps × {plan['run']} s per cell; median (min–max over reps; "
        "ratios paired per rep). An invocation is the form POST, plus the GET of the result "
        "page when the POST answers 303; each final answer must be a 200 with the result's "
        "markers, anything else is an error. The script path is the same POST as htmx sends it "
        "(HX-Request: true): one request, answered with the result panel and HX-Push-Url.",
        f"- Without script the app answered {posts('app')[0]:,} of {posts('app')[1]:,} invoke "
        f"POSTs with 303 (then GET Location), with script {posts('script')[0]:,} of "
        f"{posts('script')[1]:,}. Gateway calls during the comparison: "
        f"{data.get('gateway_calls', 0):,} for {sum(r['good'] for r in runs):,} checked "
        "invocations (wrk stops with up to c calls in flight).",
        "",
        "| row | script (one request) | without script (POST → 303 → GET) | floor (the same "
        "split) | forwarder | script vs forwarder | without script vs floor | target | script | "
        "without script |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| c=1 p50 | {four(1, 'p50', '{:.2f}', ' ms')} | +{spread(added('script'), '{:.2f}')} "
        f"ms | +{spread(added('app'), '{:.2f}')} ms | ≤ +1.5 ms (script) | "
        f"{mark(median(added('script')) <= 1.5)} | |",
    ]
    for c in (8, 32):
        script, app = ratio(c, "script"), ratio(c, "app")
        lines.append(
            f"| c={c} invocations/s | {four(c, 'rate', '{:,.0f}')} | "
            f"{spread([x * 100 for x in script], '{:.0f}')} % | "
            f"{spread([x * 100 for x in app], '{:.0f}')} % | ≥ 70 %"
            + (" · ≥ 60 % | " if c == 8 else " | ")
            + f"{mark(median(script) >= 0.7)} | "
            + (f"{mark(median(app) >= 0.6)} |" if c == 8 else " |")
        )
    tails = {mine: ratio(32, mine, "p99") for mine in ("script", "app")}
    lines.append(
        f"| c=32 p99 | {four(32, 'p99', '{:.1f}', ' ms')} | {spread(tails['script'], '{:.2f}')}× "
        f"| {spread(tails['app'], '{:.2f}')}× | ≤ 2× (script) | "
        f"{mark(median(tails['script']) <= 2)} | |"
    )
    lines.append(
        "| errors, all runs | "
        + " | ".join(f"{errors[t][0]} in {errors[t][1]:,}" for t in TARGETS)
        + f" | | | 0 | {mark(errors['script'][0] == 0)} | {mark(errors['app'][0] == 0)} |"
    )
    if slow:
        share, alone = (
            slow["app"]["rate"] / slow["ideal"],
            slow["app"]["rate"] / slow["alone"]["rate"],
        )
        lines.append(
            f"| slow gateway (1 s per call, {slow['app']['c']} users, {plan['slow']} s) | | "
            f"{slow['app']['rate']:.1f}/s, p50 {slow['app']['p50']:,.0f} ms | | stand-in alone "
            f"{slow['alone']['rate']:.1f}/s | | {share:.0%} of the ideal {slow['ideal']:.0f}/s; "
            f"{alone:.0%} of the stand-in alone | ≥ 90 % of the ideal (the stand-in alone, "
            f"same wrk run) | | {mark(alone >= 0.9)} |"
        )
    if mem:
        flat = mem["end"] - mem["half"]
        lines.append(
            f"| worker RSS (recycling off, {mem['invocations']:,} invocations) | | max "
            f"{peak:.1f} MB; {mem['after_warm']:.1f} MB after warm-up → {mem['end']:.1f} MB "
            f"at the end; second half {flat:+.1f} MB | | | | | ≤ 80 MB, flat (second half ≤ +1 "
            f"MB) | | {mark(peak <= 80 and flat <= 1.0)} |"
        )
    lines += [
        "",
        "Every cell (median): invocations/s · p50 ms · p99 ms · CPU ms per invocation (master "
        "and workers, psutil).",
        "",
        "| c | script | without script | floor | forwarder |",
        "|---|---|---|---|---|",
    ]
    for c in sorted({r["c"] for r in runs}):
        row = [
            f"{median(values(t, c, 'rate')):,.0f} · {median(values(t, c, 'p50')):.2f} · "
            f"{median(values(t, c, 'p99')):.1f} · {median(values(t, c, 'cpu_ms')):.2f}"
            for t in TARGETS
        ]
        lines.append(f"| {c} | {' | '.join(row)} |")
    lines += profile_section(data.get("profile", {}))
    bad = {name: n for name, n in data.get("tracebacks", {}).items() if n}
    if bad:
        lines += ["", f"Tracebacks in the servers' logs: {bad}."]
    first = next((r["first_bad"] for r in every if r.get("first_bad")), "")
    if first:
        lines += ["", f"First wrong answer: `{first[:200]}`"]
    return "\n".join(lines) + "\n"


def profile_section(profile):
    app = profile.get("app", {})
    if "areas" not in app:
        return ["", f"Profile: py-spy did not run ({app.get('error', 'no data')[-200:]!r})."]
    lines = [
        "",
        f"Where the time goes: py-spy record --gil (the thread holding the GIL, 100 Hz, all "
        f"workers) during a c=8 run of its own per path, {app['samples']:,} samples without "
        f"script (and {app['bare']} with no Python frame, left out); ms = share × CPU per "
        "invocation (psutil). Raw stacks (collapsed): bench/out/profile-app.txt, "
        "profile-script.txt, profile-forwarder.txt.",
        "",
        "| area | without script: share | ms/inv | script ms/inv | forwarder ms/inv |",
        "|---|---|---|---|---|",
    ]

    def ms(name, area):
        found = profile.get(name, {})
        return found["areas"][area] * found["cpu_ms"] if "areas" in found else float("nan")

    paths = ("app", "script", "forwarder")
    for area in ORDER:
        mine = " | ".join(f"{ms(name, area):.2f}" for name in paths)
        lines.append(f"| {area} | {app['areas'][area]:.0%} | {mine} |")
    totals = " | ".join(f"{profile.get(n, {}).get('cpu_ms', float('nan')):.2f}" for n in paths)
    lines.append(f"| all (CPU per invocation) | 100 % | {totals} |")
    top = "; ".join(f"{name} {share:.0%}" for name, share in app["top"])
    return [*lines, "", f"Most samples of their own (without script): {top}."]
