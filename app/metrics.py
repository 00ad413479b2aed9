"""Prometheus metrics at /metrics, counted across every gunicorn worker (multiprocess mode)."""

import hmac
import ipaddress
import os

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import request
from flask import session
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client import REGISTRY
from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Gauge
from prometheus_client import Histogram
from prometheus_client import generate_latest
from prometheus_client import multiprocess

from app.auth import tokens
from app.store import StoreError
from liveperson_functions.inputs import UUID

bp = Blueprint("metrics", __name__)

# Labels take only values from these small sets: never a user, token, payload or name.
INVOCATIONS = Counter(
    "functions_invoker_invocations_total",
    "Invocations sent to the gateway, by operation, outcome and HTTP status class.",
    ["operation", "outcome", "status_class"],
)
FUNCTION_INVOCATIONS = Counter(
    "functions_invoker_function_invocations_total",
    "Invocations by function UUID and outcome (only with METRICS_FUNCTION_LABELS=1).",
    ["function", "outcome"],
)
LATENCY = Histogram(
    "functions_invoker_gateway_seconds",
    "Time of each call to LivePerson Functions (gateway and function list), in seconds.",
    ["operation"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 35, 60),
)
REFRESHES = Counter(
    "functions_invoker_token_refreshes_total",
    "Refreshes of signed-in users' tokens at Sentinel, by result.",
    ["result"],
)
SIGN_INS = Counter(
    "functions_invoker_sign_ins_total", "Completed sign-ins, by result.", ["result"]
)
BREAKER = Gauge(
    "functions_invoker_circuit_breaker_state",
    "Circuit breaker per dependency: 0 closed, 1 half-open, 2 open (the worst live worker).",
    ["dependency"],
    multiprocess_mode="livemax",
)
STORE_ERRORS = Counter(
    "functions_invoker_store_errors_total",
    "Requests answered 503 because the session or user data store failed.",
)
AUDIT_FAILURES = Counter(
    "functions_invoker_audit_write_failures",
    "Audit records the store failed to write (the user's result was kept; see the log).",
)
PUBLISHED = {}  # breaker name → the state its gauge shows in this process

BREAKER_VALUES = {"closed": 0, "half-open": 1, "open": 2}
SIGN_IN_ENDPOINTS = {"auth.callback", "auth.exchange_after_pause"}
INVOKING = {"invoke", "invoke_event"}


def outcome_of(metric):
    """Classify a client call: success, the function failed (901), or the platform refused."""
    if metric.error is None:
        return "success"
    return "function-error" if metric.status == 901 else "platform-error"


def status_class(status):
    return f"{status // 100}xx" if isinstance(status, int) and 100 <= status < 1000 else "none"


def record_call(metric):
    """Count one call of the Functions client (its metrics hook)."""
    LATENCY.labels(metric.operation).observe(metric.duration_ms / 1000)
    if metric.operation not in INVOKING:
        return
    outcome = outcome_of(metric)
    INVOCATIONS.labels(metric.operation, outcome, status_class(metric.status)).inc()
    if current_app and current_app.config.get("METRICS_FUNCTION_LABELS") and metric.uuid:
        uuid = metric.uuid.lower() if UUID.match(metric.uuid) else "invalid"
        FUNCTION_INVOCATIONS.labels(uuid, outcome).inc()


def note_refresh(_app, error=None, **_details):
    REFRESHES.labels("failed" if error else "ok").inc()


def note_request(response):
    """Count sign-ins, and publish this worker's circuit-breaker states."""
    if request.endpoint in SIGN_IN_ENDPOINTS:
        if response.status_code == 303 and session.get("token_key"):
            SIGN_INS.labels("ok").inc()
        elif response.status_code >= 400:
            SIGN_INS.labels("failed").inc()
    publish_breakers()
    return response


def publish_breakers():
    # Each worker's gauges are its own files: every worker publishes its breakers, but only
    # on a change: setting four gauges on every request cost about 0.2 ms (issue 14).
    for name, breaker in current_app.extensions["breakers"].items():
        state = breaker.state
        if PUBLISHED.get(name) != state:
            BREAKER.labels(name).set(BREAKER_VALUES[state])
            PUBLISHED[name] = state


def allowed():
    """Let a scraper in from METRICS_ALLOW, or with the bearer METRICS_TOKEN."""
    config = current_app.config
    expected = config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if expected and given.startswith("Bearer "):
        return hmac.compare_digest(given[7:].encode(), expected.encode())
    if not config["LP_PROXY_HOPS"] and "X-Forwarded-For" in request.headers:
        # A proxy the app was not told about: its own (loopback) address says nothing.
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in config["METRICS_ALLOW"])


@bp.get("/metrics")
def metrics():
    """Serve every worker's metrics in the Prometheus text format."""
    if not allowed():
        abort(403)
    publish_breakers()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def init_app(app):
    app.register_blueprint(bp)
    app.after_request(note_request)
    tokens.refreshed.connect(note_refresh, app)
    # Wraps the central handler (registered before this) so store failures are counted once.
    handle = app.error_handler_spec[None][None][StoreError]

    def store_error(error):
        STORE_ERRORS.inc()
        return handle(error)

    app.register_error_handler(StoreError, store_error)
