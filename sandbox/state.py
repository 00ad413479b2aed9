"""What the sandbox remembers: codes, grants, bearers, signing key, and a log of calls."""

import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass
from dataclasses import field

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin
from authlib.oauth2.rfc6749 import TokenMixin
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from .directory import SCOPE
from .directory import Directory

# The kid LivePerson's documented id_token carries.
ID_TOKEN_KID = "idtoken-19-08-19"


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    """A one-time code, bound to client, redirect URI, user and PKCE challenge."""

    code: str
    client_id: str
    redirect_uri: str
    user: object
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return SCOPE


@dataclass
class Grant(TokenMixin):
    """A user's consent to a client; its refresh token rotates, revoking ends it."""

    grant_id: str
    client_id: str
    user: object
    refresh_token: str = ""
    revoked: bool = False

    def check_client(self, client):
        return client.get_client_id() == self.client_id

    def get_scope(self):
        return SCOPE

    def get_user(self):
        return self.user

    def is_revoked(self):
        return self.revoked

    def is_expired(self):
        return False


@dataclass(frozen=True)
class Principal:
    """Who a bearer token speaks for at the gateway: a user, or an app (client credentials)."""

    kind: str
    client_id: str | None = None
    user: object = None


@dataclass
class State:
    """All mutable sandbox state, guarded by one lock."""

    account_id: str
    directory: Directory
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, private=True))
    codes: dict = field(default_factory=dict)
    grants: dict = field(default_factory=dict)
    refresh_tokens: dict = field(default_factory=dict)
    access_tokens: dict = field(default_factory=dict)
    bearers: dict = field(default_factory=dict)
    calls: Counter = field(default_factory=Counter)
    # Per login name, how many times a revoke ended that user's sign-in here (their SSO).
    sign_ins_ended: Counter = field(default_factory=Counter)
    log: list = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def record(self, endpoint, params):
        """Count a call to an endpoint and keep what it received, for tests and demos."""
        with self.lock:
            self.calls[endpoint] += 1
            self.log.append({"endpoint": endpoint, "at": time.time(), "params": dict(params)})
            del self.log[:-500]

    def sign(self, claims, kid=None):
        """Sign claims as an RS256 JWT with the sandbox key."""
        header = {"alg": "RS256", "typ": "JWT"}
        if kid:
            header["kid"] = kid
        return jwt.encode(header, claims, self.key)

    def verify(self, token):
        """Return the claims of an unexpired JWT signed by the sandbox, or None."""
        try:
            claims = jwt.decode(token, self.key, algorithms=["RS256"]).claims
        except (JoseError, ValueError):
            return None
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
            return None
        return claims

    def new_grant(self, client_id, user, refresh_token):
        """Start a grant for a user's consent with its first refresh token."""
        with self.lock:
            grant = Grant(secrets.token_hex(8), client_id, user, refresh_token)
            self.grants[grant.grant_id] = grant
            self.refresh_tokens[refresh_token] = grant.grant_id
            return grant

    def rotate(self, grant, refresh_token):
        """Replace a grant's refresh token; the old one stops working at once."""
        with self.lock:
            self.refresh_tokens.pop(grant.refresh_token, None)
            grant.refresh_token = refresh_token
            self.refresh_tokens[refresh_token] = grant.grant_id

    def grant_for_refresh_token(self, refresh_token):
        """Return the live grant whose current refresh token this is, or None."""
        with self.lock:
            grant = self.grants.get(self.refresh_tokens.get(refresh_token or ""))
            return grant if grant and not grant.revoked else None

    def bind_access_token(self, token, grant, lifetime):
        """Make an opaque user access token speak for a grant for `lifetime` seconds."""
        with self.lock:
            self.access_tokens[token] = (grant.grant_id, time.time() + lifetime)

    def grant_for_access_token(self, access_token):
        """Return the grant that issued a valid, unexpired user access token, or None."""
        with self.lock:
            grant_id, expires_at = self.access_tokens.get(access_token or "", (None, 0))
            grant = self.grants.get(grant_id)
            if grant is None or grant.revoked or expires_at <= time.time():
                return None
            return grant

    def revoke(self, grant):
        """End a grant: its refresh and access tokens stop working, and, as in LivePerson,
        the user's sign-in here ends too (the next authorize asks for a password)."""
        with self.lock:
            grant.revoked = True
            self.refresh_tokens.pop(grant.refresh_token, None)
            self.sign_ins_ended[grant.user.login_name] += 1

    def authenticate(self, authorization):
        """Return the Principal behind an `Authorization: Bearer …` value, or None."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        with self.lock:
            user = self.bearers.get(token)
        if user:
            return Principal("user", user=user)
        grant = self.grant_for_access_token(token)
        if grant:
            return Principal("user", grant.client_id, grant.user)
        # App tokens stay JWTs: the official clients decode them to read `exp`.
        claims = self.verify(token)
        if not claims or claims.get("aud") != self.account_id or claims.get("sub"):
            return None
        return Principal("app", claims.get("azp"))
