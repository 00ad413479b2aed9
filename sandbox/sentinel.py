"""Sentinel, LivePerson's OAuth 2.0 server, built on authlib's authorization server."""

import secrets
import time

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Request
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Blueprint
from flask import abort
from flask import current_app
from flask import render_template
from flask import request
from flask import session
from flask_wtf.csrf import CSRFProtect

from .directory import SCOPE
from .directory import USERS
from .state import ID_TOKEN_KID
from .state import AuthorizationCode

bp = Blueprint("sentinel", __name__, url_prefix="/sentinel/api/account/<account_id>")
csrf = CSRFProtect()
CLIENT_AUTH = ["client_secret_basic", "client_secret_post"]
# SANDBOX_CLIENT_AUTH: how the user-token endpoints (token, revoke) accept client credentials.
USER_TOKEN_AUTH = {
    "basic": ["client_secret_basic"],
    "post": ["client_secret_post"],
    "both": CLIENT_AUTH,
}


def state():
    return current_app.extensions["sandbox"].state


def settings():
    return current_app.extensions["sandbox"].settings


class SentinelRequest(FlaskOAuth2Request):
    """Read OAuth parameters from the query string too: the Java client sends them there."""

    @property
    def form(self):
        return self._request.values


class SentinelServer(AuthorizationServer):
    def create_oauth2_request(self, _request):
        return SentinelRequest(request)


def user_token_auth():
    """The client authentication methods the user-token endpoints accept."""
    return USER_TOKEN_AUTH[settings().client_auth]


def client_auth_used():
    """Name how a call presented client credentials: "basic", "post", both or none."""
    used = []
    if request.headers.get("Authorization", "").lower().startswith("basic "):
        used.append("basic")
    if request.values.get("client_secret"):
        used.append("post")
    return "+".join(used) or "none"


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    @property
    def TOKEN_ENDPOINT_AUTH_METHODS(self):  # noqa: N802 (authlib's name)
        return user_token_auth()

    def save_authorization_code(self, code, request):
        challenge = request.payload.data.get("code_challenge")
        method = request.payload.data.get("code_challenge_method")
        item = AuthorizationCode(
            code,
            request.client.client_id,
            request.payload.redirect_uri or request.client.get_default_redirect_uri(),
            request.user,
            challenge,
            method,
            time.time() + 120,
        )
        with state().lock:
            state().codes[code] = item

    def query_authorization_code(self, code, client):
        with state().lock:
            item = state().codes.get(code)
        if item and item.client_id == client.client_id and item.expires_at > time.time():
            return item
        return None

    def delete_authorization_code(self, authorization_code):
        with state().lock:
            state().codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code):
        return authorization_code.user


class RefreshTokenGrant(grants.RefreshTokenGrant):
    @property
    def TOKEN_ENDPOINT_AUTH_METHODS(self):  # noqa: N802 (authlib's name)
        return user_token_auth()

    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        return state().grant_for_refresh_token(refresh_token)

    def authenticate_user(self, refresh_token):
        return refresh_token.user

    def revoke_old_credential(self, refresh_token):
        """Rotation happens in save_token, where the new refresh token is known."""


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    # The app token keeps both: the official clients send the form body (or the query).
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH


class Revocation(RevocationEndpoint):
    @property
    def CLIENT_AUTH_METHODS(self):  # noqa: N802 (authlib's name)
        return user_token_auth()

    def query_token(self, token_string, token_type_hint):
        return state().grant_for_refresh_token(token_string) or state().grant_for_access_token(
            token_string
        )

    def revoke_token(self, token, request):
        state().revoke(token)


def generate_token(grant_type, client, user=None, scope=None, **kwargs):
    """Issue tokens the way Sentinel documents them: an opaque user access token, a 600 s
    id_token at sign-in, no user `expires_in` (or, in the "expires-in" shape, `expires_in` and
    a new id_token on every refresh); app tokens are JWTs with `expires_in`."""
    now = int(time.time())
    account = settings().account_id
    claims = {"iss": "Sentinel", "aud": account, "azp": client.client_id, "scope": SCOPE}
    claims.update(iat=now, jti=secrets.token_hex(12))
    if grant_type == "client_credentials":
        lifetime = settings().app_token_lifetime
        access_token = state().sign({**claims, "exp": now + lifetime})
        # The V2 toolbelt rejects an expires_in that is not a string.
        return {"access_token": access_token, "token_type": "Bearer", "expires_in": str(lifetime)}
    token = {
        # Bound to its grant and lifetime in save_token, once the grant exists.
        "access_token": secrets.token_hex(32),
        "token_type": "Bearer",
        "refresh_token": secrets.token_hex(32),
    }
    standard = settings().token_shape == "expires-in"
    if standard:
        token["expires_in"] = settings().token_lifetime
    if grant_type == "authorization_code" or standard:
        token["id_token"] = id_token(user, client, now)
    return token


