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
TARGETS = ("app", "floor", "forwarder")
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


def end_load(data):
    """The load at the end too: other work that started during the run shows here."""
    end = data.get("load_end")
    return f", at the end {end[0]:.2f} (1 min) / {end[1]:.2f} (5 min)" if end else ""


def median(values):
    return statistics.median(values) if values else float("nan")


def spread(values, fmt):
    if not values:
        return "–"
    text = fmt.format(median(values))
    return (
        text
        if len(values) == 1
        else f"{text} ({fmt.format(min(values))}–{fmt.format(max(values))})"
    )


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

    def paired(c, key, how, mine="app"):
        app, fwd = cell[(mine, c)], cell[("forwarder", c)]
        return [how(app[r][key], fwd[r][key]) for r in reps if r in app and r in fwd]

    def added(mine):
        return paired(1, "p50", operator.sub, mine)

    def ratio(c, mine, key="rate"):
        return paired(c, key, operator.truediv, mine)

    every = data["runs"]
    groups = {"app": ("app", "memory"), "floor": ("floor",), "forwarder": ("forwarder",)}
    errors = {}
    for name, servers in groups.items():
        rs = [r for r in every if r["server"] in servers]
        errors[name] = (sum(r["errors"] for r in rs), sum(r["good"] for r in rs))
    mem = data.get("memory", {})
    slow = data.get("slow")
    peak = max(data.get("peak", {}).get("app", 0), mem.get("peak", 0))
    kind = "quick (BENCH_QUICK=1)" if data["quick"] else "full"
    plan = data["plan"]

    def three(c, key, fmt, unit=""):
        return " | ".join(f"{spread(values(t, c, key), fmt)}{unit}" for t in TARGETS)

    lines = [
        "# Benchmark: whole invocation vs the thin forwarder",
        "",
        f"{kind} run, {m['date']}, {data['elapsed_s'] / 60:.1f} min, code at {m['git']}. "
        f"Machine: {m['cores']} logical cores ({m['physical']} physical), {m['cpu']}, "
        f"{m['ram_gb']:.0f} GB RAM, {m['system']}, Python {m['python']}; load average at the "
        f"start {m['load'][0]:.2f}{end_load(data)}. Everything (wrk, stand-in, sandbox, both "
        "servers) shares these cores on 127.0.0.1.",
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
        "markers, anything else is an error.",
        f"- {redirect_note([r for r in every if r['server'] in groups['app']])} Gateway calls "
        f"during the comparison: {data.get('gateway_calls', 0):,} for "
        f"{sum(r['good'] for r in runs):,} checked invocations (wrk stops with up to c calls in "
        "flight).",
        "",
        "| row | app (whole invocation) | floor (POST → 303 → GET) | forwarder | app vs "
        "forwarder | floor vs forwarder | target | app | floor |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| c=1 p50 | {three(1, 'p50', '{:.2f}', ' ms')} | +{spread(added('app'), '{:.2f}')} ms "
        f"| +{spread(added('floor'), '{:.2f}')} ms | ≤ +1.5 ms | "
        f"{mark(median(added('app')) <= 1.5)} | {mark(median(added('floor')) <= 1.5)} |",
    ]
    for c in (8, 32):
        app, floor = ratio(c, "app"), ratio(c, "floor")
        lines.append(
            f"| c={c} invocations/s | {three(c, 'rate', '{:,.0f}')} | "
            f"{spread([x * 100 for x in app], '{:.0f}')} % | "
            f"{spread([x * 100 for x in floor], '{:.0f}')} % | ≥ 70 % | "
            f"{mark(median(app) >= 0.7)} | {mark(median(floor) >= 0.7)} |"
        )
    tails = {mine: ratio(32, mine, "p99") for mine in ("app", "floor")}
    lines.append(
        f"| c=32 p99 | {three(32, 'p99', '{:.1f}', ' ms')} | {spread(tails['app'], '{:.2f}')}× | "
        f"{spread(tails['floor'], '{:.2f}')}× | ≤ 2× | {mark(median(tails['app']) <= 2)} | "
        f"{mark(median(tails['floor']) <= 2)} |"
    )
    lines.append(
        "| errors, all runs | "
        + " | ".join(f"{errors[t][0]} in {errors[t][1]:,}" for t in TARGETS)
        + f" | | | 0 | {mark(errors['app'][0] == 0)} | "
        f"{mark(errors['floor'][0] + errors['forwarder'][0] == 0)} |"
    )
    if slow:
        share, alone = (
            slow["app"]["rate"] / slow["ideal"],
            slow["app"]["rate"] / slow["alone"]["rate"],
        )
        lines.append(
            f"| slow gateway (1 s per call, {slow['app']['c']} users, {plan['slow']} s) | "
            f"{slow['app']['rate']:.1f}/s, p50 {slow['app']['p50']:,.0f} ms | | stand-in alone "
            f"{slow['alone']['rate']:.1f}/s | {share:.0%} of the ideal {slow['ideal']:.0f}/s; "
            f"{alone:.0%} of the stand-in alone | | ≥ 90 % of the ideal (the stand-in alone, "
            f"same wrk run) | {mark(alone >= 0.9)} | |"
        )
    if mem:
        flat = mem["end"] - mem["half"]
        lines.append(
            f"| worker RSS (recycling off, {mem['invocations']:,} invocations) | max "
            f"{peak:.1f} MB; {mem['after_warm']:.1f} MB after warm-up → {mem['end']:.1f} MB "
            f"at the end; second half {flat:+.1f} MB | | | | | ≤ 80 MB, flat (second half ≤ +1 "
            f"MB) | {mark(peak <= 80 and flat <= 1.0)} | |"
        )
    lines += [
        "",
        "Every cell (median): invocations/s · p50 ms · p99 ms · CPU ms per invocation (master "
        "and workers, psutil).",
        "",
        "| c | app | floor | forwarder |",
        "|---|---|---|---|",
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


def redirect_note(app_runs):
    seen = sum(r["redirected"] for r in app_runs)
    total = sum(r["good"] + r["errors"] for r in app_runs)
    if seen == 0:
        return "The app answered the invoke POST with 200 and the result page (no 303)."
    return f"The app answered {seen:,} of {total:,} invoke POSTs with 303 (then GET Location)."


def profile_section(profile):
    app, fwd = profile.get("app", {}), profile.get("forwarder", {})
    if "areas" not in app:
        return ["", f"Profile: py-spy did not run ({app.get('error', 'no data')[-200:]!r})."]
    lines = [
        "",
        f"Where the time goes: py-spy record --gil (the thread holding the GIL, 100 Hz, all "
        f"workers) during a c=8 run of its own, {app['samples']:,} app samples (and "
        f"{app['bare']} with no Python frame, left out); ms = share × CPU per invocation "
        "(psutil). Raw stacks (collapsed): "
        "bench/out/profile-app.txt, profile-forwarder.txt.",
        "",
        "| area | app share | app ms/inv | forwarder ms/inv |",
        "|---|---|---|---|",
    ]
    for name in ORDER:
        share = app["areas"][name]
        theirs = fwd["areas"][name] * fwd["cpu_ms"] if "areas" in fwd else float("nan")
        lines.append(f"| {name} | {share:.0%} | {share * app['cpu_ms']:.2f} | {theirs:.2f} |")
    total = fwd.get("cpu_ms", float("nan"))
    lines.append(f"| all (CPU per invocation) | 100 % | {app['cpu_ms']:.2f} | {total:.2f} |")
    top = "; ".join(f"{name} {share:.0%}" for name, share in app["top"])
    return [*lines, "", f"Most samples of their own (app): {top}."]
