"""The account's workspace: environments, and payloads and suites shared with the account.

Each item is a record {id, kind, owner, owner_name, shared, version, updated_at, changed_by,
doc}, kept per account: SQLite on one host, Redis for many. A save names the version it
started from; a newer one there is a Conflict, never a silent overwrite.
"""

import json
import os
import secrets
import time

import redis

from app.store import RedisStore
from app.store import StoreError
from app.suites.store import SQLiteFile

KINDS = ("payload", "suite", "environment")

SCHEMA = """
CREATE TABLE IF NOT EXISTS workspace (
    account TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    owner TEXT NOT NULL,
    shared INTEGER NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (account, kind, id)
);
"""

# Compare-and-set of one record: -1 when it is gone, the stored record when its version moved.
REDIS_UPDATE = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return -1 end
if cjson.decode(current)['version'] ~= tonumber(ARGV[2]) then return current end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""


class Conflict(Exception):
    """Someone saved the item since the version this change started from."""

    def __init__(self, current):
        super().__init__(f"version {current['version']} was saved meanwhile")
        self.current = current


def new_record(kind, owner, owner_name, shared, doc, now=None):
    """Return a first version of an item."""
    return {
        "id": secrets.token_hex(8),
        "kind": kind,
        "owner": owner,
        "owner_name": owner_name,
        "shared": bool(shared),
        "version": 1,
        "updated_at": now or time.time(),
        "changed_by": owner_name,
        "doc": doc,
    }


def next_version(record, changes, by_name, now=None):
    """Return the record after `changes` (shared, doc), one version on."""
    return {
        **record,
        **changes,
        "version": record["version"] + 1,
        "updated_at": now or time.time(),
        "changed_by": by_name,
    }


def visible(records, sub, see_shared):
    """Keep the user's own records, and shared ones when the user may see them."""
    found = [r for r in records if r["owner"] == sub or (see_shared and r["shared"])]
    return sorted(found, key=lambda r: (r["doc"].get("name", "").lower(), r["id"]))


class SQLiteWorkspace(SQLiteFile):
    """Workspace records in the host's SQLite file, shared by its workers."""

    schema = SCHEMA

    def items(self, account, kind, sub, see_shared):
        rows = self.connection().execute(
            "SELECT data FROM workspace WHERE account = ? AND kind = ? AND (owner = ? OR shared)",
            (account, kind, sub),
        )
        return visible([json.loads(data) for (data,) in rows], sub, see_shared)

    def item(self, account, kind, item_id):
        row = (
            self.connection()
            .execute(
                "SELECT data FROM workspace WHERE account = ? AND kind = ? AND id = ?",
                (account, kind, item_id),
            )
            .fetchone()
        )
        return json.loads(row[0]) if row else None

    def add(self, account, record):
        self.connection().execute(
            "INSERT INTO workspace VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                account,
                record["kind"],
                record["id"],
                record["owner"],
                record["shared"],
                1,
                json.dumps(record),
            ),
        )
        return record

    def update(self, account, record, version):
        """Store `record` if the stored one is still at `version`; Conflict if not."""
        cursor = self.connection().execute(
            "UPDATE workspace SET shared = ?, version = ?, data = ? "
            "WHERE account = ? AND kind = ? AND id = ? AND version = ?",
            (
                record["shared"],
                record["version"],
                json.dumps(record),
                account,
                record["kind"],
                record["id"],
                version,
            ),
        )
        if cursor.rowcount == 0:
            current = self.item(account, record["kind"], record["id"])
            if current is not None:
                raise Conflict(current)
            return None
        return record

    def delete(self, account, kind, item_id):
        self.connection().execute(
            "DELETE FROM workspace WHERE account = ? AND kind = ? AND id = ?",
            (account, kind, item_id),
        )


class RedisWorkspace:
    """Workspace records in Redis, one hash per account and kind, shared by every host."""

    def __init__(self, client):
        self.client = client
        self.compare_and_set = client.register_script(REDIS_UPDATE)

    def _call(self, method, *args):
        try:
            return getattr(self.client, method)(*args)
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc

    @staticmethod
    def key(account, kind):
        return f"workspace:{account}:{kind}"

    def items(self, account, kind, sub, see_shared):
        found = self._call("hvals", self.key(account, kind))
        return visible([json.loads(raw) for raw in found], sub, see_shared)

    def item(self, account, kind, item_id):
        raw = self._call("hget", self.key(account, kind), item_id)
        return json.loads(raw) if raw else None

    def add(self, account, record):
        self._call("hset", self.key(account, record["kind"]), record["id"], json.dumps(record))
        return record

    def update(self, account, record, version):
        """Store `record` if the stored one is still at `version`; Conflict if not."""
        try:
            answer = self.compare_and_set(
                keys=[self.key(account, record["kind"])],
                args=[record["id"], version, json.dumps(record)],
            )
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc
        if answer == -1:
            return None
        if answer != 1:
            raise Conflict(json.loads(answer))
        return record

    def delete(self, account, kind, item_id):
        self._call("hdel", self.key(account, kind), item_id)


def open_workspace(store, instance_path):
    """Open the workspace store that goes with the session store."""
    if isinstance(store, RedisStore):
        return RedisWorkspace(store.client)
    os.makedirs(instance_path, exist_ok=True)
    return SQLiteWorkspace(os.path.join(instance_path, "userdata.sqlite3"))
