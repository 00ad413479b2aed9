"""The signed-in user's tokens: one record per session under its own store key, never in the
session blob (a concurrent request rewriting the blob would restore a rotated-out refresh token).
"""

import time

import requests
from authlib.common.errors import AuthlibBaseError
from flask import current_app
from flask.signals import Namespace

from app.auth import sentinel
from app.store import StoreError
from liveperson_functions.auth import lifetime_of
from liveperson_functions.auth import peek
from liveperson_functions.breaker import CircuitOpen

# LivePerson recommends refreshing every 30 minutes when a token answer says nothing of its
# lifetime (the Token API page shows no expires_in; the Token Request page lists one).
DEFAULT_LIFETIME = 1800
FATAL_REFRESH_ERRORS = {"invalid_grant", "invalid_client", "unauthorized_client"}
refreshed = Namespace().signal("token-refreshed")
signed_in = Namespace().signal("signed-in")


class SignInRequired(Exception):
    """The user's sign-in has ended; the message says why."""


class RefreshFailed(Exception):
    """Sentinel could not refresh the token just now; the session is kept."""


def claims(token):
    """Return a JWT's claims without checking its signature, or {} if it is not a JWT."""
    return peek(token)[1]


def header(token):
    """Return a JWT's header, or {} if it is not a JWT."""
    return peek(token)[0]


def expiry(token, now):
    """Return when the access token expires and where that came from: the answer's
    `expires_in`, else the access token's or the id_token's `exp`, else the default."""
    lifetime = lifetime_of(token.get("expires_in"))
    if lifetime is not None:
        return now + lifetime, "expires_in"
    for name in ("access_token", "id_token"):
        exp = claims(token.get(name)).get("exp")
        # An exp already past says nothing of this token: a refresh must never be due at once.
        if isinstance(exp, int | float) and not isinstance(exp, bool) and exp > now:
            return float(exp), name
    return now + DEFAULT_LIFETIME, "default"


def new_record(token, now=None):
    """Build a token record from a token response."""
    now = now or time.time()
    expires_at, source = expiry(token, now)
    return {
        "access_token": token["access_token"],
        "refresh_token": token.get("refresh_token"),
        "id_token": token.get("id_token"),
        "obtained_at": now,
        # When the id_token arrived: its iat is Sentinel's clock at that moment.
        "id_token_at": now if token.get("id_token") else None,
        "expires_at": expires_at,
        "expiry_source": source,
        "refreshes": 0,
    }


def begin(key, token, exchange):
    """Save the record for a new sign-in and tell listeners (the flow record) how it went."""
    record = new_record(token)
    save(key, record)
    signed_in.send(
        current_app._get_current_object(), key=key, token=token, record=record, exchange=exchange
    )
    return record


def refresh_at(record):
    """Return when the record should be refreshed: shortly before it expires."""
    lifetime = record["expires_at"] - record["obtained_at"]
    return record["expires_at"] - min(60.0, lifetime / 10)


def load(key):
    return current_app.extensions["store"].get(f"token:{key}")


def save(key, record):
    ttl = current_app.config["LP_MAX_SESSION"]
    current_app.extensions["store"].set(f"token:{key}", record, ttl)


def discard(key):
    current_app.extensions["store"].delete(f"token:{key}")


def end(key, everywhere=False):
    """End a session's tokens for good; return the record as it was last written."""
    # The tombstone goes first: a refresh in flight checks it before and after writing, so no
    # record outlives the session, and after "everywhere" it revokes the token it was given.
    ttl = current_app.config["LP_MAX_SESSION"]
    marker = {"at": time.time(), "everywhere": everywhere}
    current_app.extensions["store"].set(f"token-ended:{key}", marker, ttl)
    record = load(key)
    discard(key)
    return record


def _ended_during(key, updated):
    """Undo a refresh that finished after its session ended; revoke it after "everywhere"."""
    ended = current_app.extensions["store"].get(f"token-ended:{key}")
    if ended is None:
        return
    discard(key)
    if ended.get("everywhere") and sentinel.revoke(updated["refresh_token"]) == "unreachable":
        sentinel.revoke_later(updated["refresh_token"])
    raise SignInRequired("Your sign-in has ended. Sign in again to continue.")


def current(key):
    """Return a usable token record for the session, refreshing it when due."""
    record = load(key)
    if record is None:
        raise SignInRequired("Your sign-in has ended. Sign in again to continue.")
    if time.time() >= refresh_at(record):
        record = refresh(key, why="the access token was about to expire")
    return record


