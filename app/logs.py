"""One structured line per request and per upstream call; never a token, code or cookie."""

import logging
import re
import time
import traceback

from flask import g
from flask import request
from flask.logging import default_handler

from app.config import MASK
from app.config import secret_values

log = logging.getLogger("app.request")
# What a terminal or log viewer may take as a line break or a command: C0, DEL, C1, U+2028/9.
UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
UNSAFE_IN_TRACEBACK = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def escaped(text, pattern=UNSAFE):
    """Write each unsafe character as a visible escape such as \\r or \\x1b."""
    return pattern.sub(lambda m: repr(m.group())[1:-1], text)


def masked(text):
    """Mask every secret setting's value in a text bound for a log."""
    for secret in OneLine.secrets:
        text = text.replace(secret, MASK)
    return text


class OneLine(logging.Filter):
    """Write control characters in a record as escapes, so request text cannot forge a line,
    and mask the value of every secret setting, wherever it comes from."""

    # Filled from the configuration at start-up (app.config.secret_values): one app a process.
    secrets = frozenset()

    def filter(self, record):
        record.msg, record.args = escaped(masked(record.getMessage())), None
        if record.exc_info and not record.exc_text:
            # A traceback is several lines by nature; indent them so none starts at the
            # margin like a record of its own, and escape what its messages carry.
            text = masked("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
            record.exc_text = "    " + escaped(text, UNSAFE_IN_TRACEBACK).replace("\n", "\n    ")
        return True


def init_app(app):
    # Shorter values would mask ordinary words; secrets are longer (METRICS_TOKEN needs 16).
    found = {value for value in secret_values(app.config) if len(value) >= 4}
    OneLine.secrets = frozenset(OneLine.secrets | found)
    default_handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    if not any(isinstance(f, OneLine) for f in default_handler.filters):
        default_handler.addFilter(OneLine())
    # The client library's warnings (an app token kept after a failed renewal, say) are the
    # app's lines too: written the same way, escaped and masked, not by logging's last resort.
    library = logging.getLogger("liveperson_functions")
    if default_handler not in library.handlers:
        library.addHandler(default_handler)
    app.logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    # The logging HOWTO's "Optimization": no line shows its caller, and finding it out was a
    # sixth of each line's cost (21 µs → 18 µs). Process and thread ids stay: gunicorn's own
    # lines show the process.
    logging._srcfile = None
    # authlib's client logs the PKCE verifier at DEBUG; keep it out whatever LOG_LEVEL says.
    logging.getLogger("authlib").setLevel(logging.INFO)
    app.before_request(start_clock)
    app.after_request(log_request)


def clipped(text, limit=200):
    """Bound a request-supplied value; OneLine escapes its control characters."""
    return text if len(text) <= limit else text[:limit] + "…"


def start_clock():
    g.started = time.perf_counter()


def log_request(response):
    # The path only: a query string can hold a code or state (/callback?code=…).
    started = g.get("started", time.perf_counter())
    log.info(
        "request client=%s method=%s path=%s status=%s bytes=%s ms=%.1f request_id=%s user=%s",
        request.remote_addr,
        request.method,
        clipped(request.path),
        response.status_code,
        "-" if response.content_length is None else response.content_length,
        (time.perf_counter() - started) * 1000,
        g.get("request_id", "-"),
        (g.get("user") or {}).get("sub", "-"),
    )
    return response
