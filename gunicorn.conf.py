"""gunicorn settings for Functions Invoker (`gunicorn -c gunicorn.conf.py wsgi:app`)."""

import glob
import os
import shutil
import sys
import tempfile

from gunicorn.glogging import Logger

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# Threads, not sync workers: an invocation may wait 30 s on the gateway, and a sync worker
# would hold one request the whole time. 4 x 32 threads keep 64 slow invocations at once
# moving (bench/RESULTS.md: slow gateway) with room for uneven spreading; 4 processes rather
# than 2 x 64 threads, because busy threads of one process queue for its GIL: at 32 users the
# slowest requests waited about half as long (issue 14).
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "32"))
# Above the 35 s invocation read timeout, so a slow function never gets its worker killed.
timeout = 60
graceful_timeout = 45
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
# No access log: the app writes one line per request itself (app/logs.py: client address,
# method, path without its query string, status, bytes, time, request id, user), and a
# second line with the same facts cost a twentieth of a whole invocation's CPU (issue 14).
accesslog = None
# X-Forwarded-* is trusted by the app alone, as far as LP_PROXY_HOPS says (ProxyFix); gunicorn
# would otherwise take X-Forwarded-Proto from any loopback peer and call plain http https.
forwarded_allow_ips = ""


class GunicornLogger(Logger):
    """gunicorn's logger, writing control characters from requests as escapes."""

    def setup(self, cfg):
        from app.logs import OneLine

        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, OneLine) for f in log.filters):
                log.addFilter(OneLine())


logger_class = GunicornLogger

# prometheus-client's multiprocess mode: every worker writes its counts under this folder and
# /metrics adds them up. It must be in the environment before prometheus_client is imported.
# Who removes it at exit is decided once, at first start: gunicorn reads this file again on a
# HUP, when the folder made here is already in the environment.
OWNED_METRICS_DIR = "INVOKER_OWNED_METRICS_DIR"
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="invoker-metrics-")
    os.environ[OWNED_METRICS_DIR] = os.environ["PROMETHEUS_MULTIPROC_DIR"]
OWN_METRICS_DIR = os.environ.get(OWNED_METRICS_DIR) == os.environ["PROMETHEUS_MULTIPROC_DIR"]

# gunicorn's control socket (gunicornc) is one per instance, in its instance folder: the
# default, $HOME/.gunicorn/gunicorn.ctl, is shared by every instance of one Unix user, so a
# second one took it over and removed it on stopping.
from app import instance_folder  # noqa: E402 (after PROMETHEUS_MULTIPROC_DIR is set)

control_socket = os.path.join(instance_folder(), "gunicorn.ctl")


def on_starting(server):
    """Check the configuration once, before any worker starts, and stop with one sentence."""
    from app import ConfigError
    from app import create_app

    # Counts left by an earlier run would be added to this one's.
    metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(metrics_dir, exist_ok=True)
    for stale in glob.glob(os.path.join(metrics_dir, "*.db")):
        os.unlink(stale)
    try:
        create_app()
    except ConfigError as error:
        print(f"Functions Invoker cannot start: {error}", file=sys.stderr)
        sys.exit(1)


def child_exit(server, worker):
    """Drop a finished worker's live gauges (its counters keep counting in the totals)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
