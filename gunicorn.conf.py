"""gunicorn settings for Functions Invoker (`gunicorn -c gunicorn.conf.py wsgi:app`)."""

import os
import sys

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads, not sync workers: an invocation may wait 30 s on the gateway, and a sync worker
# would hold one request the whole time. 2 x 64 threads keep 64 slow invocations at once
# moving (bench/RESULTS.md: slow gateway); each idle thread costs little memory.
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "64"))
# Above the 35 s invocation read timeout, so a slow function never gets its worker killed.
timeout = 60
graceful_timeout = 45
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
# The path without its query string: /callback?code=…&state=… must never reach a log.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms "%({x-request-id}o)s"'


def on_starting(server):
    """Check the configuration once, before any worker starts, and stop with one sentence."""
    from app import ConfigError
    from app import create_app

    try:
        create_app()
    except ConfigError as error:
        print(f"Functions Invoker cannot start: {error}", file=sys.stderr)
        sys.exit(1)
