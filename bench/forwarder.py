"""The baseline of `make bench`: the thinnest honest Flask forwarder.

`POST /forward` takes the same invoke form the app gets, parses its JSON payload, makes one POST
to the gateway with a pooled `requests` session built like the app's (`make_session` of
`liveperson_functions.transport`, one per worker, made after fork) and renders a small HTML page
with the answer. No session, no CSRF, no history, no log line of its own. It is served like the
app, `gunicorn -c gunicorn.conf.py bench.forwarder:app`; BENCH_GATEWAY_URL is the gateway
stand-in's invoke URL, the one the app calls. `POST /forward/split` is the floor (FLOOR).
"""

import json
import os
import threading
import time
import uuid
from urllib.parse import urlencode

from flask import Flask
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from jinja2 import DictLoader

from liveperson_functions.transport import CONNECT_TIMEOUT
from liveperson_functions.transport import INVOKE_READ_TIMEOUT
from liveperson_functions.transport import make_session

SENTENCE = (
    "The forwarder (bench/forwarder.py) parses the invoke form's JSON payload, makes one pooled "
    "`requests` POST to the same gateway stand-in with the app's HTTP client settings, and "
    "renders a small HTML page of the answer, under the same gunicorn.conf.py; it has no "
    "session, CSRF check, token record, history or log line."
)
FLOOR = (
    "The floor (the same server, `POST /forward/split`) does the forwarder's work split as the "
    "app splits an invocation: the POST calls the gateway and answers 303, the GET renders the "
    "page from the answer carried in the Location's query string; nothing is stored. No app "
    "with this shape (Flask, gunicorn, POST → 303 → GET) can do less."
)
URL = os.environ.get("BENCH_GATEWAY_URL", "")
PARAMS = [("v", "1"), ("externalSystem", "FunctionsInvoker")]
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Result</title></head>
<body><h1>HTTP {{ status }}</h1><pre>{{ result }}</pre></body></html>
"""

app = Flask(__name__)
app.jinja_loader = DictLoader({"result.html": PAGE})  # compiled once, cached like a file
_lock = threading.Lock()
_http = None


def http():
    global _http
    with _lock:
        if _http is None:
            _http = make_session(trust_env=False)  # as the app (UPSTREAM_TRUST_ENV)
        return _http


def call():
    """Send the form's payload to the gateway; return the status and the answer's JSON."""
    try:
        payload = json.loads(request.form["payload"])
    except (KeyError, ValueError):
        abort(400)
    body = {"timestamp": int(time.time() * 1000), "headers": [], "payload": payload}
    answer = http().post(
        URL,
        params=PARAMS,
        data=json.dumps(body).encode(),
        headers={
            "X-Request-ID": str(uuid.uuid4()),
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": "Bearer bench-token",
        },
        timeout=(CONNECT_TIMEOUT, INVOKE_READ_TIMEOUT),
        allow_redirects=False,
    )
    return answer.status_code, answer.json()


def page(status, answer):
    result = json.dumps(answer, indent=2, ensure_ascii=False)
    return render_template("result.html", status=status, result=result)


@app.post("/forward")
def forward():
    return page(*call())


@app.post("/forward/split")
def split():
    status, answer = call()
    query = urlencode({"status": status, "answer": json.dumps(answer, ensure_ascii=False)})
    return redirect(f"/forward/shown?{query}", 303)


@app.get("/forward/shown")
def shown():
    return page(request.args["status"], json.loads(request.args["answer"]))
