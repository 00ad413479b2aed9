"""Each user's invocation history and saved payloads: SQLite on one host, Redis for many."""

import json
import os
import re
import secrets
import sqlite3
import threading
import time

import redis

from app.store import RedisStore
from app.store import StoreError

HISTORY_LIMIT = 200
# Whole responses (those the history entry keeps only in part) are kept beside the history
# for at least the user's latest invocations: the newest this many.
WHOLE_KEPT = 20
SURROGATE = re.compile(r"[\ud800-\udfff]")

SCHEMA = """
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    sub TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_user ON history (sub, seq);
CREATE TABLE IF NOT EXISTS whole_responses (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    sub TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS whole_responses_by_user ON whole_responses (sub, seq);
CREATE TABLE IF NOT EXISTS payloads (
    sub TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    name TEXT NOT NULL,
    payload TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (sub, kind, target, name)
);
"""


def new_entry_id():
    return secrets.token_hex(8)


def as_text(entry):
    """Return an entry as JSON text that any page can show, lone surrogates as U+FFFD."""
    # A function may answer "\ud800" (valid JSON): stored as is, it would fail every later page.
    return SURROGATE.sub("\ufffd", json.dumps(entry, ensure_ascii=False))


def sent_payload(entry):
    """Return the payload an entry's invocation sent: with variables filled (secrets masked)
    when it had any, else as typed."""
    return (entry.get("sent") or {}).get("payload") or entry.get("payload") or ""


class History:
    """What both stores answer from the invocation history alone."""

    def last_payload(self, sub, kind, target):
        """Return the payload of the user's newest invocation of this function or event."""
        for entry in self.invocations(sub):
            if entry.get("kind") == kind and entry.get("target") == target:
                return entry.get("payload")
        return None


class SQLiteUserData(History):
    """History and payloads in one SQLite file, shared by the workers of one host."""

    def __init__(self, path):
        self.path = path
        self.local = threading.local()
        with self.connection() as db:
            db.executescript(SCHEMA)

    def connection(self):
        # sqlite3 connections belong to one thread; WAL lets workers read while one writes.
        db = getattr(self.local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self.local.db = db
        return db

    def add_invocation(self, sub, entry, audit=None):
        """Keep an entry, with its audit record (a Rider) in the same transaction."""
        entry = {**entry, "id": new_entry_id()}
        db = self.connection()
        insert = (
            "INSERT INTO history (id, sub, data) VALUES (?, ?, ?)",
            (entry["id"], sub, as_text(entry)),
        )
        if audit is None:
            # Autocommit: SQLite's write lock is then held only inside a statement, never
            # while this thread waits for the GIL, so the other writers' busy handler (which
            # sleeps up to 100 ms between tries) rarely has to wait at all.
            db.execute(*insert)
        else:
            try:
                with db:
                    db.execute("BEGIN IMMEDIATE")
                    db.execute(*insert)
                    audit.sqlite(db)
                    db.execute("COMMIT")
            except sqlite3.Error as exc:
                audit.failed(exc)
                raise StoreError(str(exc)) from exc
        # Apart: between the two, the user may briefly have one entry over the limit.
        db.execute(
            "DELETE FROM history WHERE sub = ? AND seq <= (SELECT seq FROM history "
            "WHERE sub = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
            (sub, sub, HISTORY_LIMIT),
        )
        return entry["id"]

    def invocations(self, sub):
        rows = self.connection().execute(
            "SELECT data FROM history WHERE sub = ? ORDER BY seq DESC", (sub,)
        )
        return [json.loads(data) for (data,) in rows]

    def invocation(self, sub, entry_id):
        row = (
            self.connection()
            .execute("SELECT data FROM history WHERE sub = ? AND id = ?", (sub, entry_id))
            .fetchone()
        )
        return json.loads(row[0]) if row else None

    def save_payload(self, sub, kind, target, name, payload):
        self.save_payloads(sub, [(kind, target, name, payload)])

    def save_payloads(self, sub, items):
        """Save (kind, target, name, payload) items in one transaction: all or none."""
        now = time.time()
        db = self.connection()
        with db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT OR REPLACE INTO payloads VALUES (?, ?, ?, ?, ?, ?)",
                [(sub, *item, now) for item in items],
            )
            db.execute("COMMIT")

    def payloads(self, sub, kind=None, target=None):
        query = "SELECT kind, target, name, payload, updated_at FROM payloads WHERE sub = ?"
        args = [sub]
        if kind is not None:
            query += " AND kind = ? AND target = ?"
            args += [kind, target]
        rows = self.connection().execute(query + " ORDER BY kind, target, name", args)
        keys = ("kind", "target", "name", "payload", "updated_at")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def delete_payload(self, sub, kind, target, name):
        cursor = self.connection().execute(
            "DELETE FROM payloads WHERE sub = ? AND kind = ? AND target = ? AND name = ?",
            (sub, kind, target, name),
        )
        return cursor.rowcount > 0

    def save_whole(self, sub, entry_id, whole):
        """Keep an entry's whole responses; only the user's newest WHOLE_KEPT stay."""
        db = self.connection()
        db.execute(
            "INSERT INTO whole_responses (id, sub, data) VALUES (?, ?, ?)",
            (entry_id, sub, as_text(whole)),
        )
        db.execute(
            "DELETE FROM whole_responses WHERE sub = ? AND seq <= (SELECT seq FROM "
            "whole_responses WHERE sub = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
            (sub, sub, WHOLE_KEPT),
        )

    def whole(self, sub, entry_id):
        """Return an entry's whole responses if they are still kept, else None."""
        row = (
            self.connection()
            .execute("SELECT data FROM whole_responses WHERE sub = ? AND id = ?", (sub, entry_id))
            .fetchone()
        )
        return json.loads(row[0]) if row else None

    def ping(self):
        try:
            self.connection().execute("SELECT 1")
        except sqlite3.Error:
            return False
        return True


