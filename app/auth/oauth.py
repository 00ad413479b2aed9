"""authlib's Flask client for Sentinel: the authorize redirect, the sign-in states it keeps,
and the code exchange that uses them."""

import time

from authlib.integrations.flask_client import FlaskOAuth2App
from authlib.integrations.flask_client import OAuth
from flask import current_app
from flask import session

from app.auth import sentinel
from app.sessions import KEPT_STATES

STATE_LIFETIME = 3600  # seconds a sign-in may take, as authlib keeps its state's data
AUTHLIB_STATE = "_state_sentinel_"  # + the state: where authlib keeps a state's data


class SentinelApp(FlaskOAuth2App):
    """authlib's Flask client, with Sentinel's endpoints found through CSDS when needed."""

    def load_server_metadata(self):
        return sentinel.endpoints()


class SentinelOAuth(OAuth):
    oauth2_client_cls = SentinelApp


def register(app):
    """Register the Sentinel client; it only builds the authorize redirect."""
    client_kwargs = {"default_timeout": sentinel.TIMEOUT}
    if app.config["LP_PKCE"]:
        client_kwargs["code_challenge_method"] = "S256"
    SentinelOAuth(app).register(
        "sentinel",
        client_id=app.config["LP_CLIENT_ID"],
        client_secret=app.config["LP_CLIENT_SECRET"],
        client_kwargs=client_kwargs,
    )


def client():
    return current_app.extensions["authlib.integrations.flask_client"].sentinel


def keep_state(state):
    """Note until when this sign-in's state is accepted; authlib keeps the state's data.

    Only the newest few sign-ins stay pending (tabs started one after another), with their
    authlib data: a client looping on /login never grows its session.
    """
    now = time.time()
    states = {k: exp for k, exp in session.get("sign_in_states", {}).items() if exp > now}
    states[state] = now + STATE_LIFETIME
    kept = sorted(states, key=states.get)[-KEPT_STATES:]
    session["sign_in_states"] = {k: states[k] for k in kept}
    for name in [n for n in session if n.startswith(AUTHLIB_STATE)]:
        if name[len(AUTHLIB_STATE) :] not in kept:
            del session[name]


def pending_state(value):
    """Tell whether `value` is an unexpired sign-in started in this session."""
    if not value or session.get("sign_in_states", {}).get(value, 0) <= time.time():
        return False
    return client().framework.get_state_data(session, value) is not None


def forget_state(state):
    """Forget a sign-in's state: it is never accepted again."""
    client().framework.clear_state_data(session, state)


def exchange(code, state, seen):
    """Exchange a code at Sentinel, using the verifier kept for its state."""
    framework = client().framework
    # The state is forgotten before the exchange, so a replay never reaches Sentinel.
    data = framework.get_state_data(session, state) or {}
    framework.clear_state_data(session, state)
    params = {"code": code, "redirect_uri": data.get("redirect_uri")}
    if data.get("code_verifier"):
        params["code_verifier"] = data["code_verifier"]
    with sentinel.sentinel_call():
        return sentinel.exchange_code(params, seen)


def claim_state(state):
    """Let exactly one request use a state, even two sent at once with the same cookie."""
    store = current_app.extensions["store"]
    with store.lock(f"state:{state}", ttl=5, wait=5):
        if store.get(f"used-state:{state}"):
            return False
        store.set(f"used-state:{state}", {"at": time.time()}, 3600)
    return True
