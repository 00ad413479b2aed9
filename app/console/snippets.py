""" "Copy as curl" and "Copy as Python" for an invocation: they fetch their own app token."""

import json
import pprint
import shlex
from urllib.parse import quote
from urllib.parse import urlencode

from flask import current_app

from app.console.gateway import EVENT_SOURCE
from liveperson_functions.client import _invocation_body
from liveperson_functions.discovery import DiscoveryError

V2_MARKERS = ("fninvocations", "functions")
# The sandbox's demo app (README, "The sandbox"): public demo values, never a real secret.
SANDBOX_APP = ("sandbox-m2m", "sandbox-m2m-secret")
NOTE = (
    "LP_CLIENT_ID and LP_CLIENT_SECRET are an app (API key) of account {account} allowed to "
    "invoke functions; the snippet fetches its own app token with them."
)


def base_url(service, fallback):
    try:
        return current_app.extensions["resolver"].base_url(service)
    except DiscoveryError:
        return fallback


def gateway_url(entry):
    """Return the gateway URL an invocation was sent to, with its query string, and V2 or not."""
    config = current_app.config
    base = base_url("faasGW", "https://$FAAS_GATEWAY")
    v2 = config.get("LP_PLATFORM") == "v2" or (
        not config.get("LP_PLATFORM") and any(m in base for m in V2_MARKERS)
    )
    noun = "lambdas" if entry["kind"] == "function" else "events"
    path = f"/api/account/{quote(config['LP_ACCOUNT_ID'])}/{noun}/{quote(entry['target'])}/invoke"
    source = entry["event_source"] or EVENT_SOURCE
    query = {} if v2 else {"v": "1", "externalSystem": source}
    if entry["skill_id"]:
        query["skillId"] = entry["skill_id"]
    return base + path + ("?" + urlencode(query) if query else ""), v2


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
    url, v2 = gateway_url(entry)
    account = quote(current_app.config["LP_ACCOUNT_ID"])
    sentinel = base_url("sentinel", "https://$SENTINEL")
    token_url = f"{sentinel}/sentinel/api/account/{account}/app/token?v=2.0"
    (client_id, secret), _ = credentials()
    body = _invocation_body(payload, [r for r in entry["headers"] if r[0]])
    body["timestamp"] = int(entry["at"] * 1000)
    lines = [
        f"curl -sS -X POST {shlex.quote(url)}",
        '-H "Authorization: Bearer $LP_APP_TOKEN"',
        "-H 'Content-Type: application/json'",
    ]
    if v2:
        source = entry["event_source"] or EVENT_SOURCE
        lines.append(f"-H {shlex.quote('LP-EventSource: ' + source)}")
    lines.append(f"--data {shlex.quote(json.dumps(body, separators=(',', ':')))}")
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
    _, v2 = gateway_url(entry)
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
        "import json\nimport os\n\n"
        "from liveperson_functions.auth import ClientCredentials\n"
        "from liveperson_functions.client import FunctionsClient\n"
        "from liveperson_functions.discovery import Resolver\n\n"
        f"account = {config['LP_ACCOUNT_ID']!r}\n"
        f"resolver = Resolver({', '.join(resolver)})\n"
        f"auth = ClientCredentials({client_id}, {secret}, resolver, account)\n"
        f"client = FunctionsClient(account, auth, resolver{platform})\n"
        f"payload = {pprint.pformat(payload, sort_dicts=False)}\n"
        f"result = {call}\n"
        f"{show}\n"
    )


def for_entry(entry):
    """Return the template context for an entry's snippets (none when its payload was cut)."""
    payload = payload_of(entry)
    if payload is None:
        return {"curl": None, "python": None}
    note = NOTE.format(account=current_app.config["LP_ACCOUNT_ID"])
    if current_app.config["SANDBOX_MODE"]:
        note += " Here they default to the sandbox's demo app, so the snippets run as printed."
    return {"curl": curl(entry, payload), "python": python(entry, payload), "snippet_note": note}
