"""The invoke form's variables: fill {{name}} from the chosen environment, keep what was sent."""

from werkzeug.datastructures import MultiDict

from app.console import forms
from app.workspace import environments
from liveperson_functions.variables import UnknownVariable
from liveperson_functions.variables import names_in


def read_invoke_form(form):
    """Read the invoke form with its variables filled from the environment it names."""
    # The form keeps what was typed (shown again, kept in the history, brought back by "Run
    # again"); what is sent is checked as strictly as a payload typed without variables.
    env_id = form.get("environment", "")
    resolver, record = environments.resolver(env_id)
    if resolver is None:
        checked = forms.read_invoke_form(form)
        checked.errors["environment"] = "That environment is not there any more: choose another."
        return checked
    names, values = form.getlist("header_name"), form.getlist("header_value")
    try:
        # Every unknown name at once, in the payload and the headers alike.
        resolver.check(form.get("payload", ""), *values)
        payload = resolver.json(form.get("payload", ""))
        headers = [resolver.text(value) for value in values]
    except UnknownVariable as exc:
        checked = forms.read_invoke_form(form)
        checked.environment = env_id
        where = "payload" if set(exc.names) & set(names_in(form.get("payload"))) else "headers"
        it = "it" if len(exc.names) == 1 else "them"
        if record:
            why = f"the environment “{record['doc']['name']}” does not define {it}. Add {it}"
            why += " there, or choose another environment."
        else:
            why = f"no environment is chosen: choose one that defines {it}."
        checked.errors[where] = f"Nothing was sent: {exc} — {why}"
        return checked
    filled = MultiDict(form)
    filled.setlist("payload", [payload.text])
    filled.setlist("header_value", [h.text for h in headers])
    checked = forms.read_invoke_form(filled)
    pairs = zip(names, values, headers, strict=False)
    rows = [(n.strip(), v, h) for n, v, h in pairs if n.strip() or v]
    checked.sent_headers = {name: h.text for name, _, h in rows if name}
    checked.payload_text = forms.typed(form.get("payload", ""))
    checked.headers = [(name, value) for name, value, _ in rows]
    checked.environment = env_id
    checked.variables = {
        "resolver": resolver,
        "environment": record["doc"]["name"] if record else None,
        "payload": payload.shown,
        "headers": [[name, h.shown] for name, _, h in rows],
    }
    return checked


def preview(form):
    """Return what the form will send, secrets masked (None when the form has errors)."""
    if form.errors or form.variables is None:
        return None
    return {"payload": form.variables["payload"], "headers": form.variables["headers"]}


def record(entry, form):
    """Add to a history entry what was sent (secrets masked), and mask secrets in its answer."""
    found = form.variables
    if not found:
        return entry
    entry["environment_id"] = form.environment
    sent = {"payload": found["payload"], "headers": found["headers"]}
    return sent_fields(entry, sent, found["resolver"], found["environment"])


def sent_fields(entry, sent, resolver, environment):
    """Return the entry with `sent` kept (if it differs from what was typed) and masked."""
    if isinstance(sent, str):
        sent = {
            "payload": sent,
            "headers": [[name, resolver.text(value).shown] for name, value in entry["headers"]],
        }
    typed = {"payload": entry["payload"], "headers": [list(h) for h in entry["headers"]]}
    if sent != typed or environment:
        entry["sent"] = sent
        entry["environment"] = environment
    return mask_entry(entry, resolver.mask)


def mask_entry(entry, mask):
    """Mask secret values anywhere the function's answer may have echoed them."""
    entry["response"] = mask(entry.get("response"))
    for row in entry.get("rows") or []:
        row["result"] = mask(row.get("result"))
    for line in entry.get("logs") or []:
        if isinstance(line, dict):
            line["message"] = mask(line.get("message"))
    if entry.get("error"):
        entry["error"] = {k: mask(v) for k, v in entry["error"].items()}
    return entry
