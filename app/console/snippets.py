""" "Copy as curl" and "Copy as Python" for an invocation: they fetch their own app token."""

import json
import pprint
import shlex
from urllib.parse import quote

from flask import current_app
from flask import render_template

from app.console.gateway import EVENT_SOURCE
from liveperson_functions.discovery import DiscoveryError
from liveperson_functions.wire import platform_for
from liveperson_functions.wire import prepare_invoke

# Sent afresh by every call (curl sends its own User-Agent), so a copy leaves them out.
PER_CALL = ("X-Request-ID", "User-Agent")
# The sandbox's demo app (README, "The sandbox"): public demo values, never a real secret.
SANDBOX_APP = ("sandbox-m2m", "sandbox-m2m-secret")
NOTE = (
    "LP_CLIENT_ID and LP_CLIENT_SECRET are an app (API key) of account {account} allowed to "
    "invoke functions; the snippet fetches its own app token with them, so it runs as the app, "
    "which may be allowed more than you."
)
# How to get the Python client outside this repository (README, "Use it from Python").
INSTALL = "python -m pip install .  # in a copy of the Functions Invoker repository"


def base_url(service, fallback):
    try:
        return current_app.extensions["resolver"].base_url(service)
    except DiscoveryError:
        return fallback


def gateway_platform():
    """Return the gateway's platform: the configured one, or what its host name implies."""
    base = base_url("faasGW", "https://$FAAS_GATEWAY")
    return platform_for(base, current_app.config.get("LP_PLATFORM"))


def prepared(entry, payload=None, user_id=None):
    """Return the request an invocation sends, built by the client's own `prepare_invoke`."""
    return prepare_invoke(
        current_app.config["LP_ACCOUNT_ID"],
        entry["target"],
        payload,
        base_url=base_url("faasGW", "https://$FAAS_GATEWAY"),
        platform=gateway_platform(),
        event=entry["kind"] != "function",
        headers=[(name, value) for name, value in entry.get("headers", ()) if name],
        skill_id=entry["skill_id"],
        user_id=user_id,
        event_source=entry["event_source"] or EVENT_SOURCE,
        request_id=entry.get("request_id"),
        timestamp=entry["at"] * 1000 if "at" in entry else None,
    )


def payload_of(entry):
    """Return the entry's payload, or None when an old history kept only part of it."""
    try:
        return json.loads(entry["payload"])
    except ValueError:
        return None


def credentials():
    """Return the shell and Python expressions for the app's client id and secret."""
    if current_app.config["SANDBOX_MODE"]:
        client_id, secret = SANDBOX_APP
        shell = (f"${{LP_CLIENT_ID:-{client_id}}}", f"${{LP_CLIENT_SECRET:-{secret}}}")
        python = (
            f'os.environ.get("LP_CLIENT_ID", {client_id!r})',
            f'os.environ.get("LP_CLIENT_SECRET", {secret!r})',
        )
        return shell, python
    shell = ("$LP_CLIENT_ID", "$LP_CLIENT_SECRET")
    return shell, ('os.environ["LP_CLIENT_ID"]', 'os.environ["LP_CLIENT_SECRET"]')


def curl(entry, payload):
    """Return a shell script that fetches an app token, then repeats the invocation with curl."""
    request = prepared(entry, payload)
    account = quote(current_app.config["LP_ACCOUNT_ID"])
    sentinel = base_url("sentinel", "https://$SENTINEL")
    token_url = f"{sentinel}/sentinel/api/account/{account}/app/token?v=2.0"
    (client_id, secret), _ = credentials()
    lines = [
        f"curl -sS -X {request.method} {shlex.quote(request.full_url)}",
        '-H "Authorization: Bearer $LP_APP_TOKEN"',
    ]
    lines += [
        f"-H {shlex.quote(f'{name}: {value}')}"
        for name, value in request.headers.items()
        if name not in PER_CALL
    ]
    lines.append(f"--data {shlex.quote(json.dumps(request.json, separators=(',', ':')))}")
    return (
        f"# {NOTE.format(account=account)}\n"
        f"LP_APP_TOKEN=$(curl -sS -X POST {shlex.quote(token_url)} \\\n"
        f"  -d grant_type=client_credentials \\\n"
        f'  --data-urlencode "client_id={client_id}" \\\n'
        f'  --data-urlencode "client_secret={secret}" \\\n'
        "  | python3 -c 'import json, sys; print(json.load(sys.stdin)[\"access_token\"])')\n"
        + " \\\n  ".join(lines)
        + "\n"
    )


