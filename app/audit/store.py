"""The account's audit trail: in the user data's SQLite file on one host, in Redis for many.

Records are only ever added; nothing here edits or deletes one, except retention (AUDIT_DAYS).
"""

import json
import logging
import sqlite3
import time

import redis

from app.history.userdata import RedisUserData
from app.history.userdata import as_text
from app.store import StoreError

DAY = 24 * 3600
BATCH = 500  # records read per query while filtering

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    at REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (account, at);
"""

log = logging.getLogger("app.audit")


class Trail:
    """What both stores share: the account, retention from an injectable clock, and failures."""

    def __init__(self, account, days, failed=None, clock=time.time):
        self.account, self.days, self.clock = account, days, clock
        self.on_failure = failed

    def cutoff(self):
        """Return the time before which records are dropped."""
        return self.clock() - self.days * DAY

    def failed(self, error):
        """Log and count a record that could not be written; the caller goes on."""
        log.error("audit record not written: %s", error)
        if self.on_failure:
            self.on_failure()

    def rider(self, record):
        """Return the write of `record` that joins a history entry's round trip."""
        return Rider(self, record)


class Rider:
    """One audit record written in the same transaction or pipeline as a history entry;
    its failure is logged and counted, never the entry's."""

    def __init__(self, trail, record):
        self.trail, self.record = trail, record

    def sqlite(self, db):
        # A savepoint: should the audit insert fail, the history entry is still committed.
        db.execute("SAVEPOINT audit")
        try:
            self.trail.write(db, self.record)
        except sqlite3.Error as exc:
            db.execute("ROLLBACK TO audit")
            self.failed(exc)
        db.execute("RELEASE audit")

    def redis(self, pipe):
        self.trail.write(pipe, self.record)

    def settle(self, results):
        """Look at the results of the commands redis() queued."""
        error = next((r for r in results if isinstance(r, Exception)), None)
        if error is not None:
            self.failed(error)

    def failed(self, error):
        """The record was not written (nor, perhaps, the entry): log and count it."""
        self.trail.failed(error)


class SQLiteTrail(Trail):
    """The audit trail in the user data's SQLite file, on its connections (one transaction)."""

    def __init__(self, userdata, account, days, failed=None, clock=time.time):
        super().__init__(account, days, failed, clock)
        self.userdata = userdata
        self.userdata.connection().executescript(SCHEMA)

    def write(self, db, record):
        db.execute(
            "INSERT INTO audit (account, at, data) VALUES (?, ?, ?)",
            (self.account, record["at"], as_text(record)),
        )
        db.execute("DELETE FROM audit WHERE account = ? AND at < ?", (self.account, self.cutoff()))

    def add(self, record):
        """Add one record on its own (an event); StoreError if it cannot be written."""
        db = self.userdata.connection()
        try:
            with db:
                db.execute("BEGIN IMMEDIATE")
                self.write(db, record)
                db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    def records(self, since=None, until=None):
        """Yield the account's records newest first, from `since` up to (not at) `until`."""
        low = max(since or 0, self.cutoff())
        high, seq = until or float("inf"), 0
        while True:
            # Keyset pages, each read whole: no read statement stays open between them.
            rows = (
                self.userdata.connection()
                .execute(
                    "SELECT at, seq, data FROM audit WHERE account = ? AND at >= ? "
                    "AND (at < ? OR (at = ? AND seq < ?)) ORDER BY at DESC, seq DESC LIMIT ?",
                    (self.account, low, high, high, seq, BATCH),
                )
                .fetchall()
            )
            for _at, _seq, data in rows:
                yield json.loads(data)
            if len(rows) < BATCH:
                return
            high, seq = rows[-1][0], rows[-1][1]


class RedisTrail(Trail):
    """The audit trail in one sorted set per account, scored by time: every host sees it."""

    def __init__(self, client, account, days, failed=None, clock=time.time):
        super().__init__(account, days, failed, clock)
        self.client = client
        self.key = f"audit:{account}"

    def write(self, pipe, record):
        pipe.zadd(self.key, {as_text(record): record["at"]})
        pipe.zremrangebyscore(self.key, "-inf", f"({self.cutoff()}")

    def add(self, record):
        """Add one record on its own (an event); StoreError if it cannot be written."""
        try:
            with self.client.pipeline() as pipe:
                self.write(pipe, record)
                pipe.execute()
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc

    def records(self, since=None, until=None):
        """Yield the account's records newest first, from `since` up to (not at) `until`."""
        low = max(since or 0, self.cutoff())
        high, seen = f"({until}" if until else "+inf", set()
        while True:
            try:
                batch = self.client.zrevrangebyscore(
                    self.key, high, low, start=0, num=BATCH, withscores=True
                )
            except redis.RedisError as exc:
                raise StoreError(str(exc)) from exc
            fresh = [(member, score) for member, score in batch if member not in seen]
            for member, _score in fresh:
                yield json.loads(member)
            if len(batch) < BATCH or not fresh:
                return
            # The next page starts at the last score again (records may share it), skipping
            # those already given: offsets would shift as new records arrive.
            last = fresh[-1][1]
            seen = {member for member, score in batch if score == last} | (
                seen if high == last else set()
            )
            high = last


def open_trail(userdata, config, failed=None):
    """Open the audit trail on the store the user data is on."""
    account, days = config["LP_ACCOUNT_ID"], config["AUDIT_DAYS"]
    if isinstance(userdata, RedisUserData):
        return RedisTrail(userdata.client, account, days, failed)
    return SQLiteTrail(userdata, account, days, failed)
