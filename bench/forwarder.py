"""The thinnest Flask forwarder: one pooled `requests` POST to the gateway stub, its JSON back.

Served exactly like the app (`gunicorn -c gunicorn.conf.py bench.forwarder:app`), with the HTTP
client `liveperson_functions` uses (`transport.make_session`: keep-alive pool, trust_env off,
retry policy), built lazily so each worker opens its own pool after fork. No session, no CSRF,
no template: it is the yardstick the invoke path is compared with. The gateway URL comes from
BENCH_GATEWAY_URL (the stub's invoke URL, the one the app calls).
"""

import json
import os
import threading
import time
import uuid

from flask import Flask
from flask import jsonify

from liveperson_functions.transport import CONNECT_TIMEOUT
from liveperson_functions.transport import INVOKE_READ_TIMEOUT
from liveperson_functions.transport import make_session

URL = os.environ.get("BENCH_GATEWAY_URL", "")
PARAMS = [("v", "1"), ("externalSystem", "FunctionsInvoker")]
PAYLOAD = {"message": "ping", "count": 1}

app = Flask(__name__)
_lock = threading.Lock()
_http = None


def http():
    global _http
    with _lock:
        if _http is None:
            _http = make_session()
        return _http


@app.post("/forward")
def forward():
    body = {"timestamp": int(time.time() * 1000), "headers": [], "payload": PAYLOAD}
    response = http().post(
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
    return jsonify(response.json()), response.status_code