def python(entry, payload):
    """Return a Python script that repeats the invocation with liveperson_functions."""
    config = current_app.config
    v2 = gateway_platform() == "v2"
    _, (client_id, secret) = credentials()
    options = {"headers": dict(r for r in entry["headers"] if r[0]) or None}
    options["skill_id"] = entry["skill_id"] or None
    options["event_source"] = entry["event_source"] or EVENT_SOURCE
    extra = "".join(f", {k}={v!r}" for k, v in options.items() if v)
    resolver = [repr(config["LP_ACCOUNT_ID"]), repr(config["LP_CSDS_URL"])]
    if config.get("LP_DOMAINS"):
        resolver.append(f"overrides={config['LP_DOMAINS']!r}")
    if config["LP_INSECURE_HTTP"]:
        resolver.append("insecure_http=True")
    platform = ', platform="v2"' if v2 else ""
    if entry["kind"] == "function":
        call = f"client.invoke({entry['target']!r}, payload{extra})"
        show = "print(json.dumps(result.result, indent=2))"
    else:
        call = f"client.invoke_event({entry['target']!r}, payload{extra})"
        show = "for ran in result:\n    print(ran.uuid, json.dumps(ran.result, indent=2))"
    return (
        f"# {NOTE.format(account=config['LP_ACCOUNT_ID'])}\n"
        f"# Needs the liveperson_functions client: {INSTALL}\n"
        "import json\nimport os\nimport sys\n\n"
        "try:\n"
        "    from liveperson_functions import FaaSError\n"
        "    from liveperson_functions import FaaSLambdaError\n"
        "    from liveperson_functions.auth import ClientCredentials\n"
        "    from liveperson_functions.client import FunctionsClient\n"
        "    from liveperson_functions.discovery import Resolver\n"
        "except ModuleNotFoundError:\n"
        f'    sys.exit("Install the liveperson_functions client first: {INSTALL}")\n\n'
        f"account = {config['LP_ACCOUNT_ID']!r}\n"
        f"resolver = Resolver({', '.join(resolver)})\n"
        f"auth = ClientCredentials({client_id}, {secret}, resolver, account)\n"
        f"client = FunctionsClient(account, auth, resolver{platform})\n"
        f"payload = {pprint.pformat(payload, sort_dicts=False)}\n"
        "try:\n"
        f"    result = {call}\n"
        "except FaaSLambdaError as exc:  # the function ran and failed: its error and logs\n"
        '    print("The function failed:", exc.code, exc.message, file=sys.stderr)\n'
        "    for log in exc.error_logs:\n"
        '        print(" ", log.get("level"), log.get("message"), file=sys.stderr)\n'
        "    sys.exit(1)\n"
        "except FaaSError as exc:  # LivePerson refused the call, or no usable answer\n"
        '    sys.exit(f"Failed: {exc.status or exc.kind} {exc}. {exc.advice}")\n'
        f"{show}\n"
    )


def node(entry, payload):
    """Return a Node script that repeats the invocation with LivePerson's own Node client."""
    config = current_app.config
    invocation = {"lambdaUuid" if entry["kind"] == "function" else "eventId": entry["target"]}
    invocation["externalSystem"] = entry["event_source"] or EVENT_SOURCE
    if entry["skill_id"]:
        invocation["skillId"] = entry["skill_id"]
    invocation["body"] = prepared(entry, payload).json
    return render_template(
        "snippets/node.js",
        note=NOTE.format(account=config["LP_ACCOUNT_ID"]),
        account=config["LP_ACCOUNT_ID"],
        sandbox=config["SANDBOX_MODE"],
        client_id=SANDBOX_APP[0],
        client_secret=SANDBOX_APP[1],
        # Plain http is allowed only to loopback hosts: a local LivePerson such as the sandbox.
        local=config["LP_INSECURE_HTTP"],
        csds=config["LP_CSDS_URL"],
        invocation=json.dumps(invocation, indent=2, ensure_ascii=False),
    )


def for_entry(entry):
    """Return the template context for an entry's snippets (none when its payload was cut)."""
    # With variables, what was sent (secrets as ••••), not what was typed.
    entry = {**entry, **entry.get("sent", {})}
    payload = payload_of(entry)
    if payload is None:
        return {"curl": None, "python": None, "node": None}
    note = NOTE.format(account=current_app.config["LP_ACCOUNT_ID"])
    if current_app.config["SANDBOX_MODE"]:
        note += " Here they default to the sandbox's demo app, so the snippets run as printed."
    return {
        "curl": curl(entry, payload),
        "python": python(entry, payload),
        "node": node(entry, payload),
        "snippet_note": note,
    }
