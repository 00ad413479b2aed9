"""Run a suite in the background, one case after another, saving progress after each."""

import json
import logging
import threading
import time

from flask import current_app

from app.auth import tokens
from app.console import gateway
from app.console.invoke import shown
from app.store import StoreError
from app.suites.store import new_id
from app.workspace import variables
from liveperson_functions.breaker import CircuitOpen
from liveperson_functions.errors import FaaSError
from liveperson_functions.suites import as_text
from liveperson_functions.suites import run_case
from liveperson_functions.variables import Resolver
from liveperson_functions.variables import resolve_case

STALE = 120  # seconds without progress after which a run counts as interrupted
MAX_KEPT = 64 * 1024
log = logging.getLogger("app.suites")


def suites():
    return current_app.extensions["suites"]


def current(run, now=None):
    """Return the run as it stands; a running one that stopped moving is interrupted."""
    stale = (now or time.time()) - run["updated_at"] > STALE
    if run["state"] == "running" and stale:
        return {**run, "state": "interrupted"}
    return run


def start(sub, token_key, suite_id, suite, resolver=None, environment=None):
    """Save a new run and start it in a thread of this worker; return its id."""
    # `resolver` fills the cases' variables (from the environment named `environment`); the
    # caller has checked that it fills them all.
    resolver = resolver or Resolver()
    now = time.time()
    run = {
        "id": new_id(),
        "suite_id": suite_id,
        "suite_name": suite.name,
        "started_at": now,
        "updated_at": now,
        "state": "running",
        "total": len(suite.cases),
        "results": [],
        "message": None,
        "environment": environment,
    }
    suites().save_run(sub, run)
    app = current_app._get_current_object()
    worker = threading.Thread(
        target=work,
        args=(app, sub, token_key, suite, run, resolver),
        name=f"suite-{run['id']}",
    )
    worker.daemon = True
    worker.start()
    return run["id"]


def work(app, sub, token_key, suite, run, resolver):
    """Run every case, saving the run after each one, in the app's context."""
    with app.app_context():
        client = app.extensions["faas_clients"].client(token_key, sub)

        def send(operation):
            return guarded(app, operation, client)

        try:
            for case in suite.cases:
                filled, sent = resolve_case(case, resolver)
                result = run_case(filled, send)
                entry_id = remember(sub, suite, case, result, sent, resolver, run["environment"])
                run["results"].append(row(result, entry_id, resolver.mask))
                run["updated_at"] = time.time()
                suites().save_run(sub, run)
            run["state"] = "finished"
        except (tokens.SignInRequired, tokens.RefreshFailed) as exc:
            run["state"], run["message"] = "stopped", f"Stopped: {exc}"
        except StoreError:
            log.exception("suite run %s could not save its progress", run["id"])
            return
        except Exception:
            # A defect here must not leave the run "running" until it goes stale.
            log.exception("suite run %s failed", run["id"])
            run["state"], run["message"] = "stopped", "Stopped by an unexpected error."
        run["updated_at"] = time.time()
        suites().save_run(sub, run)


def guarded(app, operation, client):
    """Call through the gateway's circuit breaker; sign-in trouble stops the run."""
    breaker = app.extensions["breakers"]["faasGW"]
    try:
        breaker.allow()
    except CircuitOpen as exc:
        raise FaaSError(str(exc), kind="circuit-open") from exc
    return gateway.settle(breaker, lambda: operation(client))


def row(result, entry_id, mask):
    """What the run page shows for one case (secret values masked)."""
    return {
        "name": result.case.name,
        "kind": result.case.kind,
        "target": result.case.target,
        "outcome": result.outcome,
        "status": result.status,
        "duration_ms": result.duration_ms,
        "request_id": result.request_id,
        "passed": result.passed,
        "entry_id": entry_id,
        "failures": [
            {
                "what": what,
                "expected": mask(kept(as_text(e))),
                "got": mask(kept(as_text(g))),
                "diff": mask(kept(d)),
            }
            for what, e, g, d in result.failures
        ],
    }


def kept(text):
    return text if len(text) <= MAX_KEPT else text[:MAX_KEPT] + "\n… (cut)"


def remember(sub, suite, case, result, sent, resolver, environment):
    """Add the case's invocation to the user's history, as written and as sent, secrets masked."""
    body = result.body
    failed = result.outcome != "success"
    entry = {
        "kind": case.kind,
        "target": case.target,
        "name": f"{suite.name} › {case.name}",
        "suite": suite.name,
        "at": time.time(),
        "payload": kept(json.dumps(case.payload, indent=2, ensure_ascii=False)),
        "headers": sorted(case.headers.items()),
        "skill_id": case.skill_id or "",
        "event_source": case.event_source or "",
        "logs": [],
        "rows": [],
        "error": {
            "code": body.get("code"),
            "explanation": body.get("message"),
            "advice": "Compare with what the suite expects on the run page.",
        }
        if failed and isinstance(body, dict)
        else None,
        "request_id": result.request_id,
        "outcome": result.outcome,
        "status": result.status,
        "response": kept(shown(body if not failed else body.get("message", ""))),
        "duration_ms": result.duration_ms,
    }
    if case.kind == "event" and not failed:
        entry["rows"] = [
            {"uuid": r["uuid"], "name": "", "timestamp": None, "result": kept(shown(r["result"]))}
            for r in body
        ]
        entry["response"] = ""
    entry.update(variables.sent_fields(entry, sent, resolver, environment))
    return current_app.extensions["userdata"].add_invocation(sub, entry)