def refresh(key, force=False, why="the access token was about to expire", refused=None):
    """Refresh the session's tokens, once at a time across threads, workers and hosts;
    `refused` names the access token LivePerson refused, renewed only if still current."""
    store = current_app.extensions["store"]
    try:
        with store.lock(f"refresh:{key}", ttl=20, wait=15):
            # A sibling request may have refreshed while this one waited for the lock (ten
            # pages refused at once with a dead token make one refresh, not ten).
            record = load(key)
            if record is None:
                raise SignInRequired("Your sign-in has ended. Sign in again to continue.")
            if not force and time.time() < refresh_at(record):
                return record
            if refused is not None and record["access_token"] != refused:
                return record
            seen = {}  # what the token call sent and got back, for the flow record
            try:
                updated = renew(record, seen)
            except SignInRequired as exc:
                # A sibling on another host may have rotated the refresh token we just used.
                latest = load(key)
                if latest and latest.get("refresh_token") != record.get("refresh_token"):
                    return latest
                announce(key, why, record, error=str(exc), exchange=seen)
                raise
            except RefreshFailed as exc:
                announce(key, why, record, error=str(exc), exchange=seen)
                raise
            # Sentinel has rotated the refresh token by now: if the session ended meanwhile,
            # the new one must not be stored (and is revoked after sign-out everywhere).
            _ended_during(key, updated)
            save(key, updated)
            _ended_during(key, updated)
            announce(key, why, record, updated, exchange=seen)
            return updated
    except StoreError as exc:
        raise RefreshFailed("the session store is busy") from exc


def announce(key, why, previous, updated=None, error=None, exchange=None):
    """Tell listeners (the flow record) that a refresh happened or failed, and why."""
    refreshed.send(
        current_app._get_current_object(),
        key=key,
        why=why,
        previous=previous,
        updated=updated,
        error=error,
        exchange=exchange,
    )


def renew(record, seen=None):
    """Refresh a token record at Sentinel; classify what goes wrong."""
    if not record.get("refresh_token"):
        raise SignInRequired("Your LivePerson token has expired. Sign in again to continue.")
    try:
        token = sentinel.exchange_refresh_token(record["refresh_token"], seen)
    except AuthlibBaseError as exc:
        if getattr(exc, "error", None) in FATAL_REFRESH_ERRORS:
            raise SignInRequired(
                "LivePerson ended your sign-in (it was revoked or expired). Sign in again."
            ) from exc
        raise RefreshFailed(f"Sentinel refused the refresh ({exc})") from exc
    except (requests.RequestException, ValueError, CircuitOpen) as exc:
        raise RefreshFailed(f"Sentinel {sentinel.why(exc)}") from exc
    if not token.get("access_token"):
        raise RefreshFailed("Sentinel sent no access token")
    same_user(record.get("id_token"), token.get("id_token"))
    # The expiry comes from this answer alone: the old id_token's exp is that of a token
    # being replaced, and would make the next page refresh again at once.
    updated = new_record(token)
    if not token.get("id_token"):
        updated["id_token"] = record.get("id_token")
        updated["id_token_at"] = record.get("id_token_at")
    updated["refresh_token"] = token.get("refresh_token") or record["refresh_token"]
    updated["refreshes"] = record.get("refreshes", 0) + 1
    return updated


def audiences(identity):
    """Return an id_token's `aud` as a set: OpenID Connect allows one string or a list."""
    aud = identity.get("aud")
    if aud is None:
        return None
    return frozenset(map(str, aud)) if isinstance(aud, list) else frozenset([str(aud)])


def same_user(old_id_token, new_id_token):
    """Refuse a refresh whose new id_token names another user or client than the sign-in's."""
    if not new_id_token:
        return
    old, new = claims(old_id_token), claims(new_id_token)
    changed = [
        claim
        for claim, was, now in (
            ("sub", old.get("sub"), new.get("sub")),
            ("aud", audiences(old), audiences(new)),
        )
        if was is not None and now != was
    ]
    if changed:
        current_app.logger.warning(
            "refresh refused: the new id_token's %s differs from the sign-in's", changed[0]
        )
        raise SignInRequired(
            "LivePerson's answer to a token refresh named another user. You were signed "
            "out to be safe: sign in again."
        )
