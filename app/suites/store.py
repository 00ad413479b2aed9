"""Each user's test suites and their recent runs: SQLite on one host, Redis for many."""

import json
import os
import secrets
import sqlite3
import threading
import time

import redis

from app.store import RedisStore
from app.store import StoreError

RUNS_KEPT = 10  # per suite
RUN_TTL = 7 * 24 * 3600  # Redis keeps a run a week

SCHEMA = """
CREATE TABLE IF NOT EXISTS suites (
    sub TEXT NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (sub, id)
);
CREATE TABLE IF NOT EXISTS suite_runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    sub TEXT NOT NULL,
    suite_id TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS suite_runs_by_suite ON suite_runs (sub, suite_id, seq);
"""


def new_id():
    return secrets.token_hex(8)


class SQLiteFile:
    """One SQLite file with its tables, shared by the workers of one host."""

    schema = ""

    def __init__(self, path):
        self.path = path
        self.local = threading.local()
        self.connection().executescript(self.schema)

    def connection(self):
        # sqlite3 connections belong to one thread; WAL lets workers read while one writes.
        db = getattr(self.local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            self.local.db = db
        return db


class SQLiteSuites(SQLiteFile):
    """Suites and runs in one SQLite file, shared by the workers of one host."""

    schema = SCHEMA

    def suites(self, sub):
        rows = self.connection().execute(
            "SELECT id, data FROM suites WHERE sub = ? ORDER BY updated_at DESC", (sub,)
        )
        return [{"id": suite_id, **json.loads(data)} for suite_id, data in rows]

    def suite(self, sub, suite_id):
        row = (
            self.connection()
            .execute("SELECT data FROM suites WHERE sub = ? AND id = ?", (sub, suite_id))
            .fetchone()
        )
        return {"id": suite_id, **json.loads(row[0])} if row else None

    def save_suite(self, sub, suite_id, doc):
        self.connection().execute(
            "INSERT OR REPLACE INTO suites VALUES (?, ?, ?, ?)",
            (sub, suite_id, json.dumps(doc), time.time()),
        )

    def delete_suite(self, sub, suite_id, keep_runs=False):
        db = self.connection()
        db.execute("DELETE FROM suites WHERE sub = ? AND id = ?", (sub, suite_id))
        if not keep_runs:
            db.execute("DELETE FROM suite_runs WHERE sub = ? AND suite_id = ?", (sub, suite_id))

    def save_run(self, sub, run):
        db = self.connection()
        with db:
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT INTO suite_runs (id, sub, suite_id, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                (run["id"], sub, run["suite_id"], json.dumps(run)),
            )
            db.execute(
                "DELETE FROM suite_runs WHERE sub = ? AND suite_id = ? AND seq <= (SELECT seq "
                "FROM suite_runs WHERE sub = ? AND suite_id = ? ORDER BY seq DESC LIMIT 1 "
                "OFFSET ?)",
                (sub, run["suite_id"], sub, run["suite_id"], RUNS_KEPT),
            )
            db.execute("COMMIT")

    def run(self, sub, run_id):
        row = (
            self.connection()
            .execute("SELECT data FROM suite_runs WHERE sub = ? AND id = ?", (sub, run_id))
            .fetchone()
        )
        return json.loads(row[0]) if row else None

    def runs(self, sub, suite_id):
        rows = self.connection().execute(
            "SELECT data FROM suite_runs WHERE sub = ? AND suite_id = ? ORDER BY seq DESC",
            (sub, suite_id),
        )
        return [json.loads(data) for (data,) in rows]


class RedisSuites:
    """Suites and runs in Redis, shared by every host."""

    def __init__(self, client):
        self.client = client

    def _call(self, method, *args, **kwargs):
        try:
            return getattr(self.client, method)(*args, **kwargs)
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc

    def suites(self, sub):
        found = [
            {"id": key.decode(), **json.loads(value)}
            for key, value in self._call("hgetall", f"suites:{sub}").items()
        ]
        return sorted(found, key=lambda s: -s.get("updated_at", 0))

    def suite(self, sub, suite_id):
        raw = self._call("hget", f"suites:{sub}", suite_id)
        return {"id": suite_id, **json.loads(raw)} if raw else None

    def save_suite(self, sub, suite_id, doc):
        doc = {**doc, "updated_at": time.time()}
        self._call("hset", f"suites:{sub}", suite_id, json.dumps(doc))

    def delete_suite(self, sub, suite_id, keep_runs=False):
        self._call("hdel", f"suites:{sub}", suite_id)
        if not keep_runs:
            self._call("delete", f"suite-runs:{sub}:{suite_id}")

    def save_run(self, sub, run):
        key = f"suite-run:{sub}:{run['id']}"
        listing = f"suite-runs:{sub}:{run['suite_id']}"
        try:
            with self.client.pipeline() as pipe:
                pipe.set(key, json.dumps(run), ex=RUN_TTL)
                pipe.lrem(listing, 0, run["id"]).lpush(listing, run["id"])
                pipe.ltrim(listing, 0, RUNS_KEPT - 1).expire(listing, RUN_TTL).execute()
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc

    def run(self, sub, run_id):
        raw = self._call("get", f"suite-run:{sub}:{run_id}")
        return json.loads(raw) if raw else None

    def runs(self, sub, suite_id):
        ids = self._call("lrange", f"suite-runs:{sub}:{suite_id}", 0, -1)
        found = (self.run(sub, run_id.decode()) for run_id in ids)
        return [run for run in found if run]


def open_suites(store, instance_path):
    """Open the suite store that goes with the session store."""
    if isinstance(store, RedisStore):
        return RedisSuites(store.client)
    os.makedirs(instance_path, exist_ok=True)
    return SQLiteSuites(os.path.join(instance_path, "userdata.sqlite3"))
