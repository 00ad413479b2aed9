"""The authorization-code flow made visible: a record of this user's sign-in, refreshes, revoke
and first invocation, kept server-side beside the token record and gone at sign-out."""

import json
import time
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

from flask import current_app
from flask import session

from app.auth import tokens

MASK = "••••"
SECRET_FIELDS = {"client_secret"}
SHORTENED_FIELDS = {"code", "code_verifier", "refresh_token", "access_token", "id_token"}

PARAMETERS = {
    "v": "The API version Sentinel's authorize endpoint expects (1.0).",
    "response_type": "code: the authorization-code flow, the only one this app uses.",
    "client_id": "Which installed app asks; LivePerson registered it for this account.",
    "redirect_uri": "Where Sentinel sends the browser back; it must equal a registered URI.",
    "state": "A one-time random value bound to this browser's session, checked on return.",
    "code_challenge": "The SHA-256 of a secret verifier kept on the server (PKCE).",
    "code_challenge_method": "S256: how the challenge was made from the verifier.",
    "grant_type": "What is exchanged: an authorization code, or a refresh token.",
    "code": "The one-time code Sentinel gave the browser; it works once, briefly.",
    "code_verifier": "The PKCE secret whose hash was sent as code_challenge.",
    "client_secret": "The app's secret: it proves the call comes from this server.",
    "refresh_token": "Gets a new access token without the user signing in again.",
}

CLAIMS = {
    "sub": "The user's id in the account.",
    "aud": "Who the token is for: this app's client id.",
    "iss": "Who issued it: Sentinel.",
    "iat": "When it was issued.",
    "exp": "When it expires.",
    "is_admin": "Whether the user is an account administrator.",
    "is_lpa": "Whether the user is a LivePerson agent (LPA) rather than the brand's.",
    "preferred_username": "The login name (the sandbox adds it; Sentinel documents none).",
}

# The sequence diagram: (number, from, to, label, step in the record it belongs to).
ARROWS = (
    (1, "browser", "app", "GET /login", "authorize"),
    (2, "app", "browser", "302 → Sentinel /authorize", "authorize"),
    (3, "browser", "sentinel", "sign in, consent", "authorize"),
    (4, "sentinel", "browser", "302 → /callback?code&state", "callback"),
    (5, "browser", "app", "GET /callback", "callback"),
    (6, "app", "sentinel", "POST /token (code, verifier)", "token_request"),
    (7, "sentinel", "app", "access, refresh, id_token", "token_response"),
    (8, "app", "sentinel", "POST /token (refresh)", "refreshes"),
    (9, "app", "gateway", "POST invoke (Bearer)", "first_invocation"),
    (10, "gateway", "app", "result", "first_invocation"),
)
LANES = {"browser": 90, "app": 250, "sentinel": 410, "gateway": 570}


def short(value):
    """Show a token-like value as its first 6 and last 4 characters, never whole."""
    value = str(value or "")
    return f"{value[:6]}…{value[-4:]}" if len(value) > 16 else MASK


def shown(name, value):
    if name in SECRET_FIELDS:
        return MASK
    return short(value) if name in SHORTENED_FIELDS else value


def begin(authorize_url):
    """Keep the authorize request in the pre-sign-in session."""
    parts = urlsplit(authorize_url)
    params = parse_qsl(parts.query)
    session["flow"] = {
        "authorize": {
            "at": time.time(),
            "endpoint": f"{parts.scheme}://{parts.netloc}{parts.path}",
            "params": [(k, v, PARAMETERS.get(k, "")) for k, v in params],
            "state": dict(params).get("state"),
        }
    }


def callback_seen(state, code):
    """Keep what came back to /callback, comparing its state with the one sent."""
    started = session.get("flow", {})
    sent = started.get("authorize", {}).get("state")
    started["callback"] = {
        "at": time.time(),
        "code": short(code),
        "state": state,
        "state_matches": bool(sent) and sent == state,
    }
    session["flow"] = started