def id_token(user, client, now):
    """Sign the id_token the Token API page shows (RS256, kid idtoken-19-08-19)."""
    id_claims = {"sub": user.user_id, "aud": client.client_id, "iss": "Sentinel"}
    exp = now + settings().id_token_lifetime
    id_claims.update(iat=now, exp=exp, is_admin=user.is_admin, is_lpa=False)
    # Not among Sentinel's documented claims; the app shows it when present.
    id_claims["preferred_username"] = user.login_name
    return state().sign(id_claims, kid=ID_TOKEN_KID)


def save_token(token, request):
    """Bind issued tokens to their grant, rotating the refresh token on a refresh."""
    if "refresh_token" not in token:
        return
    if request.payload.grant_type == "refresh_token":
        grant = request.refresh_token
        state().rotate(grant, token["refresh_token"])
    else:
        grant = state().new_grant(request.client.client_id, request.user, token["refresh_token"])
    state().bind_access_token(token["access_token"], grant, settings().token_lifetime)


def init_app(app):
    """Attach Sentinel's authorization server and routes to the sandbox app."""
    directory = app.extensions["sandbox"].directory
    server = SentinelServer(app, query_client=directory.client, save_token=save_token)
    server.register_token_generator("default", generate_token)
    server.register_grant(AuthorizationCodeGrant, [CodeChallenge(required=False)])
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(Revocation)
    app.extensions["sentinel"] = server
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.register_blueprint(bp)


@bp.url_value_preprocessor
def check_account(endpoint, values):
    if values.pop("account_id") != settings().account_id:
        abort(401, "Unknown account (site) id.")


def remembered():
    """The user this browser signed in as here, unless a revoke ended their sign-in since."""
    user = current_app.extensions["sandbox"].directory.user(session.get("user"))
    if user is not None and session.get("sign_in") != state().sign_ins_ended[user.login_name]:
        session.pop("user", None)
        return None
    return user


@bp.route("/authorize", methods=["GET", "POST"])
def authorize():
    """Show the sign-in page, or send the code at once to a user already signed in here."""
    server = current_app.extensions["sentinel"]
    if request.method == "GET":
        state().record("authorize", request.args)
    user = remembered()
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        if error.redirect_uri:
            return server.handle_error_response(None, error)
        # An unknown client or redirect URI must never be redirected to.
        return render_template("sandbox/error.html", error=error), 400
    if request.method == "POST":
        csrf.protect()
        if "cancel" in request.form:
            return server.create_authorization_response(grant=grant, grant_user=None)
        if "another" in request.form or ("continue" in request.form and user is None):
            # "Use another account": sign the remembered user out here, ask for a password.
            session.pop("user", None)
            return login_page(failed=False, remembered=None)
        if "continue" not in request.form:
            user = current_app.extensions["sandbox"].directory.check_password(
                request.form.get("username"), request.form.get("password")
            )
            if user is None:
                return login_page(failed=True), 401
            session.update(user=user.login_name, sign_in=state().sign_ins_ended[user.login_name])
        return server.create_authorization_response(grant=grant, grant_user=user)
    if user is None:
        return login_page(failed=False, remembered=None)
    # Someone is remembered: continue as them in one click, or use another account.
    return login_page(failed=False, remembered=user)


def login_page(**context):
    """Render the sign-in page, which lists every demo user with its permission profile."""
    return render_template("sandbox/login.html", users=USERS, **context)


@bp.post("/token")
def token():
    """Exchange a code or a refresh token for tokens."""
    state().record("token", {**request.values, "client_auth": client_auth_used()})
    return current_app.extensions["sentinel"].create_token_response()


@bp.post("/app/token")
def app_token():
    """Issue an app token for the client-credentials grant."""
    state().record("app_token", {**request.values, "client_auth": client_auth_used()})
    return current_app.extensions["sentinel"].create_token_response()


@bp.post("/token/revoke")
def revoke():
    """End a user's grant: its refresh and access tokens stop working."""
    state().record("revoke", {**request.values, "client_auth": client_auth_used()})
    return current_app.extensions["sentinel"].create_endpoint_response("revocation")
