"""What the audit trail records: each invocation beside its history entry, and events."""

import hashlib
import json
import secrets

from flask import current_app
from flask import g

from app.history.userdata import sent_payload
from app.store import StoreError

# Event types, as the trail page and its exports name them.
EVENTS = {
    "sign-in": "signed in",
    "sign-out": "signed out",
    "sign-out-everywhere": "signed out everywhere",
    "refused": "was refused",
    "shared-item": "changed a shared item",
}


def trail():
    return current_app.extensions["audit"]


def new_record(kind, user, at=None):
    """Start a record: when, who (user id and login name), and of which type."""
    user = user or {}
    return {
        "id": secrets.token_hex(8),
        "at": trail().clock() if at is None else at,
        "account": trail().account,
        "type": kind,
        "user_id": str(user.get("sub") or ""),
        "login": user.get("login_name") or "",
    }


def digest(text):
    """Return the size in bytes and the SHA-256 of a payload or response."""
    raw = (text or "").encode("utf-8", "surrogatepass")
    return len(raw), hashlib.sha256(raw).hexdigest()


def response_of(entry, whole):
    """Return the response whole when kept beside the entry, else as the entry keeps it (by
    event: each function's)."""
    if entry["kind"] == "event":
        rows = [[row.get("uuid"), row.get("result")] for row in entry.get("rows") or []]
        return json.dumps(rows, ensure_ascii=False) if rows else entry.get("response") or ""
    return (whole or {}).get("response") or entry.get("response") or ""


def invocation(user, entry, whole=None):
    """Return the invocation's audit record, to be written with its history entry."""
    record = new_record("invocation", user, entry["at"])
    payload_bytes, payload_sha = digest(sent_payload(entry))
    response_bytes, response_sha = digest(response_of(entry, whole))
    record.update(
        by="uuid" if entry["kind"] == "function" else "event",
        target=entry["target"],
        name=entry.get("name") or "",
        token=entry.get("token") or "user",
        outcome=entry.get("outcome"),
        status=entry.get("status"),
        duration_ms=entry.get("duration_ms"),
        request_id=entry.get("request_id"),
        suite=entry.get("suite") or "",
        payload_bytes=payload_bytes,
        payload_sha256=payload_sha,
        response_bytes=response_bytes,
        response_sha256=response_sha,
    )
    if current_app.config["AUDIT_PAYLOADS"]:
        # As the history keeps it: variables filled, secrets masked.
        record["payload"] = sent_payload(entry)
    return trail().rider(record)


def event(kind, user, detail=""):
    """Record a sign-in, a sign-out or a refusal; a store failure is logged and counted only."""
    record = new_record(kind, user)
    record["detail"] = detail
    try:
        trail().add(record)
    except StoreError as exc:
        trail().failed(exc)


def shared_item(_app, *, action, kind, name, version, by, by_name, **_info):
    """Record a change to a shared payload, suite or environment (the workspace's signal)."""
    detail = f"{action} {kind} “{name}” (version {version})"
    event("shared-item", {"sub": by, "login_name": by_name}, detail)


def refused(what):
    """Record that the signed-in user was refused something only admins may do."""
    event("refused", g.get("user"), what)