def start(app, key, token, record, exchange=None):
    """Write the flow record for a new sign-in, from the session's notes and the exchange;
    connected to tokens.signed_in."""
    found = session.get("flow", {})
    exchange = exchange or {}
    found["token_request"] = exchange_request(exchange)
    found["token_response"] = {
        "status": exchange.get("status"),
        "fields": response_fields(exchange.get("response") or token),
        "expires_in": "expires_in" in (exchange.get("response") or token),
        "expiry_source": record["expiry_source"],
        "expires_at": record["expires_at"],
    }
    found["id_token"] = {
        "header": tokens.header(token.get("id_token")),
        "claims": [
            (name, as_json(value), CLAIMS.get(name, ""))
            for name, value in tokens.claims(token.get("id_token")).items()
        ],
    }
    found.update(refreshes=[], revoke=None, first_invocation=None)
    save(key, found)


BASIC_MEANING = (
    "HTTP Basic: the client id and secret, base64-encoded, as Functions' authorization-code "
    "guide asks (Client Authentication: header)."
)


def exchange_request(exchange):
    fields = [(k, shown(k, v), PARAMETERS.get(k, "")) for k, v in exchange.get("fields", [])]
    if exchange.get("client_auth") == "basic":
        fields.insert(0, ("Authorization (header)", f"Basic {MASK}", BASIC_MEANING))
    return {
        "at": time.time(),
        "url": exchange.get("url"),
        "client_auth": exchange.get("client_auth"),
        "fields": fields,
    }


JSON_TYPES = {str: "string", int: "number", float: "number", bool: "boolean", list: "array"}


def as_json(value):
    """Show a value as JSON writes it (true, not True)."""
    return json.dumps(value) if isinstance(value, bool) or value is None else value


def response_fields(body):
    """Name and type each field of a token response, showing token values shortened."""
    fields = []
    for name, value in body.items():
        if name in ("expires_at", "userinfo"):
            continue  # added by authlib, not sent by Sentinel
        kind = JSON_TYPES.get(type(value), "object")
        if isinstance(value, str) and value.count(".") == 2:
            kind = "string (JWT)"
        fields.append((name, kind, shown(name, value) if "token" in name else as_json(value)))
    return fields


def load(key):
    return current_app.extensions["store"].get(f"flow:{key}") if key else None


def save(key, found):
    ttl = current_app.config["LP_MAX_SESSION"]
    current_app.extensions["store"].set(f"flow:{key}", found, ttl)


def discard(key):
    current_app.extensions["store"].delete(f"flow:{key}")


def note_refresh(app, key, why, previous, updated=None, error=None, exchange=None):
    """Add a refresh (or a failed one) to the record; connected to tokens.refreshed."""
    found = load(key)
    if found is None:
        return
    step = exchange_request(exchange or {})
    step.update(
        why=why,
        ok=error is None,
        outcome="new tokens" if error is None else error,
        status=(exchange or {}).get("status"),
        rotated=bool(updated and updated.get("refresh_token") != previous.get("refresh_token")),
        expires_at=updated["expires_at"] if updated else None,
    )
    found["refreshes"] = (found.get("refreshes") or [])[-19:] + [step]
    save(key, found)


def note_invocation(key, url, headers, status, outcome):
    """Keep the first invocation made with this sign-in's token."""
    found = load(key)
    if found is None or found.get("first_invocation"):
        return
    found["first_invocation"] = {
        "at": time.time(),
        "url": url,
        "headers": headers,
        "status": status,
        "outcome": outcome,
    }
    save(key, found)


def first_invocation_done(key):
    found = load(key)
    return bool(found and found.get("first_invocation"))


def diagram(found):
    """Lay out the sequence diagram's arrows, marking those whose step happened."""
    arrows = []
    for number, source, target, label, step in ARROWS:
        y = 70 + (number - 1) * 42
        x1, x2 = LANES[source], LANES[target]
        arrows.append(
            {
                "number": number,
                "x1": x1,
                "x2": x2,
                "y": y,
                "label": label,
                "label_x": (x1 + x2) / 2,
                "head": x2 - 8 if x2 > x1 else x2 + 8,
                "step": step,
                "done": bool(found.get(step)),
            }
        )
    return {"lanes": LANES, "arrows": arrows, "height": 70 + len(ARROWS) * 42 + 20}


def init_app(app):
    tokens.refreshed.connect(note_refresh, app)
    tokens.signed_in.connect(start, app)
