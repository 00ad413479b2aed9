# Functions Invoker: the app under gunicorn (threaded workers), as a non-root user.
#   docker build -t functions-invoker .
#   docker run -p 8000:8000 --stop-timeout 50 -e LP_ACCOUNT_ID=… -e LP_CLIENT_ID=… \
#     -e LP_CLIENT_SECRET=… -e LP_REDIRECT_URI=https://… -e SECRET_KEY=… functions-invoker
# More than one container: SESSION_BACKEND=redis and REDIS_URL (see docker-compose.yml).
# tests/browser/test_docker_image.py follows this file's ENV, COPY, RUN, CMD and HEALTHCHECK
# in a clean virtualenv (no Docker engine in CI): keep their shapes, or teach that test.
FROM python:3.11.13-slim-bookworm

# GUNICORN_CMD_ARGS: the workers' heartbeat files go to memory, not the overlay filesystem
# (which can stall them and get workers killed as unresponsive).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BIND=0.0.0.0:8000 \
    INSTANCE_PATH=/app/instance \
    GUNICORN_CMD_ARGS="--worker-tmp-dir /dev/shm"

WORKDIR /app

# Requirements first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt \
    && groupadd --system --gid 10001 invoker \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --no-log-init invoker \
    && mkdir -p /app/instance \
    && chown 10001:10001 /app/instance

# The code stays root-owned and read-only for the app; only /app/instance is writable (the
# file session store and, in sandbox mode, the generated signing key).
COPY app/ app/
COPY liveperson_functions/ liveperson_functions/
COPY sandbox/ sandbox/
COPY templates/ templates/
COPY static/ static/
COPY wsgi.py gunicorn.conf.py ./

USER 10001:10001
EXPOSE 8000

# /healthz on the port BIND names, with a Host the app trusts (it answers 400 to any other):
# the first TRUSTED_HOSTS name, else LP_REDIRECT_URI's host, else localhost (sandbox mode).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.parse as p, urllib.request as u; port = os.environ.get('BIND', ':8000').rpartition(':')[2]; host = (os.environ.get('TRUSTED_HOSTS') or '').split(',')[0].strip() or p.urlsplit(os.environ.get('LP_REDIRECT_URI', '')).hostname or 'localhost'; u.urlopen(u.Request(f'http://127.0.0.1:{port}/healthz', headers={'Host': host}), timeout=4)"]

# gunicorn stops gracefully on SIGTERM within graceful_timeout (45 s): give it that long
# (`docker run --stop-timeout 50`, compose `stop_grace_period: 50s`) or invocations in flight
# are cut off after Docker's default 10 s.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