class RedisUserData(History):
    """History and payloads in Redis, shared by every host."""

    def __init__(self, client):
        self.client = client

    def _call(self, method, *args):
        try:
            return getattr(self.client, method)(*args)
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc

    def add_invocation(self, sub, entry, audit=None):
        """Keep an entry, with its audit record (a Rider) in the same pipeline."""
        entry = {**entry, "id": new_entry_id()}
        key = f"history:{sub}"
        try:
            with self.client.pipeline() as pipe:
                pipe.lpush(key, as_text(entry)).ltrim(key, 0, HISTORY_LIMIT - 1)
                if audit is not None:
                    audit.redis(pipe)
                results = pipe.execute(raise_on_error=False)
        except redis.RedisError as exc:
            if audit is not None:
                audit.failed(exc)
            raise StoreError(str(exc)) from exc
        error = next((r for r in results[:2] if isinstance(r, Exception)), None)
        if error is not None:
            raise StoreError(str(error))
        if audit is not None:
            audit.settle(results[2:])
        return entry["id"]

    def invocations(self, sub):
        return [json.loads(raw) for raw in self._call("lrange", f"history:{sub}", 0, -1)]

    def invocation(self, sub, entry_id):
        return next((e for e in self.invocations(sub) if e["id"] == entry_id), None)

    def save_payload(self, sub, kind, target, name, payload):
        self.save_payloads(sub, [(kind, target, name, payload)])

    def save_payloads(self, sub, items):
        """Save (kind, target, name, payload) items in one HSET: all or none."""
        now = time.time()
        mapping = {
            json.dumps([kind, target, name]): json.dumps({"payload": payload, "updated_at": now})
            for kind, target, name, payload in items
        }
        if mapping:
            self._call("hset", f"payloads:{sub}", None, None, mapping)

    def payloads(self, sub, kind=None, target=None):
        found = []
        for field, value in self._call("hgetall", f"payloads:{sub}").items():
            item_kind, item_target, name = json.loads(field)
            if kind is None or (item_kind, item_target) == (kind, target):
                found.append(
                    {"kind": item_kind, "target": item_target, "name": name, **json.loads(value)}
                )
        return sorted(found, key=lambda p: (p["kind"], p["target"], p["name"]))

    def delete_payload(self, sub, kind, target, name):
        field = json.dumps([kind, target, name])
        return bool(self._call("hdel", f"payloads:{sub}", field))

    def save_whole(self, sub, entry_id, whole):
        """Keep an entry's whole responses; only the user's newest WHOLE_KEPT stay."""
        key, order = f"whole:{sub}", f"whole-order:{sub}"
        try:
            with self.client.pipeline() as pipe:
                pipe.hset(key, entry_id, as_text(whole)).lpush(order, entry_id)
                stale = pipe.lrange(order, WHOLE_KEPT, -1).execute()[-1]
                if stale:
                    pipe.hdel(key, *stale).ltrim(order, 0, WHOLE_KEPT - 1).execute()
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc

    def whole(self, sub, entry_id):
        """Return an entry's whole responses if they are still kept, else None."""
        raw = self._call("hget", f"whole:{sub}", entry_id)
        return json.loads(raw) if raw else None

    def ping(self):
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False


def open_userdata(store, instance_path):
    """Open the user data store that goes with the session store."""
    if isinstance(store, RedisStore):
        return RedisUserData(store.client)
    os.makedirs(instance_path, exist_ok=True)
    return SQLiteUserData(os.path.join(instance_path, "userdata.sqlite3"))
