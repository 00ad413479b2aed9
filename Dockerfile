# Functions Invoker: gunicorn serving the app; sessions in Redis for more than one container.
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    BIND=0.0.0.0:8000 INSTANCE_PATH=/app/instance

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt \
    && useradd --create-home --uid 10001 invoker \
    && mkdir -p /app/instance && chown invoker /app/instance

COPY app/ app/
COPY templates/ templates/
COPY static/ static/
COPY wsgi.py gunicorn.conf.py ./

USER invoker
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
