"""Cases made from elsewhere: a history entry ("expect this again") or a saved payload."""

from flask import current_app

from app.console import forms
from app.suites.store import new_id
from liveperson_functions.suites import MAX_SUITES
from liveperson_functions.suites import SuiteError
from liveperson_functions.suites import case_json
from liveperson_functions.suites import parse_file
from liveperson_functions.suites import read_case
from liveperson_functions.suites import read_suite

CUT = "\n… (cut)"


def userdata():
    return current_app.extensions["userdata"]


def from_request(sub, args):
    """Return a case (JSON form) from ?from=<history id>, or ?kind=&target=&saved=<name>."""
    if args.get("from"):
        entry = userdata().invocation(sub, args["from"])
        return from_entry(entry) if entry else None
    kind, target, name = args.get("kind"), args.get("target", ""), args.get("saved")
    for item in userdata().payloads(sub, kind, target):
        if item["name"] == name:
            case = {"name": name, kind: target, "payload": parsed(item["payload"])}
            return {**case, "expect": {"outcome": "success"}}
    return None


def parsed(text, default=None):
    """Parse kept JSON text; text that was cut or is not JSON gives `default`."""
    if not isinstance(text, str) or text.endswith(CUT):
        return default
    try:
        return forms.parse_payload(text)
    except forms.PayloadError:
        return default


def from_entry(entry):
    """Expect what this invocation got: its outcome, status and (when whole) its answer."""
    case = {"name": entry.get("name") or entry["target"], entry["kind"]: entry["target"]}
    case["payload"] = parsed(entry.get("payload"), {})
    if entry.get("headers"):
        case["headers"] = {name: value for name, value in entry["headers"] if name}
    if entry.get("skill_id"):
        case["skillId"] = entry["skill_id"]
    if entry.get("event_source"):
        case["eventSource"] = entry["event_source"]
    expect = {"outcome": entry["outcome"]}
    if entry.get("status"):
        expect["status"] = entry["status"]
    answer = None
    if entry["outcome"] == "success" and entry["kind"] == "function":
        answer = parsed(entry.get("response"))
    elif entry["outcome"] == "success":
        results = [parsed(r.get("result")) for r in entry.get("rows") or []]
        if None not in results:
            rows = zip(entry.get("rows") or [], results, strict=True)
            answer = [{"uuid": r["uuid"], "result": result} for r, result in rows]
    if answer is not None:
        expect["json"] = [{"path": "$", "equals": answer}]
    case["expect"] = expect
    return case


def read(text):
    """Check a case typed as JSON; return its JSON form, or raise SuiteError."""
    return case_json(read_case(parse_file(text.encode("utf-8", "surrogatepass"))))


def target_suite(sub, mine, chosen, new_name):
    """Return (id, stored form) of the chosen suite, or of a new one named `new_name`."""
    if new_name.strip():
        suite = read_suite({"name": new_name, "cases": []})
        if len(mine) >= MAX_SUITES:
            raise SuiteError("you have too many suites; delete one first")
        return new_id(), {"name": suite.name, "cases": []}
    for doc in mine:
        if doc["id"] == chosen:
            return doc["id"], doc
    raise SuiteError("choose a suite, or name a new one")
