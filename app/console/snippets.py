""" "Copy as curl" and "Copy as Python" for an invocation, with the token left as $LP_TOKEN."""

import json
import pprint
import shlex
from urllib.parse import quote
from urllib.parse import urlencode

from flask import current_app
from flask import session

from liveperson_functions.discovery import DiscoveryError

V2_MARKERS = ("fninvocations", "functions")


def user_id():
    """The signed-in user's id, which every call made with their token carries."""
    return ((session.get("user") or {}).get("sub")) or None


def gateway_url(entry):
    """Return the gateway URL an invocation was sent to, with its query string."""
    config = current_app.config
    resolver = current_app.extensions["resolver"]
    try:
        base = resolver.base_url("faasGW")
    except DiscoveryError:
        base = "https://$FAAS_GATEWAY"
    v2 = config.get("LP_PLATFORM") == "v2" or (
        not config.get("LP_PLATFORM") and any(m in base for m in V2_MARKERS)
    )
    noun = "lambdas" if entry["kind"] == "function" else "events"
    path = f"/api/account/{quote(config['LP_ACCOUNT_ID'])}/{noun}/{quote(entry['target'])}/invoke"
    query = {} if v2 else {"v": "1", "externalSystem": entry["event_source"] or "FunctionsInvoker"}
    if user_id():
        query["userId"] = user_id()
    if entry["skill_id"]:
        query["skillId"] = entry["skill_id"]
    return base + path + ("?" + urlencode(query) if query else ""), v2


def body(entry):
    payload = json.loads(entry["payload"])
    headers = [{"key": name, "value": value} for name, value in entry["headers"] if name]
    return {"timestamp": int(entry["at"] * 1000), "headers": headers, "payload": payload}


def curl(entry):
    """Return a curl command that repeats the invocation."""
    url, v2 = gateway_url(entry)
    lines = [
        f"curl -X POST {shlex.quote(url)}",
        '-H "Authorization: Bearer $LP_TOKEN"',
        "-H 'Content-Type: application/json'",
    ]
    if v2:
        source = entry["event_source"] or "FunctionsInvoker"
        lines.append(f"-H {shlex.quote('LP-EventSource: ' + source)}")
    lines.append(f"--data {shlex.quote(json.dumps(body(entry), separators=(',', ':')))}")
    return " \\\n  ".join(lines)


def python(entry):
    """Return a Python script that repeats the invocation with liveperson_functions."""
    config = current_app.config
    function = entry["kind"] == "function"
    options = {"headers": dict(r for r in entry["headers"] if r[0]) or None}
    options["skill_id"] = entry["skill_id"] or None
    options["event_source"] = entry["event_source"] or None
    extra = "".join(f", {k}={v!r}" for k, v in options.items() if v)
    call = "invoke" if function else "invoke_event"
    payload = pprint.pformat(json.loads(entry["payload"]), sort_dicts=False)
    insecure = ", insecure_http=True" if config["LP_INSECURE_HTTP"] else ""
    return (
        "import os\n\n"
        "from liveperson_functions.discovery import Resolver\n"
        "from liveperson_functions.auth import UserBearer\n"
        "from liveperson_functions.client import FunctionsClient\n\n"
        f"account = {config['LP_ACCOUNT_ID']!r}\n"
        "client = FunctionsClient(\n"
        "    account,\n"
        '    UserBearer(lambda: os.environ["LP_TOKEN"]),\n'
        f"    Resolver(account, {config['LP_CSDS_URL']!r}{insecure}),\n"
        f"    user_id={user_id()!r},\n"
        ")\n"
        f"payload = {payload}\n"
        f"print(client.{call}({entry['target']!r}, payload{extra}))\n"
    )
